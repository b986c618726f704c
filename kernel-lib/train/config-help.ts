/** Help for the training config keys: what each does, its type and default (`train --help`). */
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from './config.ts';

/** One line per key; a test checks that every key has one. The full story is in config.ts and model/config.ts. */
export const TRAIN_CONFIG_HELP: Record<keyof TrainConfig, string> = {
  name: 'run name: the run directory is <outDir>/<name> (one path component)',
  outDir: 'folder that holds run directories',
  backend: 'tfjs backend: auto (hardware GPU, else tensorflow, wasm, cpu), webgpu, tensorflow, wasm, cpu',
  seed: 'seed for weights, dropout/jitter noise and data order',
  resume: 'continue from the run directory\'s checkpoint when there is one (false: refuse an existing run)',
  corpus: "'brown', or a .txt (documents between blank lines) or .jsonl ({\"text\": …} per line) file of your own",
  vocabSize: 'vocabulary size, including <pad> <unk> <eos> (built from the training split)',
  splitSeed: 'seed of the train/validation/test document split',
  seqLen: 'S: tokens per sequence',
  batchSize: 'B: sequences per batch; one routing group is all B·S tokens',
  dModel: 'D: model width',
  numHeads: 'H: attention heads (must divide D)',
  numLayers: 'Transformer blocks',
  dFf: 'F: hidden width of the dense FFN and of each expert',
  expertDff: 'hidden width of each expert; null = dFf (top-2 with dFf/2 is FLOP-matched to dense)',
  ffn: "'moe': every sparseEvery-th FFN is an MoE layer; 'dense': none is",
  sparseEvery: 'block i is sparse when i % sparseEvery = sparseEvery − 1 (2: every other; 0: none)',
  router: "MoE router: top1 (Switch), topk (GShard), expert-choice (needs allowExpertChoice)",
  numExperts: 'E: experts per MoE layer',
  k: 'experts per token for router topk',
  capacityFactor: 'training capacity factor (C = ceil(cf·k·T/E)); null = dropless',
  evalCapacityFactor: 'capacity factor in evaluation (Switch evaluates at 2.0); null = dropless',
  balanceCoef: 'load-balancing loss coefficient α (Switch eq. 4)',
  zCoef: 'router z-loss coefficient (ST-MoE)',
  jitterEps: 'multiplicative jitter ε on the router input when training; 0 = off',
  expertDropout: 'dropout on the experts\' hidden activations when training',
  activation: 'FFN and expert activation: relu or gelu',
  dropout: 'dropout on embeddings, attention probabilities and sublayer outputs when training',
  initScale: 'init scale s: truncated normal σ = sqrt(s / fan_in) (Switch: 0.1)',
  routerDtype: "router logits in float32 (Switch's selective precision) or rounded to bfloat16 (emulated)",
  tiedEmbeddings: 'output projection = token embeddingᵀ',
  allowExpertChoice: 'permit router expert-choice in a causal LM (it lets later tokens decide earlier ones\' routing)',
  steps: 'training steps in all (a finished run asked for more is extended)',
  lr: 'peak learning rate',
  minLr: 'learning rate at the end of decay',
  warmupSteps: 'linear warm-up steps',
  decay: 'decay after warm-up: cosine, linear or none',
  weightDecay: 'AdamW decoupled weight decay on matrices',
  beta1: 'Adam β1 (first-moment decay)',
  beta2: 'Adam β2 (second-moment decay)',
  epsilon: 'Adam ε (added to the root of the second moment)',
  gradClip: 'clip gradients to this global L2 norm; 0 = off',
  logEvery: 'read metrics back from the device every this many steps',
  evalEvery: 'evaluate every this many steps (0 = only at the end)',
  evalBatches: 'validation batches per evaluation (a fixed set)',
  finalEvalBatches: 'validation batches of the final evaluation; 0 = the whole validation split',
  checkpointEvery: 'checkpoint every this many steps (0 = only at the end and when stopped)',
  routingEvery: 'routing snapshot of a fixed validation sample (experts, drops per token) at step 0, every this many steps and at the end; 0 = never',
  routingBatches: 'validation batches in the routing sample',
  progress: 'progress display: auto, bar, lines or none',
};

export function formatConfigHelp(): string {
  const rows = Object.entries(DEFAULT_TRAIN_CONFIG).map(([k, v]) => [`--${k}=${JSON.stringify(v)}`, TRAIN_CONFIG_HELP[k as keyof TrainConfig]] as const);
  const width = Math.max(...rows.map(([a]) => a.length));
  return 'config keys (--key=value; defaults shown):\n' + rows.map(([a, b]) => `  ${a.padEnd(width)}  ${b}`).join('\n');
}
