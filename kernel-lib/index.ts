/**
 * Switchyard's public entry: `import { MoeLayer, useBackend, train, … } from 'switchyard'`.
 *
 * The same names work in a tslab notebook, under tsx and in plain Node (CommonJS `require` and
 * ESM `import`): `npm run build` bundles this file into `dist/switchyard.cjs` (every npm package
 * left external, so tfjs stays one shared instance) with declarations in `dist/types/`, and
 * links `node_modules/switchyard` to the project. Import the library through this entry only:
 * a process that also imports `kernel-lib/**.ts` directly loads a second copy of it.
 *
 * Letters used in shapes: T tokens, D model, F hidden, E experts, C capacity, k choices.
 */
import { warnIfStaleBuild } from './util/build-freshness.ts';
import { projectRoot } from './util/project-root.ts';

// A notebook must not run an old build silently: the bundle warns when its sources are newer.
warnIfStaleBuild(import.meta.url, projectRoot(import.meta.url));

// Backend selection and the device a run ran on.
export * from './backend/index.ts';

// The MoE layer, its routers and the pure functions it is made of.
export * from './moe/index.ts';

// The Transformer LM.
export * from './model/index.ts';

// The Brown corpus pipeline.
export * from './data/index.ts';

// Training: the same entry point as the CLI.
export { DEFAULT_TRAIN_CONFIG, resolveTrainConfig, checkValue, parseOverride } from './train/config.ts';
export type { TrainConfig } from './train/config.ts';
export { train, readMetrics, TrainingDiverged } from './train/trainer.ts';
export type { EvalMetrics, RunResult, StepMetrics, TrainOptions } from './train/trainer.ts';
export { progressLine, fmtRate } from './train/progress.ts';
export type { ProgressInfo, ProgressSink } from './train/progress.ts';
export { createModel, modelConfigOf } from './train/model-factory.ts';
export { learningRate, DECAYS } from './train/schedule.ts';
export type { Decay, ScheduleOptions } from './train/schedule.ts';
export { AdamW, clipByGlobalNorm } from './train/optimizer.ts';
export type { AdamWOptions } from './train/optimizer.ts';
export { crossEntropy, correctCount } from './train/lm.ts';
export type { LanguageModel, LmForward } from './train/lm.ts';

// The conformance cases (docs/conformance.md).
export { parseCase, readCase } from './conformance/case.ts';
export type { CaseConfig, CaseGrads, CaseOutput, ConformanceCase } from './conformance/case.ts';
export { runCase, checkCase, relativeError, TOLERANCE } from './conformance/run.ts';
export type { CaseCheck } from './conformance/run.ts';

// Reports: figures, tables, claims; the offline report page.
export type { Cell, Claim, Figure, PlotlyTrace, ReportDoc, ReportSection, Table, Verdict } from './report/types.ts';
export { renderReportHtml } from './report/html.ts';
export { writeReport } from './report/write.ts';
export { reportFigure, reportTable } from './report/lookup.ts';
export type { WrittenReport } from './report/write.ts';
// Their HTML pieces, shared by the page and the notebook display.
export { figureHtml, plotlyLoaderHtml, plotlySpec, plotlyPackage, PLOTLY_MIME } from './report/plotly.ts';
export { tableHtml, tableText, formatCell, formatColumn, checkTable } from './report/table.ts';
export { deviceHtml, deviceText, deviceKind } from './report/device.ts';
export { escapeHtml } from './report/escape.ts';

// Showing results in a notebook (tslab is loaded only when a display function runs).
export * from './display/index.ts';

// Paths and files.
export { projectRoot } from './util/project-root.ts';
export { writeFileAtomic, writeJsonAtomic } from './util/atomic.ts';

// The paper's experiments, and the machinery to run sweeps and build their reports.
export { EXPERIMENTS, getExperiment, runExperiment, PRESETS } from '../experiments/index.ts';
export { runExperimentSweep, latestFinishedSweep, defaultResultsRoot, defaultJobs } from './exp/orchestrate.ts';
export type { ExperimentOptions, ExperimentRun } from './exp/orchestrate.ts';
export { buildReport, loadReport } from './exp/report.ts';
export type { BuiltReport } from './exp/report.ts';
export { loadRuns } from './exp/records.ts';
export { readSweep } from './exp/sweep-file.ts';
export type { RunProgress, RunState } from './exp/runner.ts';
export { PRESET_NAMES } from './exp/types.ts';
export type { Analysis, Experiment, LoadedRun, PresetDef, PresetName, SweepDef, SweepFile, SweepRun } from './exp/types.ts';
export {
  bootstrapCi, fisherExactGreater, holmAdjust, minimumDetectableEffect, normalizedMutualInformation, pairedTest, permutationPValue, slopeOf,
  summarize, welchTest,
} from './exp/stats.ts';
export type { Alternative, Summary, TestOptions, TestResult } from './exp/stats.ts';
export { studentTCdf, studentTQuantile } from './exp/distributions.ts';
export { CLAIM_ALPHA, decideClaims, ruleText } from './exp/claims.ts';
export type { ClaimRule, DecideOptions, Evidence } from './exp/claims.ts';
export { barFigure, heatmapFigure, lineFigure } from './exp/plots.ts';
export { readRoutingSnapshot, readRoutingTokens, routingSteps } from './train/routing-dump.ts';
export type { RoutingSnapshot, RoutingTokens } from './train/routing-dump.ts';
export {
  conditionalShares, crossLayerPredictability, expertLoad, expertLoadHeatmap, finalRoutingSnapshot, layerTransition, loadImbalance,
  loadImbalanceFigure, loadImbalanceSeries, moeLayers, transitionHeatmap,
} from './exp/routing-traces.ts';
export type { ExpertLoad, ImbalanceSeries, LayerTransition, LoadKind } from './exp/routing-traces.ts';

// Sweeps on a Slurm cluster: the sweep folder and its batch scripts, and submitting them.
export { emitSlurmSweep } from './exp/slurm-emit.ts';
export type { EmittedSweep, SlurmEmitOptions } from './exp/slurm-emit.ts';
export { submitSweep } from './exp/slurm-submit.ts';
export type { Submitted } from './exp/slurm-submit.ts';
export { submitScript, reportScript, slurmDefaults } from './exp/slurm-script.ts';
export type { SlurmOptions } from './exp/slurm-script.ts';

// What an expert-parallel Switch layer would move between devices (docs/scaling-out.md).
export { allToAllCost } from './moe/all-to-all.ts';
export type { AllToAllConfig, AllToAllCost } from './moe/all-to-all.ts';
