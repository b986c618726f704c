/** What resume tests compare between a resumed run and an uninterrupted one. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readMetrics } from '../../kernel-lib/train/trainer.ts';

/** Per training row: step, loss, gradient norm and the MoE layers' metrics (as JSON). */
export const metricsOf = (runDir: string) => readMetrics(runDir).train.map((r) => [r.step, r.loss, r.gradNorm, JSON.stringify(r.moe)]);

/** The bytes of the run's newest checkpoint. */
export const lastCheckpoint = (dir: string) =>
  readFileSync(join(dir, 'checkpoints', readdirSync(join(dir, 'checkpoints')).filter((f) => f.endsWith('.bin')).sort().pop()!));
