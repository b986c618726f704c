/** `bench moe-layer …` and `bench train-step …`: see kernel-lib/bench/. */
import { benchMoeLayer, type MoeBenchRow } from '../bench/moe-layer.ts';
import { benchTrainStep, type TrainBenchRow } from '../bench/train-step.ts';
import { checkTensorSizes, moeLayerTensors, trainStepTensors } from '../bench/limits.ts';
import { ROUTER_NAMES, type RouterName } from '../moe/config.ts';
import { formatOptions, parseArgs, type OptionSpecs } from './args.ts';
import { COMMON_OPTIONS, log, startBackend } from './common.ts';

const shared: OptionSpecs = {
  warmup: { type: 'integer', default: 3, help: 'untimed warm-up steps' },
  repeats: { type: 'integer', default: 10, help: 'timed steps (the median is reported)' },
  json: { type: 'boolean', default: false, help: 'one JSON line per configuration on stdout' },
};

export const moeLayerOptions: OptionSpecs = {
  tokens: { type: 'integer', default: 2048, help: 'T: tokens per routing group' },
  dModel: { type: 'integer', default: 256, help: 'D: model width' },
  dFf: { type: 'integer', default: 1024, help: 'F: expert hidden width' },
  experts: { type: 'integer-list', default: [1, 8, 64], help: 'E values, comma-separated' },
  router: { type: 'string', choices: ROUTER_NAMES, default: 'top1', help: 'router' },
  k: { type: 'integer', default: 2, help: 'k for router topk' },
  capacityFactor: { type: 'number-or-null', default: 1.25, help: "capacity factor, or 'null' for dropless" },
  seed: { type: 'integer', default: 1, help: 'seed for weights and inputs' },
  ...shared,
};

export const trainStepOptions: OptionSpecs = {
  dModel: { type: 'integer', default: 256, help: 'D' },
  numLayers: { type: 'integer', default: 4, help: 'blocks (every other FFN sparse)' },
  numHeads: { type: 'integer', default: 4, help: 'H' },
  dFf: { type: 'integer', default: 1024, help: 'F of the dense FFN and of a top-1 expert (top-2 experts get F/2)' },
  experts: { type: 'integer', default: 8, help: 'E per MoE layer' },
  seqLen: { type: 'integer', default: 128, help: 'S' },
  batchSize: { type: 'integer', default: 16, help: 'B' },
  vocabSize: { type: 'integer', default: 8000, help: 'V' },
  capacityFactor: { type: 'number-or-null', default: 1.0, help: "capacity factor, or 'null' for dropless" },
  ...shared,
};

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
  // Sizes are checked before the backend starts: an impossible size fails at once, naming it.
  const sizes = what === 'moe-layer' ? moeLayerTensors(o as Parameters<typeof moeLayerTensors>[0]) : trainStepTensors({ ...(o as Parameters<typeof trainStepTensors>[0]), numExperts: o.experts as number });
  checkTensorSizes(sizes, `bench ${what}`);
  const device = await startBackend(o);
  if (!device.gpu) log(`note: ${device.backend} is not a hardware GPU; absolute times are CPU times, compare ratios only`);
  const out = (line: string, row: object) => process.stdout.write((o.json ? JSON.stringify(row) : line) + '\n');
  if (what === 'moe-layer') {
    await benchMoeLayer(
      {
        tokens: o.tokens as number, dModel: o.dModel as number, dFf: o.dFf as number, experts: o.experts as number[],
        router: o.router as RouterName, k: o.k as number, capacityFactor: o.capacityFactor as number | null,
        warmup: o.warmup as number, repeats: o.repeats as number, seed: o.seed as number,
      },
      device,
      (r: MoeBenchRow) => {
        const ratios = r.kind === 'moe' ? `  ×${r.vsFewestExperts!.toFixed(2)} vs E=${(o.experts as number[])[0]}  ×${r.vsDense!.toFixed(2)} vs dense` : '';
        out(`${r.kind.padEnd(5)} E=${String(r.experts).padEnd(4)} C=${String(r.capacity ?? '-').padEnd(5)} rows=${String(r.rowsComputed ?? '-').padEnd(6)} ${r.medianMs.toFixed(1).padStart(9)} ms  ${r.gflops.toFixed(1).padStart(7)} GFLOP/s${ratios}`, r);
      },
    );
  } else {
    await benchTrainStep(
      {
        dModel: o.dModel as number, numLayers: o.numLayers as number, numHeads: o.numHeads as number, dFf: o.dFf as number,
        numExperts: o.experts as number, seqLen: o.seqLen as number, batchSize: o.batchSize as number, vocabSize: o.vocabSize as number,
        capacityFactor: o.capacityFactor as number | null, warmup: o.warmup as number, repeats: o.repeats as number,
      },
      device,
      (r: TrainBenchRow) => out(`${r.model.padEnd(6)} ${r.medianMs.toFixed(1).padStart(9)} ms/step  ${r.tokensPerSec.toFixed(0).padStart(8)} tok/s  ×${r.vsDense.toFixed(2)} vs dense  (${(r.trainingFlopsPerToken / 1e6).toFixed(2)} MFLOP/token)`, r),
    );
  }
  return 0;
}
