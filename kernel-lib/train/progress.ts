/**
 * Progress display. Terminal: one bar redrawn in place on stderr. Elsewhere (logs, notebooks
 * without a display callback): a compact line at most every ~5% of the run. Updates happen at
 * metric reads only, so the display adds no device reads.
 */

import type { PROGRESS_MODES } from '../config/fields.ts';
import { stderrClosedBy, writeStderr } from '../util/log.ts';

export interface ProgressInfo {
  step: number;
  steps: number;
  loss: number;
  tokensPerSec: number;
  evalLoss?: number;
  /** The step of that evaluation. */
  evalStep?: number;
  elapsedSec: number;
}

export type ProgressMode = (typeof PROGRESS_MODES)[number];

export type ProgressSink = (p: ProgressInfo) => void;

export function fmtRate(r: number): string {
  return r >= 1e6 ? `${(r / 1e6).toFixed(2)}M` : r >= 1e3 ? `${(r / 1e3).toFixed(1)}k` : r.toFixed(0);
}

export function progressLine(p: ProgressInfo): string {
  const ev = p.evalLoss === undefined ? '' : `  val ${p.evalLoss.toFixed(3)}@${p.evalStep}`;
  return `step ${p.step}/${p.steps}  loss ${p.loss.toFixed(3)}${ev}  ${fmtRate(p.tokensPerSec)} tok/s  ${p.elapsedSec.toFixed(0)}s`;
}

/** A sink writing to stderr in the given mode. */
export function terminalProgress(mode: ProgressMode, stream: NodeJS.WriteStream = process.stderr): { update: ProgressSink; done: () => void } {
  const bar = mode === 'bar' || (mode === 'auto' && stream.isTTY === true);
  // Through the log's writer on stderr: once stderr is closed, lines go to the run's stderr.log (util/log.ts).
  const write = (text: string) => {
    if (stream !== process.stderr) stream.write(text);
    else if (!bar || stderrClosedBy() === null) writeStderr(text); // a bar is not redrawn into a file
  };
  let lastLine = -1;
  let drawn = false;
  return {
    update: (p) => {
      if (mode === 'none') return;
      if (bar) {
        const width = 24;
        const filled = Math.round((width * p.step) / p.steps);
        write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${progressLine(p)}\x1b[K`);
        drawn = true;
      } else {
        const bucket = Math.floor((20 * p.step) / p.steps);
        if (bucket !== lastLine || p.step === p.steps) {
          lastLine = bucket;
          write(`[switchyard] ${progressLine(p)}\n`);
        }
      }
    },
    done: () => {
      if (drawn) write('\n');
    },
  };
}
