/**
 * Training progress in a notebook: one output updated in place (a progress bar and the latest
 * step, loss, validation loss and speed), for `train(cfg, { onProgress: progress.update })`.
 * Outside a notebook it prints compact lines to stderr, like the CLI.
 */
import { progressLine, terminalProgress, type ProgressInfo, type ProgressSink } from '../train/progress.ts';
import { escapeHtml } from '../report/escape.ts';
import { inKernel, newDisplayId, sendDisplay } from './kernel.ts';

export interface ProgressDisplay {
  /** Pass as `onProgress`. */
  update: ProgressSink;
  /** Adds a closing note (e.g. the run's status) to the same output. */
  done: (note?: string) => void;
}

/** Least time between two redraws; the last step is always drawn. */
const MIN_INTERVAL_MS = 250;

/** @param title shown before the bar (e.g. the run's name). */
export function progressDisplay(title = 'training'): ProgressDisplay {
  if (!inKernel()) {
    const sink = terminalProgress('lines');
    return { update: sink.update, done: (note) => { sink.done(); if (note) process.stderr.write(`[switchyard] ${title}: ${note}\n`); } };
  }
  const id = newDisplayId();
  let shown = false;
  let last: ProgressInfo | null = null;
  let lastDraw = 0;
  const draw = (note?: string) => {
    const p = last;
    const line = p ? progressLine(p) : 'starting';
    const bar = p ? `<progress max="${p.steps}" value="${p.step}" style="width:12em;vertical-align:middle"></progress> ` : '';
    const tail = note ? ` — ${escapeHtml(note)}` : '';
    sendDisplay(
      {
        'text/html': `<div class="switchyard-progress"><b>${escapeHtml(title)}</b> ${bar}<code>${escapeHtml(line)}</code>${tail}</div>`,
        'text/plain': `${title}: ${line}${note ? ` — ${note}` : ''}`,
      },
      { displayId: id, update: shown },
    );
    shown = true;
    lastDraw = Date.now();
  };
  return {
    update: (p) => {
      last = p;
      if (p.step >= p.steps || Date.now() - lastDraw >= MIN_INTERVAL_MS) draw();
    },
    done: (note) => draw(note),
  };
}
