/**
 * Every setting of Switchyard, declared once (nanoGPT style: one flat list with its defaults):
 * its type, range or choices, default, help line and level — the innermost part that reads it:
 *
 *   layer (an MoE layer) ⊂ model (the Transformer LM) ⊂ run (a training run)
 *
 * A training run's config (`TrainConfig`) holds every field; the model's (`ModelConfig`) the
 * model and layer fields; an MoE layer's (`MoeConfig`) the layer fields. Each part takes its part
 * of a resolved config by key. `moeOnly`: given for a dense model, refused; `bookkeeping`: a run
 * resumes across a change of it. The checks across fields live with their level (moe/config.ts,
 * model/config.ts, train/config.ts); the machinery is schema.ts. This order is the order of a
 * run's saved config.json and of `train --help`.
 *
 * A new setting: one entry here (its type, range, default, help line and level); the code that
 * reads it takes it from the config of its part; a check against other settings is one rule at
 * its level. Run directories saved before it resume with its default.
 *
 * Letters (docs/glossary.md): V vocabulary, S sequence length, B batch, D model width, H heads,
 * F FFN hidden width, E experts, k experts per token, T tokens in a routing group, C capacity.
 */
import { BACKEND_NAMES } from '../backend/device.ts';
import { bool, choice, int, num, REQUIRED, text, type ValueOf } from './schema.ts';

/** Router names: `top1` Switch (Fedus et al. 2021), `topk` GShard-style (Lepikhin et al. 2020), `expert-choice` (Zhou et al. 2022). */
export const ROUTER_NAMES = ['top1', 'topk', 'expert-choice'] as const;
export const ACTIVATIONS = ['relu', 'gelu'] as const;
/**
 * Order in which token-choice assignments claim expert slots.
 * `choice`: every token's 1st choice in token order, then every 2nd choice, … (GShard §2.2;
 * the conformance rule). `token`: token 0's choices, then token 1's, … With k > 1, `choice`
 * lets a later token's 1st choice push out an earlier token's 2nd choice, so in a causal LM the
 * future changes the past; `token` keeps every token's routing a function of earlier tokens only.
 * With k = 1 the two are the same.
 */
export const PRIORITIES = ['choice', 'token'] as const;
/** Precision of the router logits (moe/bfloat16.ts emulates bfloat16). */
export const ROUTER_DTYPES = ['float32', 'bfloat16'] as const;
export const FFN_KINDS = ['dense', 'moe'] as const;
export const DECAYS = ['cosine', 'linear', 'none'] as const;
export const PROGRESS_MODES = ['auto', 'bar', 'lines', 'none'] as const;

/** The most steps a run may take: more is a typo (1e30) that would train for ever. */
export const MAX_STEPS = 1_000_000_000;

export const CONFIG_FIELDS = {
  // ---- run: where it lives, what it runs on
  name: text({ level: 'run', bookkeeping: true, default: 'run', pathComponent: true, help: 'run name: the run directory is <outDir>/<name> (one path component)' }),
  outDir: text({ level: 'run', bookkeeping: true, default: 'runs', help: 'folder that holds run directories' }),
  backend: choice(BACKEND_NAMES, { level: 'run', bookkeeping: true, default: 'auto', help: 'tfjs backend: auto (hardware GPU, else tensorflow, wasm, cpu), webgpu, tensorflow, wasm, cpu' }),
  seed: int({ level: 'run', default: 0, help: 'seed for weights, dropout/jitter noise and data order' }),
  resume: bool({ level: 'run', bookkeeping: true, default: true, help: "continue from the run directory's checkpoint when there is one (false: refuse an existing run)" }),
  /**
   * Start from another run's final weights (train/upcycle.ts): sparse upcycling (Komatsuzaki et
   * al. 2022, arXiv 2212.05055) where a block is dense in that run and an MoE layer here (every
   * expert and shared expert a copy of the dense FFN, the router as a fresh run initialises it),
   * a plain warm start where the shapes are the same (every weight copied). A path to a finished
   * run directory, relative to the working directory as outDir is. Read only when the run starts
   * afresh: a resumed run continues from its own checkpoint, whose state records the source
   * (path, step, SHA-256), so a run resumes across a change of it (bookkeeping: a moved source or
   * sweep folder). The optimizer state, step and learning-rate schedule start afresh. Unset (the
   * default): a fresh init. Absent from a run's config.json when unset, so configs and sweep
   * keys from before it are unchanged.
   */
  initFrom: text({ level: 'run', bookkeeping: true, default: undefined, help: "start from this finished run directory's final weights: its dense FFNs copied into every expert of MoE blocks (sparse upcycling), routers fresh; same shapes: a warm start. Unset: fresh init" }),

  // ---- data
  /** 'brown' (the Brown corpus, with tags and genres), or a `.txt` / `.jsonl` file of your own (data/text.ts). */
  corpus: text({ level: 'run', default: 'brown', help: "'brown', or a .txt (documents between blank lines) or .jsonl ({\"text\": …} per line) file of your own" }),
  /** V, including <pad> <unk> <eos>. A run asks for it; the model is given the size actually built (≤ asked), which the run's config.json records. */
  vocabSize: int({ level: 'model', min: 1, default: 8000, alone: REQUIRED, help: 'vocabulary size, including <pad> <unk> <eos> (built from the training split)' }),
  splitSeed: int({ level: 'run', default: 0, help: 'seed of the train/validation/test document split' }),
  batchSize: int({ level: 'run', min: 1, default: 16, help: 'B: sequences per batch; one routing group is all B·S tokens' }),

  // ---- model
  /** S: rows of the learned position embedding; inputs may be shorter. A model built alone defaults to 128. */
  seqLen: int({ level: 'model', min: 1, default: 64, alone: 128, help: 'S: tokens per sequence' }),
  dModel: int({ level: 'layer', min: 1, default: 128, alone: REQUIRED, help: 'D: model width' }),
  numHeads: int({ level: 'model', min: 1, default: 4, help: 'H: attention heads (must divide D)' }),
  numLayers: int({ level: 'model', min: 1, default: 4, help: 'Transformer blocks' }),
  /** F: hidden width of the dense FFN, and of each expert unless expertDff is set (Switch keeps them equal: same FLOPs per token for top-1). */
  dFf: int({ level: 'layer', min: 1, default: 512, alone: REQUIRED, help: 'F: hidden width of the dense FFN and of each expert' }),
  /**
   * Hidden width of each expert; null = dFf. Top-2 with expertDff = dFf/2 costs the same FLOPs
   * per token as a dense FFN of width dFf (the FLOP-matched comparison of Switch §2.3 / Fig. 6).
   */
  expertDff: int({ level: 'layer', min: 1, orNull: '= dFf', default: null, moeOnly: true, help: 'hidden width of each expert; null = dFf (top-2 with dFf/2 is FLOP-matched to dense)' }),
  /**
   * Shared experts (DeepSeekMoE, Dai et al. 2024, arXiv 2401.06066): dense FFNs of width
   * sharedDff that every token of an MoE layer passes through, added to the routed output with
   * weight 1; they enter neither the expert counts nor the dropped fraction nor the losses.
   */
  numSharedExperts: int({ level: 'layer', min: 0, default: 0, moeOnly: true, help: 'shared experts per MoE layer (DeepSeekMoE): dense FFNs every token passes through, added to the routed output' }),
  /** Hidden width of each shared expert; null = dFf. Set only with numSharedExperts > 0 (moe/config.ts). */
  sharedDff: int({ level: 'layer', min: 1, orNull: '= dFf', default: null, moeOnly: true, help: 'hidden width of each shared expert; null = dFf' }),
  /** 'moe': the blocks picked by sparseEvery have MoE FFNs; 'dense': every FFN is dense (the baseline). */
  ffn: choice(FFN_KINDS, { level: 'model', default: 'moe', help: "'moe': every sparseEvery-th FFN is an MoE layer; 'dense': none is" }),
  /** Block i is sparse when i % sparseEvery === sparseEvery − 1 (Switch §2, GShard: every other); 1 = every FFN, 0 = none (a sweep over it can include the dense end). */
  sparseEvery: int({ level: 'model', min: 0, default: 2, help: 'block i is sparse when i % sparseEvery = sparseEvery − 1 (2: every other; 0: none)' }),
  router: choice(ROUTER_NAMES, { level: 'layer', default: 'top1', moeOnly: true, help: 'MoE router: top1 (Switch), topk (GShard), expert-choice (needs allowExpertChoice)' }),
  numExperts: int({ level: 'layer', min: 1, default: 8, moeOnly: true, help: 'E: experts per MoE layer' }),
  /**
   * k: experts per token, read by router topk only (top1 sends each token to 1 expert; with
   * expert-choice each expert picks its tokens). A run's config keeps k as asked; the model and
   * its layers hold the k they route with (moe/config.ts `routedK`).
   */
  k: int({ level: 'layer', min: 1, default: 2, moeOnly: true, help: 'experts per token for router topk' }),
  /** Slot priority for token choice (see PRIORITIES): a layer built alone defaults to 'choice'; a causal LM's layers route by 'token'. */
  priority: choice(PRIORITIES, { level: 'layer', default: 'token', alone: 'choice', fixed: true, help: "slot priority of token choice: 'token' in a causal LM, 'choice' (GShard, conformance) for a layer of your own" }),
  /** Training capacity factor, C = ceil(cf·k·T/E) (Switch Table 1: 1.25); null = dropless (on cpu and wasm the MoE layer then reads its largest load back once per call; Switchyard's webgpu kernels need no read). */
  capacityFactor: num({ level: 'layer', min: 0, above: true, orNull: 'dropless', default: 1.25, moeOnly: true, help: 'training capacity factor (C = ceil(cf·k·T/E)); null = dropless' }),
  /** Capacity factor in evaluation (Switch §2.2 evaluates at 2.0). */
  evalCapacityFactor: num({ level: 'layer', min: 0, above: true, orNull: 'dropless', default: 2, moeOnly: true, help: 'capacity factor in evaluation (Switch evaluates at 2.0); null = dropless' }),
  /** Load-balancing loss coefficient α (Switch §2.2, eq. 4: 1e-2). */
  balanceCoef: num({ level: 'layer', min: 0, default: 1e-2, help: 'load-balancing loss coefficient α (Switch eq. 4)' }),
  /** Router z-loss coefficient (ST-MoE §3.3: 1e-3). */
  zCoef: num({ level: 'layer', min: 0, default: 1e-3, help: 'router z-loss coefficient (ST-MoE)' }),
  /**
   * γ of balancing without an auxiliary loss (Wang et al. 2024, arXiv 2408.15664; DeepSeek-V3):
   * each MoE layer holds a bias b[E] added to the router's probabilities to choose experts (not
   * to weigh them); after each training step `b_e += γ·sign(mean load − load_e)` from the step's
   * loads (moe/router-bias.ts). The bias is state, not a trained weight: saved in checkpoints and
   * reported in the metrics. 0 = off (no bias at all). Token-choice routers only.
   */
  biasUpdateRate: num({ level: 'layer', min: 0, default: 0, moeOnly: true, help: "γ: after each step an MoE layer's router bias moves b_e += γ·sign(mean load − load_e) (loss-free balancing; top1/topk); 0 = off" }),
  /** Multiplicative jitter ε on the router input only: x·U(1−ε, 1+ε) when training; 0 = off (Switch §2.4 used 1e-2 in experiments). */
  jitterEps: num({ level: 'layer', min: 0, max: 1, default: 0, moeOnly: true, help: 'multiplicative jitter ε on the router input when training; 0 = off' }),
  /** Dropout on the experts' hidden activations when training ("expert dropout", Switch §3: 0.4 when fine-tuning). */
  expertDropout: num({ level: 'layer', min: 0, max: 1, below: true, default: 0, moeOnly: true, help: "dropout on the experts' hidden activations when training" }),
  activation: choice(ACTIVATIONS, { level: 'layer', default: 'relu', help: 'FFN and expert activation: relu or gelu' }),
  /** Dropout rate when training: embeddings, attention probabilities, and each sublayer's output before its residual add. */
  dropout: num({ level: 'model', min: 0, max: 1, below: true, default: 0, help: 'dropout on embeddings, attention probabilities and sublayer outputs when training' }),
  /** Init scale s for every matrix: truncated normal σ = sqrt(s / fan_in) (Switch §2.4: 0.1, ten times below the usual 1.0). */
  initScale: num({ level: 'layer', min: 0, above: true, default: 0.1, help: 'init scale s: truncated normal σ = sqrt(s / fan_in) (Switch: 0.1)' }),
  /** Router logits in 'float32' (Switch's selective precision, §2.4) or rounded to 'bfloat16' before the softmax (emulated; Table 2's unstable case). */
  routerDtype: choice(ROUTER_DTYPES, { level: 'layer', default: 'float32', moeOnly: true, help: "router logits in float32 (Switch's selective precision) or rounded to bfloat16 (emulated)" }),
  /** Output projection = token embeddingᵀ (no separate [D,V] matrix). */
  tiedEmbeddings: bool({ level: 'model', default: true, help: 'output projection = token embeddingᵀ' }),
  /**
   * Permit router 'expert-choice'. Expert Choice lets each expert pick its top tokens from the
   * whole routing group, so in a causal LM whether a token is processed depends on later tokens.
   */
  allowExpertChoice: bool({ level: 'model', default: false, moeOnly: true, help: "permit router expert-choice in a causal LM (it lets later tokens decide earlier ones' routing)" }),

  // ---- optimisation
  steps: int({ level: 'run', bookkeeping: true, min: 1, max: MAX_STEPS, why: 'years of training at 10 steps/s', default: 1000, help: 'training steps in all (a finished run asked for more is extended)' }),
  lr: num({ level: 'run', min: 0, above: true, default: 1e-3, help: 'peak learning rate' }),
  /** In [0, lr] (train/config.ts). */
  minLr: num({ level: 'run', default: 1e-4, help: 'learning rate at the end of decay' }),
  warmupSteps: int({ level: 'run', min: 0, default: 100, help: 'linear warm-up steps' }),
  decay: choice(DECAYS, { level: 'run', default: 'cosine', help: 'decay after warm-up: cosine, linear or none' }),
  weightDecay: num({ level: 'run', min: 0, default: 0.01, help: 'AdamW decoupled weight decay on matrices' }),
  beta1: num({ level: 'run', min: 0, max: 1, below: true, default: 0.9, help: 'Adam β1 (first-moment decay)' }),
  beta2: num({ level: 'run', min: 0, max: 1, below: true, default: 0.98, help: 'Adam β2 (second-moment decay)' }),
  epsilon: num({ level: 'run', default: 1e-8, help: 'Adam ε (added to the root of the second moment)' }),
  gradClip: num({ level: 'run', min: 0, default: 1, help: 'clip gradients to this global L2 norm; 0 = off' }),

  // ---- bookkeeping
  /** Metrics are read back from the device every this many steps (never per step). */
  logEvery: int({ level: 'run', bookkeeping: true, min: 1, default: 10, help: 'read metrics back from the device every this many steps' }),
  evalEvery: int({ level: 'run', bookkeeping: true, min: 0, default: 200, help: 'evaluate every this many steps (0 = only at the end)' }),
  evalBatches: int({ level: 'run', min: 1, default: 8, help: 'validation batches per evaluation (a fixed set)' }),
  /** A run directory written before this key existed resumes with its default: its saved config is read back with the defaults filled in. */
  finalEvalBatches: int({ level: 'run', min: 0, default: 0, help: 'validation batches of the final evaluation; 0 = the whole validation split' }),
  checkpointEvery: int({ level: 'run', bookkeeping: true, min: 0, default: 200, help: 'checkpoint every this many steps (0 = only at the end and when stopped)' }),
  /** See train/routing-dump.ts. */
  routingEvery: int({ level: 'run', bookkeeping: true, min: 0, default: 0, help: 'routing snapshot of a fixed validation sample (experts, drops per token) at step 0, every this many steps and at the end; 0 = never' }),
  routingBatches: int({ level: 'run', min: 1, default: 8, help: 'validation batches in the routing sample' }),
  progress: choice(PROGRESS_MODES, { level: 'run', bookkeeping: true, default: 'auto', help: 'progress display: auto, bar, lines or none' }),
};

type Fields = typeof CONFIG_FIELDS;
type KeyAt<L> = { [K in keyof Fields]: Fields[K]['level'] extends L ? K : never }[keyof Fields];
type FixedKey = { [K in keyof Fields]: Fields[K] extends { fixed: true } ? K : never }[keyof Fields];
/** Fields unset unless given (`default: undefined`): optional keys. */
type UnsetKey = { [K in keyof Fields]: Fields[K] extends { default: undefined } ? K : never }[keyof Fields];
/** Every field's value, with its documentation. */
type Values = { -readonly [K in Exclude<keyof Fields, UnsetKey>]: ValueOf<Fields[K]> } & { -readonly [K in UnsetKey]?: ValueOf<Fields[K]> };

/** A training run's config: every field but those fixed inside the model. */
export type RunConfig = Pick<Values, Exclude<keyof Fields, FixedKey>>;
/** The model's config: the model's and its layers' fields. */
export type ModelValues = Pick<Values, KeyAt<'model' | 'layer'>>;
/** An MoE layer's config. */
export type LayerValues = Pick<Values, KeyAt<'layer'>>;
