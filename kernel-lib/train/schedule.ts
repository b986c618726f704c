/** Learning-rate schedule: linear warm-up, then cosine or linear decay to minLr, or constant. */

import { DECAYS } from '../config/fields.ts';

export { DECAYS };
export type Decay = (typeof DECAYS)[number];

export interface ScheduleOptions {
  lr: number;
  minLr: number;
  warmupSteps: number;
  steps: number;
  decay: Decay;
}

/** Learning rate at 0-based `step`. */
export function learningRate(step: number, o: ScheduleOptions): number {
  if (step < o.warmupSteps) return (o.lr * (step + 1)) / o.warmupSteps;
  if (o.decay === 'none') return o.lr;
  const span = Math.max(1, o.steps - o.warmupSteps);
  const p = Math.min(1, (step - o.warmupSteps) / span);
  const shape = o.decay === 'cosine' ? 0.5 * (1 + Math.cos(Math.PI * p)) : 1 - p;
  return o.minLr + (o.lr - o.minLr) * shape;
}
