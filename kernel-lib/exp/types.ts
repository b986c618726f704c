/**
 * Experiments: a sweep (the runs of a preset) and an analysis (tables, figures and claims from
 * the runs' records). The command line, the notebooks and the report builder all call the same
 * experiment objects (experiments/<name>/).
 */
import type { DeviceInfo } from '../backend/device.ts';
import type { ReportSection, Table } from '../report/types.ts';
import type { ClaimRule, Evidence } from './claims.ts';
import type { EvalMetrics, StepMetrics } from '../train/trainer.ts';
import type { TrainConfig } from '../train/config.ts';
import type { InitFromRecord } from '../train/run-dir.ts';

export const PRESET_NAMES = ['quick', 'cpu', 'gpu'] as const;
/** `quick`: tests and CI, minutes on 2 cores. `cpu`: a laptop, ≤ 1 hour per experiment on 4 cores. `gpu`: one GPU through WebGPU. */
export type PresetName = (typeof PRESET_NAMES)[number];

export type Label = string | number | boolean | null;

/** What a preset sets for every experiment: model size, schedule, steps, seeds. */
export interface PresetDef {
  name: PresetName;
  description: string;
  /** Config shared by every run of every experiment at this preset. */
  base: Partial<TrainConfig>;
  /** Steps when no `--budget` sets them. */
  steps: number;
  schedule: Schedule;
  /** Seeds per configuration. */
  seeds: number[];
  /** Measured (or, where stated, estimated) minutes per experiment, for the README and `exp --list`. */
  minutes: string;
  /**
   * Whether the paper's claims are decided at this preset. false where the model is far too
   * small for the paper's effects: they say `not assessed`, with the effect the runs could have
   * detected; implementation checks run at every preset.
   */
  assessesPaperClaims: boolean;
}

/** One run of a sweep, before resolution. */
export interface SweepRun {
  /** Unique within the sweep and file-name safe (`switch-e8-s0`): the run directory's name. */
  id: string;
  /** The configuration it is a seed of (`switch-e8`): seeds of one group are averaged. */
  group: string;
  seed: number;
  /** Overrides over the sweep's base config (never `name`, `outDir` or `steps`). */
  config: Partial<TrainConfig>;
  /** What the analysis reads (`{ model: 'switch', experts: 8 }`). */
  labels: Record<string, Label>;
}

/** A sweep definition: a base config shared by every run, and the runs. */
export interface SweepDef {
  base: Partial<TrainConfig>;
  runs: SweepRun[];
  /** Routing snapshots per run (spread evenly over training; 0 or absent = none). */
  snapshots?: number;
  /** Steps of every run when no `--budget` sets them (default: the preset's); sized so the sweep fits the preset's time. */
  steps?: number;
  /** The claims and their decision rules, fixed here before any run (claims.ts). */
  claims?: ClaimRule[];
  /** Whether the paper's claims are decided (the preset's `assessesPaperClaims`); checks always are. */
  assessPaperClaims?: boolean;
}

/** How a step count turns into the step-dependent settings of every run. */
export interface Schedule {
  /** Evaluations per run (evenly spaced; the last at the end). */
  evalPoints: number;
  /** Warm-up as a fraction of the steps. */
  warmupFraction: number;
}

/** A run of a resolved sweep: its full config is in the sweep file. */
export interface ResolvedRun extends Omit<SweepRun, 'config'> {
  config: TrainConfig;
}

/** `sweep.json`: everything needed to run any one run, by index, on any machine that has the project. */
export interface SweepFile {
  format: 'switchyard-sweep-1';
  experiment: string;
  preset: PresetName;
  /** Identifies the definition (runs, base, preset, budget), not the step count a budget chose. */
  key: string;
  created: string;
  /** `--budget` in minutes, when one set the steps. */
  budgetMinutes: number | null;
  /** Steps of every run (equal across the comparison). */
  steps: number;
  /** How the steps were chosen: the preset's default, or a calibration for the budget. */
  stepsFrom: { kind: 'preset' } | { kind: 'budget'; msPerStep: Record<string, number>; jobs: number; minutes: number };
  schedule: Schedule;
  snapshots: number;
  runs: ResolvedRun[];
  /** The claim rules of the definition (absent in sweeps made before rules were part of it). */
  claims?: ClaimRule[];
  assessPaperClaims?: boolean;
}

/** One run as the analysis sees it: labels, config, metrics and how it ended. */
export interface LoadedRun {
  id: string;
  group: string;
  seed: number;
  labels: Record<string, Label>;
  config: TrainConfig;
  runDir: string;
  status: 'completed' | 'stopped' | 'interrupted' | 'diverged' | 'missing' | 'failed';
  train: StepMetrics[];
  eval: EvalMetrics[];
  /** Final evaluation (of a completed run). */
  final?: EvalMetrics;
  device?: DeviceInfo;
  /** Tokens in the training split it trained on (from environment.json), for epochs. */
  trainTokens?: number;
  /** Why the run has no usable result, for missing/failed runs. */
  reason?: string;
  /** Where its first weights came from, when it started from another run's (`initFrom`; environment.json). */
  initFrom?: InitFromRecord;
}

/** What an analysis returns: the report's claims and sections, and the rows of summary.csv. */
export interface Analysis {
  /** What was measured for each claim rule of the sweep, by rule id (claims.ts decides the verdicts). */
  evidence: Record<string, Evidence>;
  sections: ReportSection[];
  /** One row per run or group; the columns the experiment chooses. */
  summary: Table;
}

export interface AnalysisContext {
  /** The results folder of the sweep (run directories under runs/). */
  dir: string;
  sweep: SweepFile;
}

/** An experiment: name, what it reproduces, its sweep per preset, and its analysis. */
export interface Experiment {
  name: string;
  title: string;
  /** What the paper claims and what this measures (a paragraph for the report and the CLI). */
  summary: string;
  sweep(preset: PresetName): SweepDef;
  /** This experiment's own departures from the paper (the shared ones come from the runs' configs: differences.ts). */
  differences(preset: PresetName): string[];
  /** The analysis needs Brown's part-of-speech tags and genres (so a corpus of your own is refused). */
  needsTags?: boolean;
  analyze(runs: LoadedRun[], ctx: AnalysisContext): Analysis | Promise<Analysis>;
}
