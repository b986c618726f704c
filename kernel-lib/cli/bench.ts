/** `bench moe-layer …` and `bench train-step …`: see kernel-lib/bench/. */
import { benchMoeLayer, type MoeBenchRow } from '../bench/moe-layer.ts';
import { benchTrainStep, type TrainBenchRow } from '../bench/train-step.ts';
import { checkTensorSizes, moeLayerTensors, trainStepTensors } from '../bench/limits.ts';
import { parseKernelSets } from '../bench/kernel-sets.ts';
import { ROUTER_NAMES, type RouterName } from '../moe/config.ts';
import { convertOption, formatOptions, parseArgs, type OptionSpecs } from './args.ts';
import { COMMON_OPTIONS, log, startBackend } from './common.ts';

const shared: OptionSpecs = {
  kernels: { type: 'string', default: 'ours', help: "MoE kernel sets timed side by side on webgpu, comma-separated: ours, register, tiled (our kernels, variant forced), builtin (tfjs-webgpu's ops)" },
  warmup: { type: 'integer', min: 0, default: 3, help: 'untimed warm-up steps' },
  repeats: { type: 'integer', min: 1, default: 10, help: 'timed steps (the median is reported)' },
  json: { type: 'boolean', default: false, help: 'one JSON line per configuration on stdout' },
};

/**
 * Layer sizes by name. `gpu` is sized for a GPU (about 0.2 TFLOP per step at E=1) with every
 * buffer within 128 MiB, the binding limit of lavapipe and the WebGPU default: E·D·F floats
 * per weight, so D = F = 1024 allows E ≤ 32.
 */
export const MOE_SHAPES: Record<string, { tokens: number; dModel: number; dFf: number; experts: number[] }> = {
  small: { tokens: 2048, dModel: 256, dFf: 1024, experts: [1, 8, 64] },
  gpu: { tokens: 16384, dModel: 1024, dFf: 1024, experts: [1, 8, 32] },
};

export const moeLayerOptions: OptionSpecs = {
  shape: { type: 'string', choices: Object.keys(MOE_SHAPES), default: 'small', help: `sizes: ${Object.entries(MOE_SHAPES).map(([n, v]) => `${n} (T=${v.tokens} D=${v.dModel} F=${v.dFf} E=${v.experts.join(',')})`).join(', ')}; the options below override` },
  tokens: { type: 'integer', min: 1, help: 'T: tokens per routing group (default from --shape)' },
  dModel: { type: 'integer', min: 1, help: 'D: model width (default from --shape)' },
  dFf: { type: 'integer', min: 1, help: 'F: expert hidden width (default from --shape)' },
  experts: { type: 'integer-list', min: 1, help: 'E values, comma-separated (default from --shape)' },
  router: { type: 'string', choices: ROUTER_NAMES, default: 'top1', help: 'router' },
  k: { type: 'integer', min: 1, default: 2, help: 'k for router topk' },
  capacityFactor: { type: 'string', default: '1.25', help: "capacity factors timed side by side, comma-separated; 'null' = dropless" },
  seed: { type: 'integer', default: 1, help: 'seed for weights and inputs' },
  ...shared,
};

export const trainStepOptions: OptionSpecs = {
  dModel: { type: 'integer', min: 1, default: 256, help: 'D' },
  numLayers: { type: 'integer', min: 1, default: 4, help: 'blocks (every other FFN sparse)' },
  numHeads: { type: 'integer', min: 1, default: 4, help: 'H' },
  dFf: { type: 'integer', min: 1, default: 1024, help: 'F of the dense FFN and of a top-1 expert (top-2 experts get F/2)' },
  experts: { type: 'integer', min: 1, default: 8, help: 'E per MoE layer' },
  seqLen: { type: 'integer', min: 1, default: 128, help: 'S' },
  batchSize: { type: 'integer', min: 1, default: 16, help: 'B' },
  vocabSize: { type: 'integer', min: 4, default: 8000, help: 'V (with <pad> <unk> <eos>)' },
  capacityFactor: { type: 'number-or-null', default: 1.0, help: "capacity factor, or 'null' for dropless" },
  ...shared,
};

/** `1.25,null` → [1.25, null], naming a bad value. */
function parseCapacityFactors(raw: string): (number | null)[] {
  return raw.split(',').map((part) => convertOption('capacityFactor', { type: 'number-or-null', help: '' }, part.trim()) as number | null);
}

export const BENCHMARKS: Record<string, OptionSpecs> = { 'moe-layer': moeLayerOptions, 'train-step': trainStepOptions };

export async function benchCommand(args: string[]): Promise<number> {
  const what = args[0] && !args[0].startsWith('--') ? args[0] : 'moe-layer';
  const specs = BENCHMARKS[what];
  if (!specs) throw new Error(`bench: unknown benchmark '${what}' (available: ${Object.keys(BENCHMARKS).join(', ')})`);
  const { options: o } = parseArgs(args[0] === what ? args.slice(1) : args, { ...COMMON_OPTIONS, ...specs }, `bench ${what}`);
  if (o.help) {
    process.stdout.write(`usage: switchyard bench ${what} [options]\n\n${formatOptions({ ...COMMON_OPTIONS, ...specs })}\n`);
    return 0;
  }
  const shape = { ...MOE_SHAPES[(o.shape as string | undefined) ?? 'small'], ...Object.fromEntries(['tokens', 'dModel', 'dFf', 'experts'].filter((key) => o[key] !== undefined).map((key) => [key, o[key]])) };
  const capacityFactors = what === 'moe-layer' ? parseCapacityFactors(o.capacityFactor as string) : [];
  // Sizes are checked before the backend starts: an impossible size fails at once, naming it.
  const sizes = what === 'moe-layer' ? moeLayerTensors({ ...shape, k: o.k as number, capacityFactors }) : trainStepTensors({ ...(o as Parameters<typeof trainStepTensors>[0]), numExperts: o.experts as number });
  checkTensorSizes(sizes, `bench ${what}`);
  const device = await startBackend(o);
  const kernels = parseKernelSets(o.kernels as string, device.backend);
  if (!device.gpu) log(`note: ${device.backend} is not a hardware GPU; absolute times are CPU times, compare ratios only`);
  const out = (line: string, row: object) => process.stdout.write((o.json ? JSON.stringify(row) : line) + '\n');
  if (what === 'moe-layer') {
    await benchMoeLayer(
      {
        tokens: shape.tokens, dModel: shape.dModel, dFf: shape.dFf, experts: shape.experts, kernels,
        router: o.router as RouterName, k: o.k as number, capacityFactors,
        warmup: o.warmup as number, repeats: o.repeats as number, seed: o.seed as number,
      },
      device,
      (r: MoeBenchRow) => {
        const ratios = r.kind === 'moe' ? `  ×${r.vsFewestExperts!.toFixed(2)} vs E=${shape.experts[0]}  ×${r.vsDense!.toFixed(2)} vs dense  ×${r.vsFirstCapacityFactor!.toFixed(2)} vs first cf` : '';
        out(`${r.kind.padEnd(5)} ${r.kernels.padEnd(8)} cf=${String(r.capacityFactor ?? (r.kind === 'moe' ? 'null' : '-')).padEnd(5)} E=${String(r.experts).padEnd(4)} C=${String(r.capacity ?? '-').padEnd(5)} rows=${String(r.rowsComputed ?? '-').padEnd(6)} ${r.medianMs.toFixed(1).padStart(9)} ms  ${r.gflops.toFixed(1).padStart(7)} GFLOP/s${ratios}`, r);
      },
    );
  } else {
    await benchTrainStep(
      {
        dModel: o.dModel as number, numLayers: o.numLayers as number, numHeads: o.numHeads as number, dFf: o.dFf as number,
        numExperts: o.experts as number, seqLen: o.seqLen as number, batchSize: o.batchSize as number, vocabSize: o.vocabSize as number,
        capacityFactor: o.capacityFactor as number | null, warmup: o.warmup as number, repeats: o.repeats as number, kernels,
      },
      device,
      (r: TrainBenchRow) => out(`${r.model.padEnd(6)} ${r.kernels.padEnd(8)} ${r.medianMs.toFixed(1).padStart(9)} ms/step  ${r.tokensPerSec.toFixed(0).padStart(8)} tok/s  ×${r.vsDense.toFixed(2)} vs dense  (${(r.trainingFlopsPerToken / 1e6).toFixed(2)} MFLOP/token)`, r),
    );
  }
  return 0;
}
