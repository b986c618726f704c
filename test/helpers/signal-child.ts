/**
 * A process whose "step" never ends once a stop is asked for: it can only end through
 * stopOnSignals' stop-at-once rule, which the signals test exercises with real signals.
 */
import { stopOnSignals } from '../../kernel-lib/cli/signals.ts';

const stop = stopOnSignals('the test child');
stop.signal.addEventListener('abort', () => process.stderr.write('stopping gracefully\n'));
setInterval(() => {}, 1000); // a step that never finishes
process.stderr.write('ready\n');
