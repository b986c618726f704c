/**
 * What a Switch (token-choice) layer spread over several devices would move between them: the
 * bytes of expert-parallel all-to-all communication per training step. tfjs has no collective
 * communication, so Switchyard runs a layer on one device; this is the arithmetic for planning
 * beyond it (docs/scaling-out.md), not an implementation.
 *
 * The layout (Switch §2.2, GShard, Mesh TensorFlow): P devices, each holding E/P experts
 * (expert parallelism) and T/P of the step's T tokens (data parallelism). Each device routes
 * its tokens in groups of `groupSize` tokens and fills a fixed-shape dispatch buffer
 * [groups, E, C, D] (padding included: every expert gets C slots per group, used or not). An
 * all-to-all sends each expert's rows to the device that holds it; the rows for the device's
 * own E/P experts stay, so (P − 1)/P of the buffer crosses between devices. The expert outputs
 * come back the same way (the combine). Training moves four such buffers per MoE layer and
 * step: dispatch and combine forward, and their gradients backward.
 */
import { tokenChoiceCapacity } from './capacity.ts';

export interface AllToAllConfig {
  /** E: experts in the layer. */
  experts: number;
  /** T: tokens per training step, over all devices (the global batch). */
  tokens: number;
  /** D: model width; each dispatched token is a D-vector. */
  dModel: number;
  /** k: experts per token (1 for Switch; default 1). */
  k?: number;
  /** Capacity factor (Switch eq. 3); null = dropless, which has no fixed buffer (see {@link AllToAllCost.payloadBytesPerStep}). */
  capacityFactor: number | null;
  /** P: devices, each holding E/P experts and T/P tokens. */
  devices: number;
  /** Tokens per routing group (default T/P: each device routes its tokens as one group). */
  groupSize?: number;
  /** Bytes per element of the dispatched activations (default 2: bfloat16, as in Switch §2.4; 4 for float32). */
  bytesPerElement?: number;
  /** MoE layers in the model (default 1). */
  moeLayers?: number;
}

export interface AllToAllCost {
  /** C: slots per expert per routing group, `min(groupSize, ceil(capacityFactor · k · groupSize / E))`; null when dropless. */
  capacity: number | null;
  /** Routing groups per step, over all devices. */
  groups: number;
  /** Elements of the dispatch buffer over all devices, `groups · E · C · D` (0 when dropless). */
  bufferElements: number;
  /** Bytes that cross between devices in one all-to-all, all devices together: `bufferElements · (P − 1)/P · bytesPerElement`. */
  bytesPerAllToAll: number;
  /** The same per device: what each device sends (and receives). */
  bytesPerDevicePerAllToAll: number;
  /** All-to-alls per training step: 4 per MoE layer. */
  allToAllsPerStep: number;
  /** Bytes between devices per training step, all devices together (padded buffers; for dropless, the payload). */
  bytesPerStep: number;
  /** The same per device. */
  bytesPerDevicePerStep: number;
  /**
   * The tokens alone, without capacity padding: `k · T · D · bytesPerElement · (P − 1)/P` per
   * all-to-all, times the all-to-alls of a step. What a variable-size exchange would move when
   * routing is balanced, and the least any expert-parallel layout moves (fewer when tokens are dropped).
   */
  payloadBytesPerStep: number;
}

function positiveInteger(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new Error(`all-to-all cost: ${name} must be an integer ≥ 1, got ${v}`);
  return v;
}

/**
 * Bytes moved between devices by expert-parallel all-to-all for one training step.
 * @throws naming the value when the layout is impossible: E or T not divisible by P, a group
 *   size that does not divide a device's tokens, k > E, a capacity factor ≤ 0.
 */
export function allToAllCost(c: AllToAllConfig): AllToAllCost {
  const E = positiveInteger('experts (E)', c.experts);
  const T = positiveInteger('tokens (T)', c.tokens);
  const D = positiveInteger('dModel (D)', c.dModel);
  const k = positiveInteger('k', c.k ?? 1);
  const P = positiveInteger('devices (P)', c.devices);
  const bytes = positiveInteger('bytesPerElement', c.bytesPerElement ?? 2);
  const layers = positiveInteger('moeLayers', c.moeLayers ?? 1);
  if (k > E) throw new Error(`all-to-all cost: k = ${k} exceeds the ${E} experts`);
  if (E % P !== 0) throw new Error(`all-to-all cost: ${E} experts cannot be spread evenly over ${P} devices (E must be a multiple of P)`);
  if (T % P !== 0) throw new Error(`all-to-all cost: ${T} tokens cannot be split evenly over ${P} devices (T must be a multiple of P)`);
  const G = positiveInteger('groupSize', c.groupSize ?? T / P);
  if ((T / P) % G !== 0) throw new Error(`all-to-all cost: a group of ${G} tokens does not divide a device's ${T / P} tokens`);
  if (c.capacityFactor !== null && !(c.capacityFactor > 0 && Number.isFinite(c.capacityFactor))) throw new Error(`all-to-all cost: capacityFactor must be a number > 0 or null (dropless), got ${c.capacityFactor}`);

  // (P − 1)/P of what is exchanged crosses between devices (multiplied before dividing, so whole numbers stay whole).
  const crossing = (elements: number) => (elements * bytes * (P - 1)) / P;
  const allToAllsPerStep = 4 * layers;
  const groups = T / G;
  const capacity = tokenChoiceCapacity(c.capacityFactor, k, G, E);
  const payloadPerAllToAll = crossing(k * T * D);
  const bufferElements = capacity === null ? 0 : groups * E * capacity * D;
  const bytesPerAllToAll = capacity === null ? payloadPerAllToAll : crossing(bufferElements);
  return {
    capacity,
    groups,
    bufferElements,
    bytesPerAllToAll,
    bytesPerDevicePerAllToAll: bytesPerAllToAll / P,
    allToAllsPerStep,
    bytesPerStep: bytesPerAllToAll * allToAllsPerStep,
    bytesPerDevicePerStep: (bytesPerAllToAll * allToAllsPerStep) / P,
    payloadBytesPerStep: payloadPerAllToAll * allToAllsPerStep,
  };
}
