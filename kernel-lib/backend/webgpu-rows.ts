/**
 * WGSL moving rows between tokens and the packed expert rows (moe/packed-rows.ts), each one
 * dispatch. With a = j·T + t the assignment of token t's (j+1)-th choice, rowOf[a] its packed row
 * (-1 when dropped) and assignOf[r] the assignment in row r (-1 for padding):
 * - `gatherRowsProgram`  out[r] = scale[a]·x[t] for a = assignOf[r], 0 for padding (dispatch;
 *   with the gates as scale, the gradient of combine)
 * - `combineRowsProgram` y[t] = Σ_j scale[a]·src[rowOf[a]] over kept choices (combine; with a
 *   scale of ones, the gradient of dispatch)
 * - `rowDotsProgram`     d[a] = src[rowOf[a]] · y[t], 0 when dropped (the gates' gradient)
 * Rows are read as vec4 when D is a multiple of 4.
 */
import { ceilDiv, gpuProgram, type GpuProgram } from './webgpu-program.ts';

const THREADS = 64;
/** Rows per dispatch column: rows go on y and z, as one dimension holds at most 65535 workgroups. */
const Y_ROWS = 32768;
const rowDispatch = (width: number, rows: number): [number, number, number] => [ceilDiv(width, THREADS), Math.min(rows, Y_ROWS), ceilDiv(rows, Y_ROWS)];
const ROW_ID = `i32(workgroupId.y) + i32(workgroupId.z) * ${Y_ROWS}`;

/** Uniforms: T, k, D in vec4 (or scalar) units, R; the layout sections start at 0 (rowOf) and k·T (assignOf). */
const UNIFORMS = 'T : i32, k : i32, width : i32, R : i32,';

export interface RowsShape {
  /** tokens */
  T: number;
  /** choices per token */
  k: number;
  /** model width */
  D: number;
  /** packed rows */
  R: number;
}

const vec = (s: RowsShape) => s.D % 4 === 0;
const width = (s: RowsShape) => (vec(s) ? s.D / 4 : s.D);
export const rowsUniforms = (s: RowsShape): number[] => [s.T, s.k, width(s), s.R];
const elem = (s: RowsShape) => (vec(s) ? 'vec4<f32>' : 'f32');
const key = (name: string, s: RowsShape) => `switchyard${name}_${vec(s) ? 'vec4' : 'scalar'}`;

/**
 * A program writing `rows` rows of D floats (vec4 where D allows), one invocation per element:
 * `body` sets `v` for row `i`, column `c` (the uniforms' `width` units).
 */
function rowsProgram(name: string, s: RowsShape, inputs: [string, string], rows: number, rowLimit: string, body: string): GpuProgram {
  const v = vec(s) ? 4 : 1;
  return gpuProgram({
    variableNames: [...inputs, 'lay'],
    variableComponents: [v, 1, 1],
    outputComponent: v,
    outputShape: [rows, s.D],
    shaderKey: key(name, s),
    dispatch: rowDispatch(width(s), rows),
    workgroupSize: [THREADS, 1, 1],
    uniforms: UNIFORMS,
    getUserCode: () => `
  fn main() {
    let i = ${ROW_ID};
    let c = i32(globalId.x);
    if (c >= uniforms.width || i >= ${rowLimit}) { return; }
    var v = ${elem(s)}(0.0);
    ${body}
    result[i * uniforms.width + c] = v;
  }`,
  });
}

/** Inputs: x float32[T,D], scale float32[k·T], layout. Output float32[R,D]. */
export function gatherRowsProgram(s: RowsShape): GpuProgram {
  return rowsProgram('GatherRows', s, ['x', 'scale'], s.R, 'uniforms.R', `
    let a = lay[uniforms.k * uniforms.T + i];
    if (a >= 0) { v = scale[a] * x[(a % uniforms.T) * uniforms.width + c]; }`);
}

/** Inputs: src float32[R,D], scale float32[k·T], layout. Output float32[T,D]. */
export function combineRowsProgram(s: RowsShape): GpuProgram {
  return rowsProgram('CombineRows', s, ['src', 'scale'], s.T, 'uniforms.T', `
    for (var j = 0; j < uniforms.k; j++) {
      let a = j * uniforms.T + i;
      let row = lay[a];
      if (row >= 0) { v += scale[a] * src[row * uniforms.width + c]; }
    }`);
}

/** Inputs: src float32[R,D], y float32[T,D], layout. Output float32[k·T]. */
export function rowDotsProgram(s: RowsShape): GpuProgram {
  const v = vec(s) ? 4 : 1;
  const dot = vec(s) ? 'dot(src[row * uniforms.width + c], y[t * uniforms.width + c])' : 'src[row * uniforms.width + c] * y[t * uniforms.width + c]';
  return gpuProgram({
    variableNames: ['src', 'y', 'lay'],
    variableComponents: [v, v, 1],
    outputShape: [s.k * s.T],
    shaderKey: key('RowDots', s),
    dispatch: [ceilDiv(s.k * s.T, THREADS), 1, 1],
    workgroupSize: [THREADS, 1, 1],
    uniforms: UNIFORMS,
    getUserCode: () => `
  fn main() {
    let a = i32(globalId.x);
    if (a >= uniforms.k * uniforms.T) { return; }
    let row = lay[a];
    var d = 0.0;
    if (row >= 0) {
      let t = a % uniforms.T;
      for (var c = 0; c < uniforms.width; c++) { d += ${dot}; }
    }
    result[a] = d;
  }`,
  });
}
