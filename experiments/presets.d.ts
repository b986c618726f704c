/**
 * Presets: the model size, schedule and seeds every experiment uses at that scale. Each
 * experiment picks its own variations (expert counts, capacity factors, …) per preset.
 *
 * - `quick`: the tests, CI and `npm start`; every experiment end to end in about a minute on 2
 *   cores (wasm). Far too small for the paper's effects to show: its verdicts are honest about that.
 * - `cpu`: a laptop, each experiment within about an hour on 4 cores (wasm), 3 seeds.
 * - `gpu`: one GPU through WebGPU.
 * Minutes are in `minutes`, from measurements (README: Experiments).
 */
import type { PresetDef, PresetName } from '../kernel-lib/exp/types.ts';
export declare const PRESETS: Record<PresetName, PresetDef>;
