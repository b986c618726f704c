/**
 * What a router returns. The layer switches on `kind` (flaxformer's RouterIndices vs RouterMask).
 * Letters: T tokens, E experts, C capacity, k choices per token.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Priority } from '../config.ts';
import type { RouterDtype } from '../bfloat16.ts';

/** Outputs every router shares: the router's view of the group and its auxiliary losses. */
export interface RouterProbs {
  /** float32[T,E] router logits (from the jittered router input when training). */
  logits: tf.Tensor2D;
  /** float32[T,E] softmax over experts, float32. */
  probs: tf.Tensor2D;
  /**
   * float32[T,E] what token choice ranks to choose experts: `probs + bias` with a router bias
   * (DeepSeek-V3's loss-free balancing), else `probs` itself. A constant to backprop: the gates
   * come from `probs` alone, and the bias carries no gradient.
   */
  scores: tf.Tensor2D;
  /** int32[T] each token's first choice: argmax of `scores` per token (ties: lowest index). */
  top1: tf.Tensor1D;
  /** Load-balancing loss E·Σ f_e·P_e, f_e the share of first choices (`top1`), no coefficient (Switch eq. 4). */
  balanceLoss: tf.Scalar;
  /** Router z-loss, no coefficient (ST-MoE eq. 5). */
  zLoss: tf.Scalar;
  /** Mean router entropy, nats. */
  entropy: tf.Scalar;
  /** Mean over tokens of the largest router probability (the top-1 gate): 1/E for a uniform router. */
  meanTopProb: tf.Scalar;
}

/** Token choice (top1, topk): each token picks k experts; experts keep the first C in priority order. */
export interface TokenChoiceRouting extends RouterProbs {
  kind: 'token-choice';
  k: number;
  /** C: slots per expert (for dropless, the largest load rounded up). */
  capacity: number;
  /** int32[k,T] row j = every token's (j+1)-th choice: rows are in priority order. */
  choices: tf.Tensor2D;
  /** float32[k,T] combine weights; 0 for dropped assignments; differentiable w.r.t. the router. */
  gates: tf.Tensor2D;
  /** int32[k,T] flat slot e·C + position for kept assignments, E·C (a trash row) for dropped. */
  slot: tf.Tensor2D;
  /** float32[E] assignments per expert before the capacity limit. */
  countsBefore: tf.Tensor1D;
  /** float32[E] assignments per expert kept. */
  countsKept: tf.Tensor1D;
}

/** Expert choice: each expert picks its C highest-scoring tokens (Zhou et al. 2022). */
export interface ExpertChoiceRouting extends RouterProbs {
  kind: 'expert-choice';
  capacity: number;
  /** int32[E,C] the tokens expert e took, best first. */
  tokenIndex: tf.Tensor2D;
  /** float32[E,C] probs[token, e] for those tokens; differentiable. */
  gates: tf.Tensor2D;
  /** float32[E] tokens whose argmax is e (what token choice would have sent). */
  countsBefore: tf.Tensor1D;
  /** float32[E] tokens each expert took (= C). */
  countsKept: tf.Tensor1D;
  /** float32[T] how many experts took each token. */
  coverage: tf.Tensor1D;
}

export type Routing = TokenChoiceRouting | ExpertChoiceRouting;

/** Per-call routing inputs. */
export interface RouteOptions {
  numExperts: number;
  k: number;
  /** Slot priority for token choice (default 'choice'; ignored by expert choice). */
  priority?: Priority;
  capacityFactor: number | null;
  /** Multiplicative jitter ε, applied only when `training` (router input only). */
  jitterEps: number;
  training: boolean;
  /** Seed for the jitter noise (the trainer passes one per step so runs are reproducible). */
  seed?: number;
  /** Precision of the logits (default 'float32'; 'bfloat16' rounds them, emulated). */
  routerDtype?: RouterDtype;
  /**
   * float32[E] router bias added to the probabilities to choose experts, not to weigh them
   * (loss-free balancing, Wang et al. 2024). Token choice only: expert choice refuses it.
   */
  bias?: tf.Tensor1D;
}

/** A router: from the (clean) layer input and router weight to routing instructions. */
export type Router = (x: tf.Tensor2D, routerWeight: tf.Tensor2D, opts: RouteOptions) => Routing;
