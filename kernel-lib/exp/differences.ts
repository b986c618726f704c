/**
 * The section "Differences from the paper": every way the runs of a sweep depart from the
 * Switch Transformer's set-up (Fedus, Zoph & Shazeer 2021, JMLR 2022), read from the resolved
 * configs the runs were made with (so it cannot drift from what ran), then the experiment's own.
 *
 * The paper's set-up, as it reports it (§2, §3, Appendix): T5's span-corruption pre-training on
 * C4 (encoder–decoder, a 32k SentencePiece vocabulary), Switch-Base 12 blocks with D = 768 and
 * F = 3072, a Switch FFN in every other block, 2^20 tokens per batch for 100k+ steps, Adafactor
 * with an inverse-square-root learning-rate decay, bfloat16 with a float32 router ("selective
 * precision"), weights initialised from a truncated normal of scale 0.1, dropout 0.1, the
 * load-balancing loss with α = 1e-2 and no router z-loss (that is ST-MoE's, Zoph et al. 2022),
 * capacity factors 1.0–2.0, timings on TPUs where every capacity slot is computed.
 */
import type { ReportSection } from '../report/types.ts';
import type { LoadedRun, SweepFile } from './types.ts';

type RunConfig = SweepFile['runs'][number]['config'];

/** The distinct values of one config key over the sweep's runs, as text ("0.01" or "0 and 0.001"). */
function valuesOf(configs: RunConfig[], read: (c: RunConfig) => unknown): string {
  const seen = [...new Set(configs.map((c) => JSON.stringify(read(c) ?? null)))].map((s) => String(JSON.parse(s)));
  return seen.length <= 1 ? (seen[0] ?? '–') : `${seen.slice(0, -1).join(', ')} and ${seen.at(-1)}`;
}

/** The departures every experiment shares, from the runs' resolved configs. */
export function commonDifferences(sweep: SweepFile, runs: LoadedRun[]): string[] {
  const configs = sweep.runs.map((r) => r.config);
  const c = configs[0];
  const tokens = c.batchSize * c.seqLen;
  const v = (read: (c: RunConfig) => unknown) => valuesOf(configs, read);
  const anyZ = configs.some((x) => (x.zCoef ?? 0) > 0);
  const backends: string[] = [...new Set(runs.flatMap((r) => (r.device?.backend ? [r.device.backend] : [])))];
  const lines = [
    `Task and data: a causal, decoder-only word-level language model on the Brown corpus (vocabulary ${v((x) => x.vocabSize)} words), not span corruption on C4 with an encoder–decoder; quality is validation negative log perplexity per word.`,
    `Scale: ${c.numLayers} blocks, D = ${c.dModel}, F = ${c.dFf}, ${tokens} tokens per step for ${sweep.steps} steps (${((tokens * sweep.steps) / 1e6).toFixed(2)}M tokens), against Switch-Base's 12 blocks, D = 768, F = 3072 and about 2^20 tokens per step for 100k+ steps; the output projection is tied to the embedding (${v((x) => x.tiedEmbeddings)}).`,
    `Optimiser: AdamW (β = ${c.beta1}, ${c.beta2}; weight decay ${v((x) => x.weightDecay)}) with a learning rate of ${v((x) => x.lr)}, ${v((x) => x.warmupSteps)} warm-up steps, then ${v((x) => (x.decay === 'none' ? 'held constant' : `${x.decay} decay to ${x.minLr}`))}; the paper used Adafactor with an inverse-square-root decay.`,
    `Gradient clipping at global norm ${v((x) => x.gradClip)} (0 = off); Adafactor's update clipping has no counterpart here.`,
    anyZ
      ? `Router z-loss (ST-MoE, not Switch) with coefficient ${v((x) => x.zCoef)}.`
      : 'No router z-loss, as in the Switch paper.',
    `Precision: float32 throughout${configs.some((x) => x.routerDtype === 'bfloat16') ? ', except arms whose router rounds its logits and probabilities to bfloat16 (an emulation of the rounding only; everything else stays float32)' : ''}; the paper trains in bfloat16 with a float32 router.`,
    `Initialisation scale ${v((x) => x.initScale)} (the paper's recommended 0.1); dropout ${v((x) => x.dropout)} (the paper: 0.1); load-balancing coefficient ${v((x) => x.balanceCoef)} (the paper: 1e-2); router jitter ${v((x) => x.jitterEps)}.`,
    `Timing: measured on ${backends.length ? backends.join(', ') : 'no recorded backend'}, one process per run${backends.includes('wasm') || backends.includes('webgpu') ? "; wasm and Switchyard's WebGPU kernels skip the empty capacity slots that a TPU computes, so speed claims that rest on padding are marked not applicable on them" : ''}.`,
  ];
  return lines;
}

/** The report section: shared departures, then the experiment's own. */
export function differencesSection(sweep: SweepFile, runs: LoadedRun[], own: string[]): ReportSection {
  return {
    heading: 'Differences from the paper',
    paragraphs: [...commonDifferences(sweep, runs), ...own].map((line) => `- ${line}`),
    figures: [],
    tables: [],
  };
}
