/**
 * `train [--config file] [--key=value …] [--restart]`: trains a language model; see kernel-lib/train.
 *
 * Exit status: 0 completed (or already finished: left as it is), 2 bad input or a refused run
 * (nothing written), 3 diverged, 130 / 143 stopped by SIGINT / SIGTERM after writing a
 * checkpoint (run the same command again to resume).
 */
import { formatConfigHelp } from '../train/config-help.ts';
import type { TrainConfig } from '../train/config.ts';
import { loadTrainConfig } from '../train/load-config.ts';
import { train, TrainingDiverged } from '../train/trainer.ts';
import { log } from './common.ts';
import { stopOnSignals } from './signals.ts';

export const TRAIN_USAGE = `usage: switchyard train [--config file.ts|file.json] [--key=value …] [--restart]

  --config <file>  a Partial<TrainConfig>: .ts/.js (default export) or .json
  --restart        start afresh even if the run directory holds an earlier run; that run is
                   first moved aside whole, as <name>.replaced-<time> (nothing is deleted)

A run directory (<outDir>/<name>) resumes where it stopped, is left as it is once finished, and
is extended when --steps grows. One process per run directory (a lock). Ctrl-C or SIGTERM stops
after the current step with a checkpoint (exit 130 / 143); a second signal (a second or more
later) stops at once.
Exit status: 0 done, 2 bad input or refused, 3 diverged, 130 / 143 stopped by a signal.
`;

export async function trainCommand(args: string[]): Promise<number> {
  let file: string | undefined;
  let restart = false;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--help') {
      process.stdout.write(`${TRAIN_USAGE}\n${formatConfigHelp()}\n`);
      return 0;
    }
    if (a === '--config') {
      file = args[++i];
      if (file === undefined || file.startsWith('--')) throw new Error('train: --config needs a file');
    } else if (a.startsWith('--config=')) file = a.slice('--config='.length);
    else if (a === '--restart') restart = true;
    else rest.push(a);
  }
  const cfg = await loadTrainConfig(file, rest);
  return trainAsCommand(cfg, restart);
}

/**
 * Trains `cfg` as a command does (`train`, `exp run-one`): SIGINT/SIGTERM stop it gracefully,
 * the result goes to stdout as JSON, a summary to stderr; returns the documented exit status.
 */
export async function trainAsCommand(cfg: TrainConfig, restart = false): Promise<number> {
  const stop = stopOnSignals(`run ${cfg.name}`);
  try {
    const result = await train(cfg, { signal: stop.signal, restart });
    const e = result.finalEval;
    log(`${result.status} after ${result.steps} steps in ${result.runDir}${e ? `: validation loss ${e.loss.toFixed(4)} (neg. log perplexity ${e.negLogPerplexity.toFixed(4)}), accuracy ${(100 * e.accuracy).toFixed(1)}% at step ${e.step}` : ''}`);
    process.stdout.write(JSON.stringify(result) + '\n');
    if (result.status === 'interrupted') return stop.exitCode() ?? 130;
    return result.status === 'diverged' ? 3 : 0;
  } catch (err) {
    if (err instanceof TrainingDiverged) {
      log(err.message);
      process.stdout.write(JSON.stringify(err.result) + '\n');
      return 3;
    }
    throw err;
  } finally {
    stop.dispose();
  }
}
