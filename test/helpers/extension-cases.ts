// Worked conformance cases of the format's extensions (a router bias, shared experts), built
// with the float64 reference (reference-moe.ts; gradients by central differences, every entry
// away from a routing or relu change). `npx tsx test/helpers/extension-cases.ts` rewrites the
// files in test/fixtures/conformance/; test/moe-extensions.test.ts checks that the reference
// reproduces the format's own examples, so these answers rest on the same rules.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../../kernel-lib/util/seed.ts';
import {
  finiteDifferences, hasNearTie, normal, paramNamesOf, randomInputs, randomMatrix, referenceMoe,
  type Nested, type RefConfig, type RefInputs, type Shape,
} from './reference-moe.ts';

export interface ExtensionShape extends Shape {
  /** shared experts (0: none) */
  S: number;
  /** their hidden width */
  Fs: number;
}

const round = (v: number): number => Number(v.toPrecision(17));

/** Shapes a flat list of gradient entries like the parameter. */
function reshapeLike(template: Nested, flat: number[]): Nested {
  let i = 0;
  const walk = (node: Nested): Nested => (Array.isArray(node) ? node.map(walk) : flat[i++]);
  return walk(template);
}

/** The case JSON of the format: inputs, and the reference's answer (gradients when `cotangent`). */
export function caseJson(cfg: RefConfig, inputs: RefInputs, cotangent?: number[][]): Record<string, unknown> {
  const out = referenceMoe(cfg, inputs);
  const expected: Record<string, unknown> = {
    y: out.y,
    expertIndex: out.expertIndex,
    expertCounts: out.expertCounts,
    droppedFraction: out.droppedFraction,
    balanceLoss: out.balanceLoss,
    zLoss: out.zLoss,
  };
  if (cotangent) {
    const grads: Record<string, Nested> = {};
    for (const name of paramNamesOf(inputs)) {
      const { fd } = finiteDifferences(cfg, inputs, cotangent, name);
      const missing = fd.filter((v) => v === null).length;
      if (missing) throw new Error(`caseJson: ${missing} entries of ${name} sit at a routing or relu change; draw another case`);
      grads[name] = reshapeLike(inputs[name] as Nested, (fd as number[]).map(round));
    }
    expected.grads = grads;
  }
  const { router, k, capacityFactor, activation, balanceCoef, zCoef } = cfg;
  return {
    config: { router, k: router === 'topk' ? k : 1, capacityFactor, activation, balanceCoef, zCoef },
    x: inputs.x,
    routerWeight: inputs.routerWeight,
    w1: inputs.w1,
    w2: inputs.w2,
    ...(cotangent ? { cotangent } : {}),
    ...(inputs.routerBias ? { routerBias: inputs.routerBias } : {}),
    ...(inputs.sharedW1 ? { sharedW1: inputs.sharedW1, sharedW2: inputs.sharedW2 } : {}),
    expected,
  };
}

/** Random inputs with shared experts (S > 0) and a router bias of scale `biasScale` (> 0). */
export function randomExtensionInputs(rng: Rng, s: ExtensionShape, biasScale: number): RefInputs {
  const inputs = randomInputs(rng, s);
  if (biasScale > 0) inputs.routerBias = Array.from({ length: s.E }, () => normal(rng, biasScale));
  if (s.S > 0) {
    inputs.sharedW1 = Array.from({ length: s.S }, () => randomMatrix(rng, s.D, s.Fs, 1 / Math.sqrt(s.D)));
    inputs.sharedW2 = Array.from({ length: s.S }, () => randomMatrix(rng, s.Fs, s.D, 1 / Math.sqrt(s.Fs)));
  }
  return inputs;
}

/** Tokens whose chosen experts (in order) differ with the bias from without it. */
export function choicesMovedByBias(cfg: RefConfig, inputs: RefInputs): number {
  if (!inputs.routerBias) return 0;
  const key = (inp: RefInputs) => referenceMoe(cfg, inp).assignments.filter((a) => a.rank >= 0).sort((a, b) => a.token - b.token || a.rank - b.rank).map((a) => `${a.token}:${a.expert}`);
  const a = key(inputs);
  const b = key({ ...inputs, routerBias: undefined });
  return new Set(a.filter((v, i) => v !== b[i]).map((v) => v.split(':')[0])).size;
}

/**
 * Draws inputs until no decision is near a tie and, with a bias, the bias moves the choices of
 * at least `moved` tokens; `accept` may refuse a draw too.
 */
export function drawExtensionInputs(
  cfg: RefConfig,
  s: ExtensionShape,
  seed: number,
  biasScale: number,
  o: { moved?: number; accept?: (inputs: RefInputs, cotangent: number[][]) => boolean } = {},
): { inputs: RefInputs; cotangent: number[][] } {
  const rng = new Rng(seed);
  for (let draw = 0; draw < 200; draw++) {
    const inputs = randomExtensionInputs(rng, s, biasScale);
    const cotangent = randomMatrix(rng, s.T, s.D, 1);
    if (hasNearTie(cfg, inputs, 1e-3)) continue;
    if (biasScale > 0 && choicesMovedByBias(cfg, inputs) < (o.moved ?? 2)) continue;
    if (o.accept && !o.accept(inputs, cotangent)) continue;
    return { inputs, cotangent };
  }
  throw new Error(`drawExtensionInputs: no usable draw for seed ${seed}`);
}

/** A case with gradients: a draw where every gradient entry has a finite difference. */
export function drawExtensionCase(cfg: RefConfig, s: ExtensionShape, seed: number, biasScale: number): Record<string, unknown> {
  let json: Record<string, unknown> | undefined;
  drawExtensionInputs(cfg, s, seed, biasScale, {
    accept: (inputs, cotangent) => {
      try {
        json = caseJson(cfg, inputs, cotangent);
        return true;
      } catch {
        return false;
      }
    },
  });
  return json!;
}

/**
 * Exact ties in probs + bias: a zero router gives every expert probability 1/E exactly (in
 * float32 too), and dyadic biases keep the sums exact, so equal scores stay equal on every
 * backend and the lower index must win. Forward only: any perturbation of the router breaks the ties.
 */
export function tieCase(cfg: RefConfig, s: Shape, bias: number[], seed: number): Record<string, unknown> {
  const rng = new Rng(seed);
  const inputs = randomInputs(rng, s);
  inputs.routerWeight = inputs.routerWeight.map((row) => row.map(() => 0));
  inputs.routerBias = bias;
  return caseJson(cfg, inputs);
}

const cfgOf = (router: RefConfig['router'], k: number, capacityFactor: number | null): RefConfig => ({ router, k, capacityFactor, activation: 'relu', balanceCoef: 0.01, zCoef: 0.001 });

/** The worked cases, by file name. */
export function extensionCases(): Record<string, Record<string, unknown>> {
  return {
    // top-2 with a bias that moves some tokens' choices and drops at capacity factor 1.
    'ext-top2-bias.json': drawExtensionCase(cfgOf('topk', 2, 1.0), { T: 12, D: 6, E: 4, F: 5, S: 0, Fs: 0 }, 1801, 0.15),
    // top-3 of 5, a bias and two shared experts of another width, dropless.
    'ext-top3-bias-shared-dropless.json': drawExtensionCase(cfgOf('topk', 3, null), { T: 10, D: 5, E: 5, F: 4, S: 2, Fs: 3 }, 1802, 0.1),
    // top-1 with a bias and heavy dropping (C = 1).
    'ext-top1-bias-drop.json': drawExtensionCase(cfgOf('top1', 1, 0.25), { T: 12, D: 6, E: 4, F: 5, S: 0, Fs: 0 }, 1803, 0.2),
    // Expert choice with two shared experts (no bias: expert choice takes none).
    'ext-expert-choice-shared.json': drawExtensionCase(cfgOf('expert-choice', 1, 1.0), { T: 8, D: 4, E: 4, F: 5, S: 2, Fs: 6 }, 1804, 0),
    // Ties in probs + bias, for every token: experts 0 and 1 tie for first place (0 first, 1
    // second), 3 and 4 for third (3 chosen, 4 not).
    'ext-top3-bias-ties.json': tieCase(cfgOf('topk', 3, 1.0), { T: 10, D: 4, E: 5, F: 5 }, [0.125, 0.125, 0, 0.0625, 0.0625], 1805),
    // Experts 1 and 3 tie first (1 chosen); without the bias every expert ties and 0 would be.
    'ext-top1-bias-ties.json': tieCase(cfgOf('top1', 1, 1.0), { T: 8, D: 4, E: 4, F: 5 }, [0, 0.25, 0.125, 0.25], 1806),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = fileURLToPath(new URL('../fixtures/conformance/', import.meta.url));
  for (const [file, c] of Object.entries(extensionCases())) {
    writeFileSync(join(dir, file), JSON.stringify(c) + '\n');
    console.log(`wrote ${join(dir, file)}`);
  }
}
