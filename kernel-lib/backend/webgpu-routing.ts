/**
 * WGSL for sorting token-choice assignments by expert on the GPU, without any read back
 * (megablocks' padded layout: histogram, exclusive scan, scatter).
 *
 * - `positionsProgram`: each assignment's position among its expert's assignments, in priority
 *   order (what moe/dispatch.ts `assignmentSlots` computes with a one-hot cumsum). One workgroup
 *   per expert: each invocation counts its expert's assignments in a contiguous run, one
 *   workgroup scan turns the counts into offsets, and a second pass writes positions. Output:
 *   slot = e·C + position when position < C, else E·C (dropped).
 * - `layoutProgram`: from the slots and the kept count per expert, the packed layout (moe/
 *   packed-layout.ts): each expert's segment padded to the row tile, so the buffer's size is
 *   known before the call. Every invocation first builds the segment starts (exclusive scan of
 *   padded counts) in workgroup memory; then one invocation per assignment writes its row and
 *   scatters itself into that row, and one per row marks padding and unused rows with -1. The
 *   two kinds of write touch disjoint rows, so one dispatch suffices.
 */
import { ceilDiv, gpuProgram, wgslSegmentSearch, type GpuProgram } from './webgpu-program.ts';

const THREADS = 256;

/**
 * Inputs: choices int32[k·T] in priority order. Output int32[k·T] slots.
 * Uniforms: n = k·T, E, C.
 */
export function positionsProgram(n: number, E: number): GpuProgram {
  return gpuProgram({
    variableNames: ['choices'],
    outputShape: [n],
    shaderKey: 'switchyardPositions',
    dispatch: [1, 1, E],
    workgroupSize: [THREADS, 1, 1],
    uniforms: 'n : i32, E : i32, C : i32,',
    getUserCode: () => `
  var<workgroup> partial : array<i32, ${THREADS}>;
  fn main() {
    let e = i32(workgroupId.z);
    let lid = i32(localIndex);
    let per = (uniforms.n + ${THREADS - 1}) / ${THREADS};
    let begin = min(lid * per, uniforms.n);
    let end = min(begin + per, uniforms.n);
    var count = 0;
    for (var a = begin; a < end; a++) {
      if (choices[a] == e) { count++; }
    }
    partial[lid] = count;
    workgroupBarrier();
    // Hillis-Steele inclusive scan of the per-invocation counts.
    for (var stride = 1; stride < ${THREADS}; stride *= 2) {
      var add = 0;
      if (lid >= stride) { add = partial[lid - stride]; }
      workgroupBarrier();
      partial[lid] += add;
      workgroupBarrier();
    }
    var pos = partial[lid] - count;
    let dropped = uniforms.E * uniforms.C;
    for (var a = begin; a < end; a++) {
      if (choices[a] == e) {
        result[a] = select(dropped, e * uniforms.C + pos, pos < uniforms.C);
        pos++;
      }
    }
  }`,
  });
}

/**
 * Inputs: slots int32[k·T] (e·C + position, or E·C dropped), kept float32[E] (kept assignments
 * per expert). Output int32[k·T + R + 2E]: row of each assignment (-1 dropped), assignment of
 * each row (-1 padding or unused), segment starts, kept counts.
 * Uniforms: n = k·T, R, E, C, tile.
 */
export function layoutProgram(n: number, R: number, E: number): GpuProgram {
  return gpuProgram({
    variableNames: ['slots', 'kept'],
    outputShape: [n + R + 2 * E],
    shaderKey: `switchyardPackLayout_E${E}`,
    dispatch: [ceilDiv(Math.max(n + R, E), THREADS), 1, 1],
    workgroupSize: [THREADS, 1, 1],
    uniforms: 'n : i32, R : i32, E : i32, C : i32, tile : i32,',
    getUserCode: () => `
  var<workgroup> starts : array<i32, ${E}>;
  fn keptOf(e : i32) -> i32 { return i32(round(kept[e])); }
  ${wgslSegmentSearch('expertOfRow', (i) => `starts[${i}]`, `${E - 1}`)}
  fn main() {
    let lid = i32(localIndex);
    if (lid == 0) {
      var s = 0;
      for (var e = 0; e < ${E}; e++) {
        starts[e] = s;
        s += (keptOf(e) + uniforms.tile - 1) / uniforms.tile * uniforms.tile;
      }
    }
    workgroupBarrier();
    let g = i32(workgroupId.x) * ${THREADS} + lid;
    let rowsAt = uniforms.n;
    if (g < ${E}) {
      result[rowsAt + uniforms.R + g] = starts[g];
      result[rowsAt + uniforms.R + ${E} + g] = keptOf(g);
    }
    if (g < uniforms.n) {
      let s = slots[g];
      if (s < uniforms.E * uniforms.C) {
        let e = s / uniforms.C;
        let row = starts[e] + s - e * uniforms.C;
        result[g] = row;
        result[rowsAt + row] = g;
      } else {
        result[g] = -1;
      }
    } else if (g < uniforms.n + uniforms.R) {
      let r = g - uniforms.n;
      let e = expertOfRow(r);
      if (r - starts[e] >= keptOf(e)) { result[rowsAt + r] = -1; }
    }
  }`,
  });
}
