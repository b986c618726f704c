/**
 * The worked examples of docs/scaling-out.md: bytes moved by expert-parallel all-to-all per
 * training step for the Switch Transformer configurations, computed by `allToAllCost`
 * (kernel-lib/moe/all-to-all.ts). `npx tsx scripts/scaling-out-table.ts` prints the Markdown
 * table; a test checks that the document holds exactly this output.
 */
import { pathToFileURL } from 'node:url';
import { allToAllCost } from '../kernel-lib/moe/all-to-all.ts';

/** A Switch configuration: what the cost depends on, and what checks it against the paper's parameter count. */
export interface SwitchConfig {
  name: string;
  /** E */
  experts: number;
  /** D (d_model) */
  dModel: number;
  /** F (d_ff) of each expert, and its weight matrices (2, or 3 with GEGLU): for the parameter check only. */
  dFf: number;
  matrices: 2 | 3;
  /** MoE layers, encoder and decoder together. */
  moeLayers: number;
  capacityFactor: number;
  /** Total parameters the paper gives (Switch Table 9), billions. */
  paperParamsB: number;
}

/** Tokens per batch in the paper's protocol for these models: 2^20. */
export const TOKENS_PER_BATCH = 2 ** 20;

export const SWITCH_CONFIGS: SwitchConfig[] = [
  { name: 'Switch-Base', experts: 128, dModel: 768, dFf: 3072, matrices: 2, moeLayers: 12, capacityFactor: 1.25, paperParamsB: 7 },
  { name: 'Switch-Large', experts: 128, dModel: 1024, dFf: 4096, matrices: 2, moeLayers: 24, capacityFactor: 1.25, paperParamsB: 26 },
  { name: 'Switch-XXL', experts: 128, dModel: 4096, dFf: 10240, matrices: 3, moeLayers: 24, capacityFactor: 1.25, paperParamsB: 395 },
  { name: 'Switch-C', experts: 2048, dModel: 2080, dFf: 6144, matrices: 2, moeLayers: 30, capacityFactor: 1.0, paperParamsB: 1571 },
];

/** Devices in the examples: 32 (four 8-GPU nodes), and one device per expert. */
export const DEVICE_COUNTS = (c: SwitchConfig): number[] => [32, c.experts];

const gb = (bytes: number) => (bytes / 1e9).toFixed(1);
const tb = (bytes: number) => (bytes / 1e12).toFixed(2);

/** The Markdown table: one row per configuration and device count. */
export function scalingOutTable(): string {
  const head = [
    '| model | E | D | MoE layers | capacity factor | expert parameters (paper: total) | devices P | C per expert | GB per device per step | of which padding | TB per step, all devices |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const rows = SWITCH_CONFIGS.flatMap((c) =>
    DEVICE_COUNTS(c).map((P) => {
      const r = allToAllCost({ experts: c.experts, tokens: TOKENS_PER_BATCH, dModel: c.dModel, k: 1, capacityFactor: c.capacityFactor, devices: P, bytesPerElement: 2, moeLayers: c.moeLayers });
      const expertParams = c.experts * c.moeLayers * c.matrices * c.dModel * c.dFf;
      const padding = 1 - r.payloadBytesPerStep / r.bytesPerStep;
      return `| ${c.name} | ${c.experts} | ${c.dModel} | ${c.moeLayers} | ${c.capacityFactor.toFixed(2)} | ${(expertParams / 1e9).toFixed(1)}B (${c.paperParamsB}B) | ${P} | ${r.capacity} | ${gb(r.bytesPerDevicePerStep)} | ${(padding * 100).toFixed(0)} % | ${tb(r.bytesPerStep)} |`;
    }),
  );
  return [...head, ...rows].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.stdout.write(scalingOutTable() + '\n');
