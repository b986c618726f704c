/** The claims table: "paper's claim | measured here | reproduced? | rule", as a {@link Table}. */
import type { Claim, Table, Verdict } from './types.ts';

export const VERDICTS: readonly Verdict[] = ['yes', 'no', 'inconclusive'];

/** Colours of the verdicts in pages (green, red, amber). */
export const VERDICT_COLOURS: Record<Verdict, string> = { yes: '#1a7f37', no: '#cf222e', inconclusive: '#9a6700' };

/** The claims as a table (id `claims`); throws naming a verdict that is not yes, no or inconclusive. */
export function claimsTable(claims: Claim[]): Table {
  for (const c of claims) {
    if (!VERDICTS.includes(c.verdict)) throw new Error(`claim '${c.claim}': verdict '${String(c.verdict)}' is not one of ${VERDICTS.join(', ')}`);
  }
  return {
    id: 'claims',
    title: "Paper's claims",
    columns: ["paper's claim", 'measured here', 'reproduced?', 'rule'],
    rows: claims.map((c) => [c.claim, c.measured, c.verdict, c.rule]),
  };
}
