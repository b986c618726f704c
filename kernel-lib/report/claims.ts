/**
 * The claims as two tables: the paper's claims (empirical, can fail: reproduced, not reproduced,
 * inconclusive, not assessed) and implementation checks (true by construction: pass or fail),
 * never counted as reproductions.
 */
import type { Claim, Table, Verdict } from './types.ts';

export const PAPER_VERDICTS = ['reproduced', 'not reproduced', 'inconclusive', 'not assessed'] as const;
export const CHECK_VERDICTS = ['pass', 'fail'] as const;

/** Colours of the verdicts in pages (green, red, amber, grey). */
export const VERDICT_COLOURS: Record<Verdict, string> = {
  reproduced: '#1a7f37', 'not reproduced': '#cf222e', inconclusive: '#9a6700', 'not assessed': '#59636e', pass: '#1a7f37', fail: '#cf222e',
};

/** The column that holds a verdict, in both tables (for colouring). */
export const VERDICT_COLUMN = 'verdict';

/** Throws naming a claim whose verdict does not belong to its kind. */
export function checkClaims(claims: Claim[]): void {
  for (const c of claims) {
    const allowed: readonly string[] = c.kind === 'paper' ? PAPER_VERDICTS : c.kind === 'check' ? CHECK_VERDICTS : [];
    if (allowed.length === 0) throw new Error(`claim '${c.claim}': kind '${String(c.kind)}' is not 'paper' or 'check'`);
    if (!allowed.includes(c.verdict)) throw new Error(`claim '${c.claim}': verdict '${String(c.verdict)}' is not one of ${allowed.join(', ')} (a ${c.kind} claim)`);
  }
}

const fmt = (v: number | null, digits = 4): string => (v === null || !Number.isFinite(v) ? '–' : Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(digits) : v.toExponential(2));
const fmtP = (p: number | null): string => (p === null || !Number.isFinite(p) ? '–' : p < 1e-4 ? p.toExponential(1) : p.toFixed(4));

/** The paper's claims (id `claims`): claim, source, measured, verdict, effect [95% CI], p (Holm), MDE, n, test, rule. */
export function paperClaimsTable(claims: Claim[]): Table {
  checkClaims(claims);
  return {
    id: 'claims',
    title: "The paper's claims",
    columns: ["paper's claim", 'source', 'measured here', VERDICT_COLUMN, 'effect [95% CI]', 'p (Holm)', 'min. detectable effect', 'n', 'test', 'rule (fixed before the runs)'],
    rows: claims.filter((c) => c.kind === 'paper').map((c) => [
      c.claim, c.source, c.measured, c.verdict,
      c.effect === null ? '–' : `${fmt(c.effect)} [${c.ci95 ? `${fmt(c.ci95[0])}, ${fmt(c.ci95[1])}` : '–'}]`,
      fmtP(c.pValue), fmt(c.mde), c.n, c.test, c.rule,
    ]),
    caption: 'Each rule was fixed in the sweep definition before any run. p is one-sided in the paper\'s direction and Holm-adjusted over this experiment\'s paper claims; the minimum detectable effect is at 80% power from the measured paired spread.',
  };
}

/** The implementation checks (id `checks`): properties true by construction, not reproductions. */
export function checksTable(claims: Claim[]): Table {
  checkClaims(claims);
  return {
    id: 'checks',
    title: 'Implementation checks (true by construction; not reproductions)',
    columns: ['check', 'source', 'measured here', VERDICT_COLUMN, 'rule'],
    rows: claims.filter((c) => c.kind === 'check').map((c) => [c.claim, c.source, c.measured, c.verdict, c.rule]),
  };
}

/** Counts per verdict, for one-line summaries (`npm start`, `exp`). */
export function verdictCounts(claims: Claim[]): string {
  const paper = claims.filter((c) => c.kind === 'paper');
  const checks = claims.filter((c) => c.kind === 'check');
  const n = (cs: Claim[], v: Verdict) => cs.filter((c) => c.verdict === v).length;
  const p = PAPER_VERDICTS.map((v) => [v, n(paper, v)] as const).filter(([, k]) => k > 0).map(([v, k]) => `${k} ${v}`).join(', ');
  return `${paper.length} paper claims${p ? `: ${p}` : ''}; ${checks.length} checks: ${n(checks, 'pass')} pass, ${n(checks, 'fail')} fail`;
}
