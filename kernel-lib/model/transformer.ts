/**
 * The decoder-only Transformer language model: token + learned position embeddings, pre-norm
 * blocks (causal self-attention, dense or MoE FFN), a final LayerNorm and an output projection
 * (tied to the token embedding by default). Letters: B batch, S positions, D model width,
 * V vocabulary, F FFN width, E experts.
 */
import * as tf from '@tensorflow/tfjs';
import { sumTensors } from '../util/sum.ts';
import { initDenseParams } from '../moe/dense.ts';
import { truncatedNormalInit } from '../moe/init.ts';
import { MoeLayer, type RoutingMetrics } from '../moe/layer.ts';
import { isMoeLayer, resolveModelConfig, type ModelConfig, type ModelConfigInput } from './config.ts';
import { maybeDropout, transformerBlock, type BlockParams } from './block.ts';
import { layerNorm, type LayerNormParams } from './layer-norm.ts';
import { deriveSeed, maybeSeed } from './seeds.ts';

export interface LmForwardOptions {
  /** Training: dropout, router jitter, expert dropout and the train capacity factor. Evaluation: none of the noise, eval capacity factor. */
  training: boolean;
  /** Seed for this call's noise (dropout, jitter); each layer and site derives its own. Omit for fresh noise. */
  seed?: number;
  /** Also return each token's argmax expert in every MoE layer's metrics (int32[B·S]). */
  returnExpertIndex?: boolean;
}

export interface LmOutput {
  /** float32[B,S,V] next-token logits. */
  logits: tf.Tensor3D;
  /** Σ over MoE layers of balanceCoef·balanceLoss + zCoef·zLoss (0 for a dense model): add it to the task loss. */
  auxLoss: tf.Scalar;
  /** Σ over MoE layers of the load-balancing loss, without coefficient. */
  balanceLoss: tf.Scalar;
  /** Σ over MoE layers of the router z-loss, without coefficient. */
  zLoss: tf.Scalar;
  /** One entry per MoE layer, in block order; the routing group is the B·S tokens in row-major order. */
  moe: { layer: number; metrics: RoutingMetrics }[];
}

export interface TransformerLMOptions {
  /** Init seed (default 0); every weight derives its own. */
  seed?: number;
  /**
   * Prefix for the tfjs variable names, which must be unique among live variables
   * (default: `lm<N>`, unique per process). `namedVariables()` keys never carry it.
   */
  name?: string;
}

let instances = 0;

/** Seed paths for non-block weights and noise (blocks use their index ≥ 0). */
const TOP = -1;
const TOP_SITE = { tokens: 0, positions: 1, head: 2, embedDropout: 3 } as const;
const BLOCK_INIT = { wq: 0, wk: 1, wv: 2, wo: 3, ffn: 4 } as const;

/**
 * A decoder-only Transformer LM holding its weights as named trainable `tf.Variable`s.
 *
 * Variable names (stable, used by checkpoints): `embed/tokens` [V,D], `embed/positions`
 * [seqLen,D], `block{i}/ln1/{gain,bias}` [D], `block{i}/attn/{wq,wk,wv,wo}` [D,D],
 * `block{i}/ln2/{gain,bias}` [D], then either `block{i}/ffn/w1` [D,F], `block{i}/ffn/w2` [F,D]
 * or `block{i}/moe/router` [D,E], `block{i}/moe/w1` [E,D,F], `block{i}/moe/w2` [E,F,D] (and with
 * S = numSharedExperts > 0, `block{i}/moe/shared_w1` [S,D,Fs], `block{i}/moe/shared_w2` [S,Fs,D]);
 * `lnFinal/{gain,bias}` [D]; `head/w` [D,V] only when embeddings are untied. State that is not
 * trained (`namedState`): with biasUpdateRate > 0, `block{i}/moe/router_bias` [E], zeros at first.
 *
 * Init (Switch §2.4): every matrix is truncated normal with σ = sqrt(initScale / fan_in) via
 * `truncatedNormalInit`. The embedding tables are drawn as their transpose [D,·] so σ =
 * sqrt(initScale / D), the σ the tied output projection `h·Eᵀ` (fan_in D) wants. LayerNorm gains
 * start at 1, biases at 0.
 */
export class TransformerLM {
  readonly config: ModelConfig;
  private readonly named: Record<string, tf.Variable> = {};
  private readonly blocks: BlockParams[] = [];
  private readonly lnFinal: LayerNormParams;
  private readonly tokens: tf.Variable<tf.Rank.R2>;
  private readonly positions: tf.Variable<tf.Rank.R2>;
  private readonly head: tf.Variable<tf.Rank.R2> | null;
  /** The MoE layers that hold a router bias (biasUpdateRate > 0), by block index. */
  private readonly biased = new Map<number, MoeLayer>();
  private readonly prefix: string;
  private disposed = false;

  constructor(config: ModelConfigInput, opts: TransformerLMOptions = {}) {
    this.config = resolveModelConfig(config);
    const { vocabSize: V, seqLen, dModel: D, dFf: F, numLayers, initScale: s } = this.config;
    const seed = opts.seed ?? 0;
    this.prefix = opts.name ?? `lm${instances++}`;
    try {
      const embedding = (rows: number, site: number) =>
        tf.tidy(() => tf.transpose(truncatedNormalInit([D, rows], s, deriveSeed(seed, TOP, site))) as tf.Tensor2D); // [rows,D]
      this.tokens = this.add('embed/tokens', embedding(V, TOP_SITE.tokens));
      this.positions = this.add('embed/positions', embedding(seqLen, TOP_SITE.positions));
      for (let i = 0; i < numLayers; i++) {
        const at = (slot: number) => deriveSeed(seed, i, slot);
        const matrix = (name: string, slot: number) => this.add(`block${i}/attn/${name}`, truncatedNormalInit([D, D], s, at(slot)) as tf.Tensor2D);
        const ln1 = this.layerNormVars(`block${i}/ln1`);
        const attn = { wq: matrix('wq', BLOCK_INIT.wq), wk: matrix('wk', BLOCK_INIT.wk), wv: matrix('wv', BLOCK_INIT.wv), wo: matrix('wo', BLOCK_INIT.wo) };
        const ln2 = this.layerNormVars(`block${i}/ln2`);
        let ffn: BlockParams['ffn'];
        if (isMoeLayer(this.config, i)) {
          // The model's config holds its layers' fields: each MoE layer takes it as its own.
          const layer = new MoeLayer(this.config, { seed: at(BLOCK_INIT.ffn), name: `${this.prefix}/block${i}/moe` });
          this.named[`block${i}/moe/router`] = layer.params.routerWeight;
          this.named[`block${i}/moe/w1`] = layer.params.w1;
          this.named[`block${i}/moe/w2`] = layer.params.w2;
          if (layer.params.sharedW1 && layer.params.sharedW2) {
            this.named[`block${i}/moe/shared_w1`] = layer.params.sharedW1;
            this.named[`block${i}/moe/shared_w2`] = layer.params.sharedW2;
          }
          if (layer.routerBias) this.biased.set(i, layer);
          ffn = { kind: 'moe', config: layer.config, params: layer.routerBias ? { ...layer.params, routerBias: layer.routerBias } : layer.params };
        } else {
          const init = initDenseParams(D, F, s, at(BLOCK_INIT.ffn));
          ffn = { kind: 'dense', w1: this.add(`block${i}/ffn/w1`, init.w1), w2: this.add(`block${i}/ffn/w2`, init.w2) };
        }
        this.blocks.push({ ln1, attn, ln2, ffn });
      }
      this.lnFinal = this.layerNormVars('lnFinal');
      this.head = this.config.tiedEmbeddings ? null : this.add('head/w', truncatedNormalInit([D, V], s, deriveSeed(seed, TOP, TOP_SITE.head)) as tf.Tensor2D);
    } catch (err) {
      this.dispose();
      throw err;
    }
  }

  /** Wraps an init tensor in a trainable variable (and frees the init tensor). */
  private add<R extends tf.Rank>(name: string, init: tf.Tensor<R>): tf.Variable<R> {
    try {
      const v = tf.variable(init, true, `${this.prefix}/${name}`);
      this.named[name] = v;
      return v;
    } finally {
      init.dispose();
    }
  }

  private layerNormVars(name: string): LayerNormParams {
    const D = this.config.dModel;
    return { gain: this.add(`${name}/gain`, tf.ones([D]) as tf.Tensor1D), bias: this.add(`${name}/bias`, tf.zeros([D]) as tf.Tensor1D) };
  }

  /**
   * Next-token logits for a batch of sequences. Runs in its own tidy: only the returned tensors
   * survive (the caller disposes them, e.g. by calling forward inside tf.tidy). Differentiable
   * with tf.variableGrads; nothing is read back to the CPU, except that on cpu and wasm a
   * dropless MoE layer (capacityFactor null) reads its largest expert load once per call.
   *
   * Only shapes and dtype are checked: ids outside [0, V) are not (that would need a read-back).
   * The cpu and wasm gather kernels throw on them; other backends' gathers are not checked.
   *
   * @param ids int32[B,S] token ids, S ≤ seqLen (position p uses position embedding row p).
   */
  forward(ids: tf.Tensor2D, opts: LmForwardOptions): LmOutput {
    this.checkIds(ids);
    return tf.tidy(() => this.run(ids, opts) as unknown as tf.TensorContainer) as unknown as LmOutput;
  }

  private checkIds(ids: tf.Tensor): void {
    if (this.disposed) throw new Error('TransformerLM.forward: the model has been disposed');
    if (!(ids instanceof tf.Tensor)) throw new Error('TransformerLM.forward: ids must be an int32[B,S] tensor');
    if (ids.rank !== 2) throw new Error(`TransformerLM.forward: ids must be int32[B,S], got rank ${ids.rank} shape [${ids.shape.join(',')}]`);
    if (ids.dtype !== 'int32') throw new Error(`TransformerLM.forward: ids must be int32, got ${ids.dtype}`);
    const [B, S] = ids.shape;
    if (B < 1 || S < 1) throw new Error(`TransformerLM.forward: ids has shape [${B},${S}], need at least one sequence and one position`);
    if (S > this.config.seqLen) throw new Error(`TransformerLM.forward: ids has S = ${S} positions, more than seqLen = ${this.config.seqLen}`);
  }

  private run(ids: tf.Tensor2D, opts: LmForwardOptions): LmOutput {
    const cfg = this.config;
    const [B, S] = ids.shape;
    const { dModel: D, vocabSize: V, dropout } = cfg;
    const training = opts.training;
    const tok = tf.gather(this.tokens, ids); // [B,S,D]
    const pos = tf.slice(this.positions, [0, 0], [S, D]); // [S,D]
    let h = maybeDropout(tf.add(tok, pos), dropout, training, maybeSeed(opts.seed, TOP, TOP_SITE.embedDropout)) as tf.Tensor3D; // [B,S,D]
    const moe: LmOutput['moe'] = [];
    const aux: tf.Scalar[] = [];
    for (let i = 0; i < this.blocks.length; i++) {
      const out = transformerBlock(h, this.blocks[i], {
        numHeads: cfg.numHeads,
        activation: cfg.activation,
        dropout,
        training,
        seed: maybeSeed(opts.seed, i),
        returnExpertIndex: opts.returnExpertIndex,
      });
      h = out.h;
      if (out.moe) {
        moe.push({ layer: i, metrics: out.moe.metrics });
        aux.push(out.moe.auxLoss);
      }
    }
    const hn = tf.reshape(layerNorm(h, this.lnFinal), [B * S, D]); // [B·S,D]
    const logits2 = this.head ? tf.matMul(hn, this.head) : tf.matMul(hn, this.tokens, false, true); // [B·S,V]
    const sum = (xs: tf.Scalar[]) => (xs.length === 0 ? tf.scalar(0) : xs.length === 1 ? xs[0] : sumTensors(xs));
    return {
      logits: tf.reshape(logits2, [B, S, V]) as tf.Tensor3D, // [B,S,V]
      auxLoss: sum(aux),
      balanceLoss: sum(moe.map((m) => m.metrics.balanceLoss)),
      zLoss: sum(moe.map((m) => m.metrics.zLoss)),
      moe,
    };
  }

  /** Trainable variables in a fixed order (embeddings, blocks in order, final norm, head). */
  variables(): tf.Variable[] {
    return Object.values(this.named);
  }

  /** Variables by stable name (no instance prefix), e.g. `block0/attn/wq`. */
  namedVariables(): Record<string, tf.Variable> {
    return { ...this.named };
  }

  /** The router biases (loss-free balancing) by stable name, `block{i}/moe/router_bias`; empty when biasUpdateRate is 0. */
  namedState(): Record<string, tf.Variable> {
    return Object.fromEntries([...this.biased].map(([i, layer]) => [`block${i}/moe/router_bias`, layer.routerBias!]));
  }

  /**
   * After a training step: each biased MoE layer's `b_e += γ·sign(mean load − load_e)` from its
   * loads (moe/router-bias.ts), on the device; `ok` false changes nothing.
   * @returns the updated biases, float32[E] each, in block order.
   */
  updateState(loads: { layer: number; countsBefore: tf.Tensor1D }[], ok: tf.Scalar): { layer: number; routerBias: tf.Tensor1D }[] {
    const out: { layer: number; routerBias: tf.Tensor1D }[] = [];
    for (const { layer, countsBefore } of loads) {
      const moe = this.biased.get(layer);
      if (!moe) continue;
      moe.updateRouterBias(countsBefore, ok);
      out.push({ layer, routerBias: moe.routerBias! });
    }
    return out;
  }

  /** Indices of the blocks whose FFN is an MoE layer. */
  moeLayers(): number[] {
    return this.blocks.flatMap((b, i) => (b.ffn.kind === 'moe' ? [i] : []));
  }

  /** Frees every variable; the model can't be used afterwards. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const v of Object.values(this.named)) v.dispose();
    for (const layer of this.biased.values()) layer.routerBias!.dispose();
  }
}
