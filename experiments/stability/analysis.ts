/**
 * The stability analysis: final quality and its spread across seeds, divergences, and each
 * seed's training curve, for init scale × router precision; the claims of Switch Tables 2 and 3.
 */
import type { Analysis, LoadedRun } from '../../kernel-lib/exp/types.ts';
import { lineFigure } from '../../kernel-lib/exp/plots.ts';
import { compare, fisherExactGreater, fmtSummary, GREATER_RULE, summarize, verdictGreater } from '../../kernel-lib/exp/stats.ts';
import type { Claim, Table } from '../../kernel-lib/report/types.ts';
import { byGroup, finalNlp, num, over, pm } from '../common.ts';

const name = (r: LoadedRun) => `init ${r.labels.initScale}, router ${r.labels.routerDtype}`;
/** Final quality, with a diverged run counted as failing to learn (its last evaluation, or −∞ when it had none). */
const quality = (r: LoadedRun) => (r.status === 'diverged' ? (r.eval.at(-1)?.negLogPerplexity ?? -Infinity) : finalNlp(r));
const finished = (rs: LoadedRun[]) => rs.filter((r) => r.status === 'completed' || r.status === 'diverged');

export function analyze(runs: LoadedRun[]): Analysis {
  const groups = byGroup(runs);
  const curves = lineFigure({
    id: 'training-loss', title: 'Training cross-entropy, every seed', x: 'training step', y: 'cross-entropy (nats)',
    series: runs.filter((r) => r.train.length).map((r) => {
      const every = Math.max(1, Math.floor(r.train.length / 60));
      const rows = r.train.filter((_, i) => i % every === 0);
      return { name: `${name(r)}, seed ${r.seed}${r.status === 'diverged' ? ' (diverged)' : ''}`, x: rows.map((t) => t.step), y: rows.map((t) => t.crossEntropy) };
    }),
    caption: 'A diverged run stops at the first metrics read after its first non-finite step (the update of that step is masked).',
  });
  const table: Table = {
    id: 'stability',
    title: 'Per configuration: final quality, its spread, divergences',
    columns: ['init scale', 'router', 'final neg. log ppl (mean ± se)', 'sd across seeds', 'worst seed', 'diverged', 'seeds'],
    rows: [...groups.values()].map((rs) => {
      const s = summarize(finished(rs).map(quality));
      return [Number(rs[0].labels.initScale), String(rs[0].labels.routerDtype), pm(over(rs, finalNlp)), num(s.sd), num(s.min), rs.filter((r) => r.status === 'diverged').length, finished(rs).length];
    }),
    caption: 'Diverged runs count with their last evaluation in sd and worst seed; the mean is over completed runs.',
  };
  const g = (init: number, dtype: string) => groups.get(`init${init}-${dtype}`) ?? [];
  const claims: Claim[] = [];
  const small = finished(g(0.1, 'float32'));
  const large = finished(g(1, 'float32'));
  if (small.length && large.length) {
    const c = compare(small.map(quality), large.map(quality));
    const sdS = summarize(small.map(quality)).sd;
    const sdL = summarize(large.map(quality)).sd;
    claims.push({ claim: 'A 10× smaller initialisation (s = 0.1) gives better quality than s = 1.0 (Switch §2.4, Table 3)', measured: `s = 0.1: ${fmtSummary(c.a)} vs s = 1.0: ${fmtSummary(c.b)}`, verdict: verdictGreater(c), rule: GREATER_RULE });
    claims.push({ claim: 'A smaller initialisation varies less across seeds (Switch Table 3: ±0.01 vs ±0.68)', measured: `sd across seeds: s = 0.1: ${Number.isFinite(sdS) ? sdS.toFixed(4) : '–'}, s = 1.0: ${Number.isFinite(sdL) ? sdL.toFixed(4) : '–'}`, verdict: !Number.isFinite(sdS) || !Number.isFinite(sdL) ? 'inconclusive' : sdS < sdL / 2 ? 'yes' : sdS > sdL * 2 ? 'no' : 'inconclusive', rule: 'yes if the sd at s = 0.1 is under half that at s = 1.0, no if over twice, inconclusive otherwise (a few seeds give rough sds)' });
  }
  const f32 = finished(g(0.1, 'float32'));
  const bf16 = finished(g(0.1, 'bfloat16'));
  if (f32.length && bf16.length) {
    const div = (rs: LoadedRun[]) => rs.filter((r) => r.status === 'diverged').length;
    const c = compare(f32.map(quality), bf16.map(quality));
    // A divergence count differs only when chance is an unlikely explanation (one extra
    // divergence in 3 seeds is not evidence): one-sided Fisher exact test, each direction.
    const pMore = fisherExactGreater(div(bf16), bf16.length, div(f32), f32.length);
    const pFewer = fisherExactGreater(div(f32), f32.length, div(bf16), bf16.length);
    const q = verdictGreater(c);
    claims.push({
      claim: 'A bfloat16 router is less stable than a float32 router (Switch §2.4, Table 2: "selective precision")',
      measured: `diverged: bfloat16 ${div(bf16)} of ${bf16.length}, float32 ${div(f32)} of ${f32.length} (Fisher p = ${pMore.toFixed(3)}); final quality float32 ${fmtSummary(c.a)} vs bfloat16 ${fmtSummary(c.b)}`,
      verdict: pMore <= 0.05 || q === 'yes' ? 'yes' : pFewer <= 0.05 || q === 'no' ? 'no' : 'inconclusive',
      rule: 'yes if the bfloat16 router diverges more often with a one-sided Fisher exact p ≤ 0.05 (with 3 seeds each: all bfloat16 runs diverge and no float32 run), or its quality is lower by over 2 standard errors; no if the reverse; inconclusive otherwise. Only the logits are rounded: the rest of the model stays float32',
    });
  }
  return { claims, sections: [{ heading: 'Stability: initialisation scale and router precision', paragraphs: ['Every matrix starts from a truncated normal with σ = sqrt(s / fan_in). The bfloat16 router rounds its logits to bfloat16 (8 significant bits, round to nearest even) before the softmax; the rest of the model stays float32. No z-loss and no gradient clipping in this experiment, as in the Switch paper.'], figures: [curves], tables: [table] }], summary: table };
}
