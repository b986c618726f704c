/**
 * `npm run lint` runs this after ESLint: the house rules on imports and file sizes, read from the
 * sources' own import statements (TypeScript's parser; type-only imports count, as they tie the
 * files as much for a reader). Exits 1, printing each offence, when
 *
 * 1. source files of kernel-lib/ and experiments/ import each other in a circle (the chain of
 *    imports is printed, with lines);
 * 2. a file imports a file of a higher floor, or of another folder on its own floor ({@link FLOORS}:
 *    imports run down the house only; within one folder, anywhere without a circle), or stands on
 *    no floor (a new folder: give it one);
 * 3. a source file of kernel-lib/, experiments/, scripts/ or bin/ is over {@link MAX_LINES} lines.
 *
 * {@link PENDING} lists offences that work under way removes: printed, not failed; an entry
 * that no longer matches is printed for removal.
 *
 * `tsx scripts/check-imports.ts [--root DIR]`: DIR (default: the project) is the tree checked.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * The floors, top first: a file may import files of its own folder and of the floors below
 * its own. Folders end in '/'; a file is on the floor of the longest folder or file that holds
 * it. House order: cli → experiments → exp → train → model → moe → util, the one configuration
 * schema below the parts it configures, the backends below what uses them, and the kernels'
 * contracts below both the ops and the backends.
 */
export const FLOORS: readonly (readonly string[])[] = [
  ['kernel-lib/cli.ts', 'kernel-lib/index.ts'],
  ['kernel-lib/cli/'],
  ['experiments/', 'kernel-lib/display/'],
  ['kernel-lib/exp/'],
  ['kernel-lib/bench/', 'kernel-lib/report/'],
  ['kernel-lib/train/', 'kernel-lib/conformance/'],
  ['kernel-lib/model/'],
  ['kernel-lib/moe/', 'kernel-lib/data/'],
  ['kernel-lib/config/'],
  ['kernel-lib/backend/'],
  ['kernel-lib/kernels/'],
  ['kernel-lib/util/'],
];

/** Folders whose files make the import graph. */
const GRAPH_ROOTS = ['kernel-lib', 'experiments'];
/** Folders whose source files may have at most MAX_LINES lines (tests, fixtures and data are not sources). */
const SIZE_ROOTS = ['kernel-lib', 'experiments', 'scripts', 'bin'];
export const MAX_LINES = 400;
const SOURCE = /\.(ts|mts|cts|js|mjs|cjs|sh|py)$/;

/**
 * Offences that work under way removes, each with why it waits: a circle all of whose files lie
 * under `circleWithin`, or the file `tooLong`.
 */
export type Pending = { circleWithin: string; why: string } | { tooLong: string; why: string };
export const PENDING: readonly Pending[] = [];

export interface Import {
  from: string;
  to: string;
  line: number;
  typeOnly: boolean;
}

export interface Findings {
  files: number;
  /** Offences: each a headline and the lines that show it. */
  problems: string[][];
  /** Offences listed in PENDING. */
  pending: string[][];
  /** PENDING entries that matched nothing. */
  stale: string[];
}

function walk(root: string, dir: string, out: string[]): void {
  const abs = join(root, dir);
  if (!existsSync(abs)) return;
  for (const name of readdirSync(abs).sort()) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const rel = `${dir}/${name}`;
    if (statSync(join(root, rel)).isDirectory()) walk(root, rel, out);
    else if (SOURCE.test(name)) out.push(rel);
  }
}

const lineCount = (text: string): number => text.split('\n').length - (text.endsWith('\n') ? 1 : 0);

/** The relative imports of one file (static, re-exports, `import()` and `import('…')` types), resolved to project paths. */
export function importsOf(root: string, file: string, text: string): Import[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: Import[] = [];
  const add = (spec: ts.Expression | ts.TypeNode | undefined, node: ts.Node, typeOnly: boolean) => {
    const literal = spec && ts.isLiteralTypeNode(spec) ? spec.literal : spec;
    if (!literal || !ts.isStringLiteral(literal) || !literal.text.startsWith('.')) return;
    const to = resolveImport(root, file, literal.text);
    out.push({ from: file, to, line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const c = node.importClause;
      const named = c?.namedBindings && ts.isNamedImports(c.namedBindings) ? c.namedBindings.elements : undefined;
      const typeOnly = !!c && (c.isTypeOnly || (!c.name && !!named && named.length > 0 && named.every((e) => e.isTypeOnly)));
      add(node.moduleSpecifier, node, typeOnly);
    } else if (ts.isExportDeclaration(node)) {
      const named = node.exportClause && ts.isNamedExports(node.exportClause) ? node.exportClause.elements : undefined;
      add(node.moduleSpecifier, node, node.isTypeOnly || (!!named && named.length > 0 && named.every((e) => e.isTypeOnly)));
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node.arguments[0], node, false);
    } else if (ts.isImportTypeNode(node)) {
      add(node.argument, node, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

function resolveImport(root: string, file: string, spec: string): string {
  const base = relative(root, resolve(root, dirname(file), spec)).split(sep).join('/');
  for (const candidate of [base, `${base}.ts`, `${base}/index.ts`]) {
    if (existsSync(join(root, candidate)) && statSync(join(root, candidate)).isFile()) return candidate;
  }
  return base;
}

/** The floor index of a file (0 = top), and the folder or file that places it; null when on none. */
export function floorOf(file: string): { floor: number; place: string } | null {
  let best: { floor: number; place: string } | null = null;
  FLOORS.forEach((places, floor) => {
    for (const place of places) {
      const holds = place.endsWith('/') ? file.startsWith(place) : file === place;
      if (holds && (!best || place.length > best.place.length)) best = { floor, place };
    }
  });
  return best;
}

/** Strongly connected components of more than one file, or a file importing itself (Tarjan). */
function circles(nodes: string[], edges: Map<string, Import[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const connect = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const { to: w } of edges.get(v) ?? []) {
      if (!idx.has(w)) {
        if (!edges.has(w)) continue;
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) !== idx.get(v)) return;
    const part: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      part.push(w);
    } while (w !== v);
    if (part.length > 1 || (edges.get(v) ?? []).some((e) => e.to === v)) found.push(part.sort());
  };
  for (const v of nodes) if (!idx.has(v)) connect(v);
  return found;
}

/** One shortest circle through the component's first file, as the imports that make it. */
function chainThrough(part: string[], edges: Map<string, Import[]>): Import[] {
  const inPart = new Set(part);
  const start = part[0];
  const via = new Map<string, Import>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    for (const e of edges.get(queue[i]) ?? []) {
      if (!inPart.has(e.to)) continue;
      if (e.to === start) {
        const chain = [e];
        for (let at = e.from; at !== start; at = via.get(at)!.from) chain.unshift(via.get(at)!);
        return chain;
      }
      if (!via.has(e.to)) {
        via.set(e.to, e);
        queue.push(e.to);
      }
    }
  }
  return [];
}

const shown = (e: Import) => `${e.from}:${e.line} imports ${e.to}${e.typeOnly ? ' (types only)' : ''}`;

/** Checks the tree at `root` (the rules above). */
export function checkHouse(root: string, waitingFor: readonly Pending[] = PENDING): Findings {
  const graphFiles: string[] = [];
  for (const r of GRAPH_ROOTS) walk(root, r, graphFiles);
  const sources = graphFiles.filter((f) => /\.(ts|mts|cts)$/.test(f) && !f.endsWith('.d.ts'));
  const edges = new Map<string, Import[]>();
  for (const f of sources) edges.set(f, importsOf(root, f, readFileSync(join(root, f), 'utf8')));

  const problems: string[][] = [];
  const pending: string[][] = [];
  const used = new Set<Pending>();
  const file = (entry: string[], waiting: Pending | undefined) => {
    if (waiting) {
      used.add(waiting);
      pending.push([...entry, `  pending: ${waiting.why}`]);
    } else problems.push(entry);
  };

  for (const part of circles(sources, edges)) {
    const waiting = waitingFor.find((p) => 'circleWithin' in p && part.every((f) => f.startsWith(p.circleWithin)));
    const chain = chainThrough(part, edges);
    const head = `CIRCLE of ${part.length} file${part.length > 1 ? 's' : ''}: ${[...chain.map((e) => e.from), chain[0]?.from].join(' → ')}`;
    file([head, ...chain.map((e) => `  ${shown(e)}`), ...(part.length > chain.length ? [`  (the circle's files: ${part.join(', ')})`] : [])], waiting);
  }

  for (const f of sources) {
    const here = floorOf(f);
    if (!here) {
      problems.push([`NO FLOOR: ${f} stands on no floor of scripts/check-imports.ts FLOORS: give its folder one`]);
      continue;
    }
    for (const e of edges.get(f)!) {
      const there = floorOf(e.to);
      if (!there || there.place === here.place) continue;
      const how = there.floor < here.floor ? 'runs back up' : there.floor === here.floor ? 'runs sideways' : '';
      if (!how) continue;
      problems.push([
        `BACK UP: ${f} → ${e.to}: ${here.place} (floor ${FLOORS.length - here.floor}) imports ${there.place} (floor ${FLOORS.length - there.floor}); the import ${how}`,
        `  ${shown(e)}`,
      ]);
    }
  }

  const sized: string[] = [];
  for (const r of SIZE_ROOTS) walk(root, r, sized);
  for (const f of sized) {
    const n = lineCount(readFileSync(join(root, f), 'utf8'));
    if (n <= MAX_LINES) continue;
    file([`TOO LONG: ${f} has ${n} lines (at most ${MAX_LINES})`], waitingFor.find((p) => 'tooLong' in p && p.tooLong === f));
  }

  const stale = waitingFor.filter((p) => !used.has(p)).map((p) => ('tooLong' in p ? `${p.tooLong} is no longer too long` : `no circle lies within ${p.circleWithin} any more`));
  return { files: sources.length, problems, pending, stale };
}

function main(argv: string[]): number {
  const at = argv.indexOf('--root');
  const root = at >= 0 ? resolve(argv[at + 1] ?? '.') : join(dirname(fileURLToPath(import.meta.url)), '..');
  const { files, problems, pending, stale } = checkHouse(root);
  // One stream, so that offences, pending ones and the summary stay in this order.
  for (const p of [...problems, ...pending]) console.log(p.join('\n'));
  for (const s of stale) console.log(`PENDING no longer needed: ${s}; remove its entry from scripts/check-imports.ts PENDING`);
  console.log(`check-imports: ${files} files of ${GRAPH_ROOTS.join('/, ')}/ on ${FLOORS.length} floors; ${problems.length} offence${problems.length === 1 ? '' : 's'}, ${pending.length} pending`);
  return problems.length ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = main(process.argv.slice(2));
