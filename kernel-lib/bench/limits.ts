/**
 * Size checks made before a backend starts, so that an impossible benchmark size fails at once
 * with the sizes named, instead of "Invalid typed array length" or a device error minutes in.
 */

/** Elements of the largest float32 tensor allowed: 4 GiB, more than any tfjs backend can hold in one tensor (wasm's whole heap is at most 4 GiB). */
export const MAX_TENSOR_ELEMENTS = 2 ** 30;

export interface PlannedTensor {
  /** What it is, with its letters (`expert hidden [E,C,F]`). */
  name: string;
  shape: number[];
}

/** Throws naming the first tensor over {@link MAX_TENSOR_ELEMENTS}, its shape and size, and the options that set it. */
export function checkTensorSizes(tensors: PlannedTensor[], options: string): void {
  for (const t of tensors) {
    const n = t.shape.reduce((a, d) => a * d, 1);
    if (!Number.isFinite(n) || n > MAX_TENSOR_ELEMENTS) {
      const gib = (n * 4) / 2 ** 30;
      throw new Error(
        `${options}: the ${t.name} tensor would be float32[${t.shape.join(',')}] (${gib >= 1e3 ? gib.toExponential(1) : gib.toFixed(1)} GiB); ` +
          `one tensor can hold at most ${MAX_TENSOR_ELEMENTS * 4 / 2 ** 30} GiB`,
      );
    }
  }
}

/** The largest tensors of `bench moe-layer` (a dropless layer's buffers are counted at their worst case, C = T). */
export function moeLayerTensors(o: { tokens: number; dModel: number; dFf: number; experts: number[]; k: number; capacityFactors: (number | null)[] }): PlannedTensor[] {
  const { tokens: T, dModel: D, dFf: F, k } = o;
  const cf = o.capacityFactors.includes(null) ? null : Math.max(...(o.capacityFactors as number[]));
  return [
    { name: 'input [T,D]', shape: [T, D] },
    { name: 'dense hidden [T,k·F]', shape: [T, k * F] },
    ...o.experts.flatMap((E) => {
      const C = cf === null ? T : Math.ceil((cf * k * T) / E);
      return [
        { name: `expert weights [E,D,F] at E=${E}`, shape: [E, D, F] },
        { name: `expert hidden [E,C,F] at E=${E}`, shape: [E, C, F] },
        { name: `router logits [T,E] at E=${E}`, shape: [T, E] },
      ];
    }),
  ];
}

/** The largest tensors of `bench train-step`. */
export function trainStepTensors(o: { dModel: number; numHeads: number; dFf: number; numExperts: number; seqLen: number; batchSize: number; vocabSize: number; capacityFactor: number | null }): PlannedTensor[] {
  const T = o.batchSize * o.seqLen;
  const C = o.capacityFactor === null ? T : Math.ceil((o.capacityFactor * 2 * T) / o.numExperts);
  return [
    { name: 'logits [B·S,V]', shape: [T, o.vocabSize] },
    { name: 'attention scores [B,H,S,S]', shape: [o.batchSize, o.numHeads, o.seqLen, o.seqLen] },
    { name: 'FFN hidden [B·S,F]', shape: [T, o.dFf] },
    { name: 'expert hidden [E,C,F]', shape: [o.numExperts, C, o.dFf] },
    { name: 'expert weights [E,D,F]', shape: [o.numExperts, o.dModel, o.dFf] },
  ];
}
