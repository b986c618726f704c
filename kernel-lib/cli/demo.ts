/**
 * `demo` (what `npm start` runs for now): a Switch layer whose router starts skewed trains with
 * load-balancing coefficients 0, 1e-2 and 1e-1; it prints per-expert loads, dropped fraction and
 * losses before and after, then checks the shipped conformance cases on the same backend.
 */
import * as tf from '@tensorflow/tfjs';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeDevice } from '../backend/index.ts';
import { readCase } from '../conformance/case.ts';
import { checkCase, runCase } from '../conformance/run.ts';
import { tokenChoiceCapacity } from '../moe/capacity.ts';
import { MoeLayer } from '../moe/layer.ts';
import type { OptionSpecs } from './args.ts';
import { startBackend } from './common.ts';

export const demoOptions: OptionSpecs = {
  steps: { type: 'integer', default: 150, min: 1, max: 100_000, help: 'training steps per run' },
  experts: { type: 'integer', default: 8, min: 1, max: 1024, help: 'E' },
  tokens: { type: 'integer', default: 512, min: 1, max: 1 << 20, help: 'T per step' },
};

const FIXTURES = join(fileURLToPath(new URL('.', import.meta.url)), '../../test/fixtures/conformance');

async function snapshot(layer: MoeLayer, x: tf.Tensor2D) {
  const out = tf.tidy(() => {
    const o = layer.apply(x, { training: true });
    return [o.metrics.countsBefore, o.metrics.countsKept, o.metrics.droppedFraction, o.metrics.balanceLoss, o.metrics.entropy];
  });
  const [before, kept, dropped, balance, entropy] = await Promise.all(out.map((t) => t.data()));
  tf.dispose(out);
  return { before: Array.from(before), kept: Array.from(kept), dropped: dropped[0], balance: balance[0], entropy: entropy[0] };
}

export async function demoCommand(o: Record<string, unknown>): Promise<number> {
  const device = await startBackend(o);
  const E = o.experts as number;
  const T = o.tokens as number;
  const steps = o.steps as number;
  const D = 32;
  const say = (s = '') => process.stdout.write(s + '\n');
  say(`Switchyard demo: ${describeDevice(device)}`);
  say(`A Switch (top-1) layer, E=${E} experts, T=${T} tokens per group, D=${D}, capacity factor 1.0 (C = ${tokenChoiceCapacity(1.0, 1, T, E)}).`);
  say('Its router starts skewed towards expert 0. It trains on a regression target with and without');
  say('the load-balancing loss (Switch eq. 4) at three coefficients α, from the same start.');
  const x = tf.randomNormal([T, D], 0, 1, 'float32', 11) as tf.Tensor2D;
  const target = tf.tidy(() => tf.tanh(tf.matMul(x, tf.randomNormal([D, D], 0, 0.3, 'float32', 12)))) as tf.Tensor2D;
  const show = (label: string, s: Awaited<ReturnType<typeof snapshot>>) => {
    say(`\n${label}`);
    say(`  tokens per expert (wanted)  ${s.before.map((v) => String(Math.round(v)).padStart(4)).join(' ')}`);
    say(`  tokens per expert (kept)    ${s.kept.map((v) => String(Math.round(v)).padStart(4)).join(' ')}`);
    say(`  dropped ${(100 * s.dropped).toFixed(1)}%   balance loss ${s.balance.toFixed(3)} (1.0 = balanced)   router entropy ${s.entropy.toFixed(3)} nats (max ${Math.log(E).toFixed(3)})`);
  };
  for (const [i, balanceCoef] of [0, 1e-2, 1e-1].entries()) {
    const layer = new MoeLayer({ dModel: D, dFf: 64, numExperts: E, router: 'top1', capacityFactor: 1.0, balanceCoef }, { seed: 7 });
    // Skew the router: every token prefers expert 0 at first, the failure the balance loss exists for.
    layer.params.routerWeight.assign(tf.tidy(() => tf.add(layer.params.routerWeight, tf.mul(tf.oneHot(tf.fill([D], 0, 'int32'), E).cast('float32'), 0.5))));
    if (i === 0) show('Before training', await snapshot(layer, x));
    const opt = tf.train.adam(1e-2);
    for (let step = 0; step < steps; step++) {
      tf.tidy(() => {
        opt.minimize(() => {
          const out = layer.apply(x, { training: true, seed: step });
          return tf.add(tf.losses.meanSquaredError(target, tf.add(x, out.y)), out.auxLoss) as tf.Scalar;
        }, false, layer.variables());
      });
    }
    opt.dispose();
    show(`After ${steps} Adam steps on MSE + ${balanceCoef} · balance loss`, await snapshot(layer, x));
    layer.dispose();
  }
  tf.dispose([x, target]);

  say('\nConformance cases (independent float64 reference):');
  let failed = 0;
  for (const f of readdirSync(FIXTURES).filter((n) => n.endsWith('.json')).sort()) {
    const c = readCase(join(FIXTURES, f));
    const chk = checkCase(await runCase(c), c.expected!);
    if (!chk.pass) failed++;
    say(`  ${chk.pass ? 'pass' : 'FAIL'}  ${f}${chk.pass ? '' : '  ' + chk.failures.join('; ')}`);
  }
  say('\nNext: `npm run --silent cli -- bench moe-layer`, `npm run --silent cli -- conformance test/fixtures/conformance/*.json`.');
  return failed ? 1 : 0;
}
