/**
 * WGSL for the experts' grouped matmul: each expert's weights multiply only that expert's filled
 * rows (megablocks' grouped GEMM, Gale et al. 2022). Tiles past an expert's count compute
 * nothing and write zeros, so every output element is defined.
 *
 * Three forms (R rows of A, E experts, segment e = the rows of expert e):
 * - `nn`  out[r,n] = Σ_k A[r,k]·B[e,k,n]          (forward: X·W)
 * - `nt`  out[r,n] = Σ_k A[r,k]·B[e,n,k]          (∂X = ∂Y·Wᵀ)
 * - `tn`  out[e,p,q] = Σ_{r ∈ segment e} A[r,p]·B[r,q]   (∂W = Xᵀ·∂Y over filled rows only)
 *
 * Two row layouts:
 * - `batched`: A is [E,C,K]; expert e's rows are e·C + [0, min(filled[e], C)). Input S = filled.
 * - `packed`: A is [R,K], experts' segments back to back, each starting at a multiple of the
 *   variant's row tile (the packed layout: kernels/contracts.ts, moe/packed-layout.ts). Input S =
 *   the layout, whose starts and counts begin at `segOffset`; a row tile finds its expert by
 *   binary search over the starts.
 *
 * Two variants, chosen per adapter (webgpu-moe-kernels.ts):
 * - `register`: no workgroup memory; each invocation keeps a 4-row × 8-column block in
 *   registers (two vec4 accumulators per row). On lavapipe, which runs invocations as SIMD lanes
 *   on the CPU, this ran 2.5–4× faster than tfjs's matMul on [64,40,256]·[64,256,1024].
 * - `tiled`: 16×64 output tiles staged through workgroup memory, the usual GPU layout (it only
 *   tied with tfjs's matMul on lavapipe). The skip decision is taken by one invocation and
 *   shared with `workgroupUniformLoad`, as a data-dependent return before a barrier is
 *   rejected as non-uniform control flow.
 */
import { ROW_TILE, type MatMulVariant } from '../kernels/contracts.ts';
import { ceilDiv, gpuProgram, wgslSegmentSearch, type GpuProgram } from './webgpu-program.ts';

export type MatMulForm = 'nn' | 'nt' | 'tn';
export type RowLayout = 'batched' | 'packed';

// register: rows per invocation = ROW_TILE.register (nn, nt) or TN_ROWS (tn, whose rows are
// outputs p, not packed rows: 16 halved its time on lavapipe, with A read as vec4); CV vec4
// column groups, WX invocations.
const TN_ROWS = 16;
const CV = 2;
const WX = 32;
const REG_COLS = WX * 4 * CV;
// tiled: TM × TN output tile, TK contraction step, (TN/4) × (TM/4) invocations of 4×4 each.
const TM = ROW_TILE.tiled;
const TN = 64;
const TK = 16;
const TILED_THREADS = (TN / 4) * (TM / 4);

export interface GroupedMatMulSpec {
  form: MatMulForm;
  layout: RowLayout;
  variant: MatMulVariant;
  E: number;
  /** nn/nt: rows of A per expert (batched: C) or in all (packed: R). tn: P, A's width. */
  M: number;
  /** Output columns: nn/nt N, tn Q (B's width). */
  N: number;
  /** nn/nt: the contraction K. tn: C (batched) or R (packed), A's rows per expert or in all. */
  K: number;
  /** packed: index of the segment starts in S (counts follow, E further on). */
  segOffset: number;
}

/** Whether this spec can use vec4 bindings: the dims read as vec4 are multiples of 4. */
function vectorised(s: GroupedMatMulSpec): boolean {
  if (s.form === 'nt') return s.K % 4 === 0 && s.N % 4 === 0;
  if (s.form === 'tn') return s.M % 4 === 0 && s.N % 4 === 0;
  return s.N % 4 === 0;
}

/** Rows per invocation (and per workgroup tile) of the register variant. */
const registerRows = (s: GroupedMatMulSpec): number => (s.form === 'tn' && vectorised(s) ? TN_ROWS : ROW_TILE.register);

/** Output shape of a spec. */
export function outputShape(s: GroupedMatMulSpec): number[] {
  if (s.form === 'tn') return [s.E, s.M, s.N];
  return s.layout === 'batched' ? [s.E, s.M, s.N] : [s.M, s.N];
}

/** The expert whose packed segment holds `row`: the segment starts are S's from `segOffset`. */
const FIND_EXPERT = wgslSegmentSearch('findExpert', (i) => `S[uniforms.segOffset + ${i}]`, 'uniforms.E - 1');

/**
 * WGSL computing, for the workgroup's expert `e`: segStart, segEnd (rows of A in [segStart,
 * segEnd) are the expert's filled rows) and rowBase (A's row index of output row 0 of this
 * expert's block; nn/nt only). `rowOrigin` is the first row of the tile (nn/nt).
 */
function segmentOf(s: GroupedMatMulSpec, rowOrigin: string): string {
  if (s.layout === 'batched') {
    // Rows are numbered within expert e's C slots (nn/nt) or globally (tn).
    const e = 'let e = i32(workgroupId.z);';
    if (s.form === 'tn') return `${e} let segStart = e * uniforms.K; let segEnd = segStart + clamp(S[e], 0, uniforms.K);`;
    return `${e} let rowBase = e * uniforms.M; let segStart = 0; let segEnd = clamp(S[e], 0, uniforms.M);`;
  }
  const seg = 'let segStart = S[uniforms.segOffset + e]; let segEnd = segStart + S[uniforms.segOffset + uniforms.E + e];';
  if (s.form === 'tn') return `let e = i32(workgroupId.z); ${seg}`;
  return `let e = findExpert(${rowOrigin}); let rowBase = 0; ${seg}`;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

function registerCode(s: GroupedMatMulSpec): string {
  const TR = registerRows(s);
  const vec = vectorised(s);
  const rows = range(TR);
  const cols = range(CV);
  const loadB = (idx: string) => (vec ? `B[(${idx}) / 4]` : `vec4<f32>(B[${idx}], B[${idx} + 1], B[${idx} + 2], B[${idx} + 3])`);
  const declare = rows.map((i) => cols.map((j) => `var acc${i}_${j} = vec4<f32>(0.0);`).join(' ')).join('\n    ');
  const colOf = (j: number) => `col0 + ${j * WX * 4}`;
  let loop: string;
  if (s.form === 'nt') {
    const bRow = (j: number, q: number) => `bBase + (${colOf(j)} + ${q}) * uniforms.K`;
    loop = vec
      ? `for (var k = 0; k < uniforms.K; k += 4) {
        ${rows.map((i) => `let x${i} = A[(aRow${i} * uniforms.K + k) / 4];`).join(' ')}
        ${cols.map((j) => range(4).map((q) => `let b${j}_${q} = B[(${bRow(j, q)} + k) / 4];`).join(' ')).join('\n        ')}
        ${rows.map((i) => cols.map((j) => `acc${i}_${j} += vec4<f32>(dot(x${i}, b${j}_0), dot(x${i}, b${j}_1), dot(x${i}, b${j}_2), dot(x${i}, b${j}_3));`).join(' ')).join('\n        ')}
      }`
      : `for (var k = 0; k < uniforms.K; k++) {
        ${rows.map((i) => `let x${i} = vec4<f32>(A[aRow${i} * uniforms.K + k]);`).join(' ')}
        ${cols.map((j) => `let w${j} = vec4<f32>(${range(4).map((q) => `B[${bRow(j, q)} + k]`).join(', ')});`).join(' ')}
        ${rows.map((i) => cols.map((j) => `acc${i}_${j} = fma(x${i}, w${j}, acc${i}_${j});`).join(' ')).join('\n        ')}
      }`;
  } else {
    // nn: t = k over K, x = A[row, k], w = B[e, k, cols]. tn: t = r over the segment, x = A[r, p], w = B[r, cols].
    const [tBegin, tEnd, aIdx, bIdx] =
      s.form === 'nn'
        ? ['0', 'uniforms.K', (i: number) => `aRow${i} * uniforms.K + t`, 'bBase + t * uniforms.N']
        : ['segStart', 'segEnd', (i: number) => `t * uniforms.M + row0 + ${i}`, 't * uniforms.N'];
    // tn, vectorised: A[r, p0..p0+15] as four vec4 loads.
    const loadX =
      s.form === 'tn' && vec
        ? `${range(TR / 4).map((g) => `let xa${g} = A[(t * uniforms.M + row0) / 4 + ${g}];`).join(' ')} ${rows.map((i) => `let x${i} = vec4<f32>(xa${i >> 2}[${i & 3}]);`).join(' ')}`
        : rows.map((i) => `let x${i} = vec4<f32>(A[${aIdx(i)}]);`).join(' ');
    loop = `for (var t = ${tBegin}; t < ${tEnd}; t++) {
        ${cols.map((j) => `let w${j} = ${loadB(`${bIdx} + ${colOf(j)}`)};`).join(' ')}
        ${loadX}
        ${rows.map((i) => cols.map((j) => `acc${i}_${j} = fma(x${i}, w${j}, acc${i}_${j});`).join(' ')).join('\n        ')}
      }`;
  }
  // Rows a tile covers: nn/nt rows of A (within the expert for batched), tn rows p of the output.
  const prologue =
    s.form === 'tn'
      ? `${segmentOf(s, '')} let outBase = e * uniforms.M; let live = true;`
      : `${segmentOf(s, 'row0')} let outBase = rowBase; let live = row0 < segEnd;
    let bBase = e * uniforms.K * uniforms.N;
    ${rows.map((i) => `let aRow${i} = rowBase + row0 + ${i};`).join(' ')}`;
  // nn/nt: a row exists below M, holds a value inside the segment; tn: every p < M is a value.
  const rowValid = (r: string) => (s.form === 'tn' ? 'true' : `${r} >= segStart && ${r} < segEnd`);
  const store = (i: number, j: number) => {
    const val = `select(vec4<f32>(0.0), acc${i}_${j}, ${rowValid(`row0 + ${i}`)})`;
    const at = `(outBase + row0 + ${i}) * uniforms.N + ${colOf(j)}`;
    const write = vec
      ? `if (${colOf(j)} < uniforms.N) { result[(${at}) / 4] = v; }`
      : range(4).map((q) => `if (${colOf(j)} + ${q} < uniforms.N) { result[${at} + ${q}] = v[${q}]; }`).join(' ');
    return `if (row0 + ${i} < uniforms.M) { let v = ${val}; ${write} }`;
  };
  return `
  ${s.layout === 'packed' ? FIND_EXPERT : ''}
  fn main() {
    let row0 = i32(workgroupId.y) * ${TR};
    let col0 = i32(workgroupId.x) * ${REG_COLS} + i32(localId.x) * 4;
    ${prologue}
    ${declare}
    if (live) {
      ${loop}
    }
    ${rows.map((i) => cols.map((j) => store(i, j)).join('\n    ')).join('\n    ')}
  }`;
}

function tiledCode(s: GroupedMatMulSpec): string {
  // Operand accessors with zero outside the valid range. m: output row in the tile's frame,
  // t: contraction index, n: output column.
  let la: string;
  let lb: string;
  let depth: string;
  if (s.form === 'tn') {
    la = 'if (m < uniforms.M && t < depth) { return A[(seg.x + t) * uniforms.M + m]; } return 0.0;';
    lb = 'if (t < depth && n < uniforms.N) { return B[(seg.x + t) * uniforms.N + n]; } return 0.0;';
    depth = 'seg.y - seg.x';
  } else {
    la = 'if (m >= seg.x && m < seg.y && t < uniforms.K) { return A[(seg.z + m) * uniforms.K + t]; } return 0.0;';
    lb =
      s.form === 'nn'
        ? 'if (t < uniforms.K && n < uniforms.N) { return B[(e * uniforms.K + t) * uniforms.N + n]; } return 0.0;'
        : 'if (t < uniforms.K && n < uniforms.N) { return B[(e * uniforms.N + n) * uniforms.K + t]; } return 0.0;';
    depth = 'uniforms.K';
  }
  // seg = (segStart, segEnd, rowBase, e) of the workgroup's expert and whether the tile holds
  // any of its rows, shared from invocation 0. (tfjs passes workgroupId through a private
  // variable, which the uniformity analysis treats as non-uniform, so even the tile's own
  // position must travel this way before it can guard a barrier.)
  const decide =
    s.form === 'tn'
      ? `${segmentOf(s, '')} wgSeg = vec4<i32>(segStart, segEnd, 0, e); wgLive = 1;`
      : `${segmentOf(s, 'row0')} wgSeg = vec4<i32>(segStart, segEnd, rowBase, e); wgLive = select(0, 1, row0 < segEnd);`;
  const outRow = s.form === 'tn' ? 'e * uniforms.M + m' : 'seg.z + m';
  const rowValid = s.form === 'tn' ? 'true' : 'm >= seg.x && m < seg.y';
  return `
  var<workgroup> wgSeg : vec4<i32>;
  var<workgroup> wgLive : i32;
  var<workgroup> As : array<array<f32, ${TK}>, ${TM}>;
  var<workgroup> Bs : array<array<f32, ${TN}>, ${TK}>;
  ${s.layout === 'packed' ? FIND_EXPERT : ''}
  fn loadA(e : i32, seg : vec4<i32>, depth : i32, m : i32, t : i32) -> f32 { ${la} }
  fn loadB(e : i32, seg : vec4<i32>, depth : i32, t : i32, n : i32) -> f32 { ${lb} }
  fn main() {
    let row0 = i32(workgroupId.y) * ${TM};
    let col0 = i32(workgroupId.x) * ${TN};
    let tx = i32(localId.x);
    let ty = i32(localId.y);
    let lidx = i32(localIndex);
    if (lidx == 0) {
      ${decide}
    }
    let seg = workgroupUniformLoad(&wgSeg);
    let live = workgroupUniformLoad(&wgLive);
    let e = seg.w;
    let depth = ${depth};
    var acc : array<vec4<f32>, 4>;
    if (live == 1) {
      for (var k0 = 0; k0 < depth; k0 += ${TK}) {
        for (var i = 0; i < ${(TM * TK) / TILED_THREADS}; i++) {
          let idx = lidx + i * ${TILED_THREADS};
          As[idx / ${TK}][idx % ${TK}] = loadA(e, seg, depth, row0 + idx / ${TK}, k0 + idx % ${TK});
        }
        for (var i = 0; i < ${(TK * TN) / TILED_THREADS}; i++) {
          let idx = lidx + i * ${TILED_THREADS};
          Bs[idx / ${TN}][idx % ${TN}] = loadB(e, seg, depth, k0 + idx / ${TN}, col0 + idx % ${TN});
        }
        workgroupBarrier();
        for (var kk = 0; kk < ${TK}; kk++) {
          let b = vec4<f32>(Bs[kk][tx * 4], Bs[kk][tx * 4 + 1], Bs[kk][tx * 4 + 2], Bs[kk][tx * 4 + 3]);
          for (var i = 0; i < 4; i++) {
            acc[i] = fma(vec4<f32>(As[ty * 4 + i][kk]), b, acc[i]);
          }
        }
        workgroupBarrier();
      }
    }
    for (var i = 0; i < 4; i++) {
      let m = row0 + ty * 4 + i;
      if (m < uniforms.M) {
        let v = select(vec4<f32>(0.0), acc[i], ${rowValid});
        for (var q = 0; q < 4; q++) {
          let n = col0 + tx * 4 + q;
          if (n < uniforms.N) { result[(${outRow}) * uniforms.N + n] = v[q]; }
        }
      }
    }
  }`;
}

/** Uniform fields of every grouped-matmul program, and their values for a spec (same order). */
const UNIFORMS = 'M : i32, N : i32, K : i32, E : i32, segOffset : i32,';
export const uniformValues = (s: GroupedMatMulSpec): number[] => [s.M, s.N, s.K, s.E, s.segOffset];

/** The program for a spec. Inputs: A, B, S (filled for batched, the layout for packed). */
export function groupedMatMulProgram(s: GroupedMatMulSpec): GpuProgram {
  const vec = s.variant === 'register' && vectorised(s);
  const perExpert = s.form === 'tn' || s.layout === 'batched';
  const [tileRows, tileCols, workgroupSize] =
    s.variant === 'register' ? [registerRows(s), REG_COLS, [WX, 1, 1] as [number, number, number]] : [TM, TN, [TN / 4, TM / 4, 1] as [number, number, number]];
  // B is read as vec4 in every vectorised form; A too in nt (along K) and tn (along P).
  const aComponents = vec && s.form !== 'nn' ? 4 : 1;
  return gpuProgram({
    variableNames: ['A', 'B', 'S'],
    variableComponents: [aComponents, vec ? 4 : 1, 1],
    outputComponent: vec ? 4 : 1,
    outputShape: outputShape(s),
    shaderKey: `switchyardGroupedMatMul_${s.variant}_${s.form}_${s.layout}_${vec ? 'vec4' : 'scalar'}`,
    dispatch: [ceilDiv(s.N, tileCols), ceilDiv(s.M, tileRows), perExpert ? s.E : 1],
    workgroupSize,
    uniforms: UNIFORMS,
    getUserCode: () => (s.variant === 'register' ? registerCode(s) : tiledCode(s)),
  });
}
