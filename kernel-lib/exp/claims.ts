/**
 * Claims decided by rules fixed before the runs. A sweep definition lists its claim rules
 * (`SweepDef.claims`, saved in sweep.json and part of the sweep's key, so a rule cannot change
 * once runs exist); the analysis supplies the evidence for each rule (per-seed values of two
 * arms, event counts, or a check's outcome); {@link decideClaims} applies the rules: one-sided
 * tests in the paper's direction, Holm-adjusted over the experiment's paper claims, a minimum
 * detectable effect beside each.
 */
import type { Claim, PaperVerdict } from '../report/types.ts';
import { fisherExactGreater, holmAdjust, minimumDetectableEffect, pairedTest, type TestResult } from './stats.ts';

/** The level of every paper claim's test (family-wise, Holm). */
export const CLAIM_ALPHA = 0.05;

/** A claim and the rule that decides it, written in the sweep definition before any run. */
export interface ClaimRule {
  /** Stable id within the experiment: the analysis's evidence is keyed by it. */
  id: string;
  /** `paper`: an empirical claim that can fail. `check`: true by construction when the code is right. */
  kind: 'paper' | 'check';
  claim: string;
  /** Where the paper (or the later paper) makes it. */
  source: string;
  /**
   * `paired-t`: Student's t on per-seed differences a − b. `fisher-exact`: one-sided Fisher
   * exact test on event counts (a has more events than b). `check`: a property's outcome.
   */
  test: 'paired-t' | 'fisher-exact' | 'check';
  /** The paper's direction for a − b (paper claims). */
  alternative?: 'greater' | 'less';
  /**
   * Non-inferiority margin, in the effect's units, where the paper claims "does not hurt": the
   * null is that a is worse than b by the margin or more.
   */
  margin?: number;
  /** What a − b is, in words (`Switch E=16 − dense, final validation neg. log perplexity`). */
  effect: string;
  /** Units of the effect (`nats`, `tokens/s`, …). */
  units: string;
  /** A departure from the paper's setting that the reader must know, shown with the rule. */
  departure?: string;
}

/** What the analysis measured for one rule. */
export type Evidence =
  | { kind: 'paired'; a: number[]; b: number[]; seeds: number[]; measured: string }
  | { kind: 'counts'; eventsA: number; nA: number; eventsB: number; nB: number; measured: string }
  | { kind: 'check'; pass: boolean; measured: string }
  /** The claim's mechanism is absent from these runs (e.g. a timing claim on a backend that skips padding): `not assessed`. */
  | { kind: 'not-applicable'; measured: string };

export interface DecideOptions {
  /** false at a preset too small for the paper's effects: paper claims say `not assessed` (with the MDE); checks run. */
  assess: boolean;
  /** Why paper claims are not assessed (shown in `measured`). */
  notAssessedWhy?: string;
}

/** The rule as text, printed beside the verdict. */
export function ruleText(r: ClaimRule, familySize: number): string {
  const dep = r.departure ? ` Departure from the paper: ${r.departure}` : '';
  if (r.kind === 'check' || r.test === 'check') return `pass if it holds in every seed, fail otherwise (an implementation check, not a reproduction).${dep}`;
  const holm = `α = ${CLAIM_ALPHA}, Holm-adjusted over the experiment's ${familySize} paper claim${familySize === 1 ? '' : 's'}`;
  if (r.test === 'fisher-exact') {
    return `one-sided Fisher exact test (a has more events than b), ${holm}: reproduced if p ≤ ${CLAIM_ALPHA}; not reproduced if the opposite one-sided test gives p ≤ ${CLAIM_ALPHA}; inconclusive otherwise.${dep}`;
  }
  const m = r.margin ?? 0;
  const null_ = r.alternative === 'greater' ? (m ? `a − b ≤ −${m}` : 'a − b ≤ 0') : m ? `a − b ≥ ${m}` : 'a − b ≥ 0';
  const contra = r.alternative === 'greater' ? `below ${m ? -m : 0}` : `above ${m}`;
  return `paired t over seeds, one-sided (null: ${null_}${m ? ', a non-inferiority margin' : ''}), ${holm}: reproduced if p ≤ ${CLAIM_ALPHA}; not reproduced if the 95% interval lies wholly ${contra}; inconclusive otherwise.${dep}`;
}

function testName(r: ClaimRule): string {
  if (r.test === 'fisher-exact') return 'Fisher exact, one-sided';
  if (r.test === 'check') return 'check';
  return `paired t, one-sided (a − b ${r.alternative === 'greater' ? '>' : '<'} ${r.alternative === 'greater' ? -(r.margin ?? 0) : (r.margin ?? 0)})`;
}

const fmt = (v: number) => (Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(4) : v.toExponential(2));

/** Checks a rule list: ids unique, fields consistent (a bad definition is refused by name). */
export function checkClaimRules(rules: ClaimRule[]): void {
  const seen = new Set<string>();
  for (const r of rules) {
    if (seen.has(r.id)) throw new Error(`claim rule id '${r.id}' appears twice`);
    seen.add(r.id);
    if (r.kind === 'paper' && r.test === 'check') throw new Error(`claim rule '${r.id}': a paper claim needs a statistical test, not 'check'`);
    if (r.kind === 'check' && r.test !== 'check') throw new Error(`claim rule '${r.id}': an implementation check has test 'check', got '${r.test}'`);
    if (r.test === 'paired-t' && r.alternative !== 'greater' && r.alternative !== 'less') throw new Error(`claim rule '${r.id}': alternative must be 'greater' or 'less', got '${String(r.alternative)}'`);
    if (r.margin !== undefined && !(r.margin >= 0)) throw new Error(`claim rule '${r.id}': margin must be ≥ 0, got ${r.margin}`);
  }
}

interface Raw {
  rule: ClaimRule;
  ev: Evidence | undefined;
  test: TestResult | null;
  p: number;
  pOpposite: number;
  mde: number;
}

function rawTest(rule: ClaimRule, ev: Evidence | undefined): Raw {
  const none: Raw = { rule, ev, test: null, p: NaN, pOpposite: NaN, mde: NaN };
  if (!ev || rule.kind === 'check' || ev.kind === 'not-applicable') return none;
  if (rule.test === 'paired-t') {
    if (ev.kind !== 'paired') throw new Error(`claim '${rule.id}': a paired test needs paired evidence, got '${ev.kind}'`);
    const t = pairedTest(ev.a, ev.b, { alternative: rule.alternative!, margin: rule.margin });
    return { rule, ev, test: t, p: t.n >= 2 ? t.pValue : NaN, pOpposite: NaN, mde: minimumDetectableEffect(t.se, t.df, CLAIM_ALPHA) };
  }
  if (ev.kind !== 'counts') throw new Error(`claim '${rule.id}': a Fisher test needs counts, got '${ev.kind}'`);
  return { ...none, p: fisherExactGreater(ev.eventsA, ev.nA, ev.eventsB, ev.nB), pOpposite: fisherExactGreater(ev.eventsB, ev.nB, ev.eventsA, ev.nA) };
}

function paperVerdict(x: Raw, pAdj: number, o: DecideOptions): PaperVerdict {
  if (!o.assess) return 'not assessed';
  if (!Number.isFinite(pAdj)) return 'inconclusive';
  if (pAdj <= CLAIM_ALPHA) return 'reproduced';
  if (x.rule.test === 'fisher-exact') return x.pOpposite <= CLAIM_ALPHA ? 'not reproduced' : 'inconclusive';
  const m = x.rule.margin ?? 0;
  const [lo, hi] = x.test!.ci95;
  const contradicted = x.rule.alternative === 'greater' ? hi < -m : lo > m;
  return contradicted ? 'not reproduced' : 'inconclusive';
}

/**
 * Applies the rules to the evidence. Paper claims: each rule's one-sided test, Holm over the
 * paper claims that have data; checks: pass or fail. A rule without evidence (its runs missing)
 * is `inconclusive` (paper) or `fail` (check), saying so.
 */
export function decideClaims(rules: ClaimRule[], evidence: Record<string, Evidence>, o: DecideOptions): Claim[] {
  checkClaimRules(rules);
  for (const id of Object.keys(evidence)) {
    if (!rules.some((r) => r.id === id)) throw new Error(`evidence for '${id}', which no claim rule of the sweep names (rules: ${rules.map((r) => r.id).join(', ')})`);
  }
  const raws = rules.map((r) => rawTest(r, evidence[r.id]));
  const paperIdx = raws.map((x, i) => (x.rule.kind === 'paper' ? i : -1)).filter((i) => i >= 0);
  const adjusted = holmAdjust(paperIdx.map((i) => raws[i].p));
  const adjOf = new Map(paperIdx.map((i, j) => [i, adjusted[j]]));
  const family = paperIdx.length;
  return raws.map((x, i): Claim => {
    const r = x.rule;
    const base = { id: r.id, kind: r.kind, claim: r.claim, source: r.source, rule: ruleText(r, family), test: testName(r) };
    if (r.kind === 'check') {
      const ev = x.ev;
      if (!ev) return { ...base, measured: 'no data: its runs have no result', verdict: 'fail', n: 0, effect: null, ci95: null, pValue: null, pRaw: null, mde: null };
      if (ev.kind !== 'check') throw new Error(`check '${r.id}': needs a check outcome, got '${ev.kind}'`);
      return { ...base, measured: ev.measured, verdict: ev.pass ? 'pass' : 'fail', n: 0, effect: null, ci95: null, pValue: null, pRaw: null, mde: null };
    }
    if (x.ev?.kind === 'not-applicable') {
      return { ...base, measured: `not applicable here: ${x.ev.measured}`, verdict: 'not assessed', n: 0, effect: null, ci95: null, pValue: null, pRaw: null, mde: null };
    }
    const pAdj = adjOf.get(i)!;
    const verdict = paperVerdict(x, pAdj, o);
    const note = !o.assess ? ` [not assessed: ${o.notAssessedWhy ?? 'this preset is too small for the paper\'s effects'}]` : '';
    if (!x.ev) return { ...base, measured: `no data: its runs have no result${note}`, verdict: o.assess ? 'inconclusive' : 'not assessed', n: 0, effect: null, ci95: null, pValue: null, pRaw: null, mde: null };
    const finite = (v: number) => (Number.isFinite(v) ? v : null);
    if (x.test) {
      const t = x.test;
      const interval = Number.isFinite(t.ci95[0]) ? ` [${fmt(t.ci95[0])}, ${fmt(t.ci95[1])}]` : '';
      const measured = `${x.ev.measured}; ${r.effect}: ${fmt(t.effect)} ${r.units}${interval}, n = ${t.n}${Number.isFinite(x.mde) ? `, MDE ${fmt(x.mde)}` : ''}${note}`;
      return {
        ...base, measured, verdict, n: t.n, effect: finite(t.effect), ci95: Number.isFinite(t.ci95[0]) ? t.ci95 : null,
        pValue: finite(pAdj), pRaw: finite(x.p), mde: finite(x.mde),
      };
    }
    const ev = x.ev as Extract<Evidence, { kind: 'counts' }>;
    const effect = ev.nA && ev.nB ? ev.eventsA / ev.nA - ev.eventsB / ev.nB : NaN;
    return { ...base, measured: `${ev.measured}${note}`, verdict, n: Math.min(ev.nA, ev.nB), effect: finite(effect), ci95: null, pValue: finite(pAdj), pRaw: finite(x.p), mde: null };
  });
}
