/** `bench moe-layer …`: see kernel-lib/bench/moe-layer.ts. */
import { benchMoeLayer, type MoeBenchRow } from '../bench/moe-layer.ts';
import { ROUTER_NAMES, type RouterName } from '../moe/config.ts';
import type { OptionSpecs } from './args.ts';
import { log, startBackend } from './common.ts';

export const benchOptions: OptionSpecs = {
  tokens: { type: 'integer', default: 2048, help: 'T: tokens per routing group' },
  dModel: { type: 'integer', default: 256, help: 'D: model width' },
  dFf: { type: 'integer', default: 1024, help: 'F: expert hidden width' },
  experts: { type: 'integer-list', default: [1, 8, 64], help: 'E values, comma-separated' },
  router: { type: 'string', choices: ROUTER_NAMES, default: 'top1', help: 'router' },
  k: { type: 'integer', default: 2, help: 'k for router topk' },
  capacityFactor: { type: 'number-or-null', default: 1.25, help: "capacity factor, or 'null' for dropless" },
  warmup: { type: 'integer', default: 3, help: 'untimed warm-up steps' },
  repeats: { type: 'integer', default: 10, help: 'timed steps (the median is reported)' },
  seed: { type: 'integer', default: 1, help: 'seed for weights and inputs' },
  json: { type: 'boolean', default: false, help: 'one JSON line per configuration on stdout' },
};

export async function benchCommand(positional: string[], o: Record<string, unknown>): Promise<number> {
  const what = positional[0] ?? 'moe-layer';
  if (what !== 'moe-layer') throw new Error(`bench: unknown benchmark '${what}' (available: moe-layer)`);
  const device = await startBackend(o);
  if (!device.gpu) log(`note: ${device.backend} is not a hardware GPU; absolute times are CPU times, compare ratios only`);
  const print = (r: MoeBenchRow) => {
    if (o.json) process.stdout.write(JSON.stringify(r) + '\n');
    else {
      const ratios = r.kind === 'moe' ? `  ×${r.vsFewestExperts!.toFixed(2)} vs E=${(o.experts as number[])[0]}  ×${r.vsDense!.toFixed(2)} vs dense` : '';
      process.stdout.write(`${r.kind.padEnd(5)} E=${String(r.experts).padEnd(4)} C=${String(r.capacity ?? '-').padEnd(5)} ${r.medianMs.toFixed(1).padStart(9)} ms  ${r.gflops.toFixed(1).padStart(7)} GFLOP/s${ratios}\n`);
    }
  };
  await benchMoeLayer(
    {
      tokens: o.tokens as number,
      dModel: o.dModel as number,
      dFf: o.dFf as number,
      experts: o.experts as number[],
      router: o.router as RouterName,
      k: o.k as number,
      capacityFactor: o.capacityFactor as number | null,
      warmup: o.warmup as number,
      repeats: o.repeats as number,
      seed: o.seed as number,
    },
    device,
    print,
  );
  return 0;
}
