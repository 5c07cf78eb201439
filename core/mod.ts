/**
 * ridgeline's library API, runtime-agnostic: everything here runs unchanged in Node, Deno,
 * Bun, a browser page and a Web Worker (file access and progress are injected). Node and Bun
 * users import `ridgeline` (runtimes/library.ts), which re-exports this module and adds its
 * runtime's files, WebGPU and CPU helper thread; Deno users import this module or that one;
 * pages use the ES module bundle `dist/browser/ridgeline.js` built from this file.
 *
 * A typical session: {@link createBackend}; a data set ({@link loadDataset} by name, or
 * {@link datasetFromArrays}); a model ({@link createModel}, weights from {@link loadWeights}
 * or `model.init(seed)`); {@link trainRun}; {@link measureBarrier} between two networks;
 * {@link matchNetworks} and {@link permuteState} to align B to A first; {@link hessianEigenvalues}; or a whole fork experiment with {@link runForkExperiment} on a
 * spec from {@link forkSpecFrom}, whose result is a typed {@link ForkResult} (result.json).
 * docs/api.md walks through it; docs/metrics.md defines every number.
 *
 * @module
 */

// Backends: where tensors live and kernels run.
export type { Backend } from './backend.ts';
// A third backend extends CheckedBackend, which enforces the shared contract (IN_PLACE included).
export { IN_PLACE } from './backend.ts';
export { CheckedBackend } from './backend_contract.ts';
export {
  BACKEND_CHOICES,
  type BackendChoice,
  closeBackend,
  createBackend,
  isSoftwareAdapter,
  selectBackend,
  type SelectedBackend,
  type SelectOptions,
} from './select_backend.ts';
// Opt-in relaxed math (fused multiply-add on the CPU backend; not bit-identical across machines).
export { MATH_CHOICES, type MathMode } from './math_mode.ts';
export { type ErrorCode, RidgelineError } from './errors.ts';

// Files and progress, injected by whoever embeds the library.
export { type FileStore, joinPath, type ReadLimit } from './io.ts';
export { type MemoryFileStore, memoryFileStore } from './io_memory.ts';
export { type Progress, silentProgress } from './progress.ts';

// Data.
export { type Dataset, featureCount, headOfSplit, type NormalizationRecord, type Split } from './data/dataset.ts';
export { DATASET_NAMES, loadDataset, type LoadDatasetOptions } from './data/registry.ts';
export { type ArrayDatasetOptions, type ArraySplit, datasetFromArrays } from './data/arrays.ts';
export type { NormalizeMode } from './data/normalize.ts';

// Models and their weights (PyTorch state_dict names, safetensors files).
export { createModel, LISTED_MODELS, MODEL_NAMES, type ModelOptions } from './nn/registry.ts';
export type { LayerSlice, Model, ParamInfo, Task } from './nn/model.ts';
export { loadCheckpoint, loadWeights, saveCheckpoint, saveWeights } from './train/checkpoint.ts';
export {
  type DecodedSafetensors,
  decodeSafetensors,
  encodeSafetensors,
  type NamedTensor,
  type SafetensorsDtype,
} from './io/safetensors.ts';

// Experiment specs and presets.
export { FORK_DEFAULTS, type ForkSpec } from './experiments/fork_spec.ts';
export { type ForkOptions, forkSpecFrom } from './sweep/sweep_spec.ts';
export { type Preset, presetNames, PRESETS, presetSpec } from './experiments/presets.ts';

// Training.
export { type TrainRun, trainRun, type TrainRunOptions } from './experiments/train_run.ts';
export { trainConfigOf } from './experiments/train_config.ts';
export { trainingLoader } from './experiments/train_loader.ts';
export type { TrainConfig } from './train/config.ts';
export { cloneState, disposeState, readWeights, stateFromWeights, type TrainState } from './train/state.ts';
export { type BatchSource, type TrainHooks, trainSteps } from './train/trainer.ts';

// Linear paths and barriers (docs/metrics.md).
export { type BarrierOptions, measureBarrier, type PairBarrier } from './lmc/pair_barrier.ts';
export { evaluatePath, type PathEvaluation, type PathPoint } from './lmc/path_eval.ts';
export { alphaGrid, errorBarrier, errorFloor, interpolationGaps, lossBarrier, normalizedBarrier } from './lmc/barrier.ts';
export { pairMetrics, splitMetrics } from './lmc/metrics.ts';
export { layerDistances, weightDistance } from './lmc/distances.ts';

// Alignment modulo permutation (docs/metrics.md#alignment-modulo-permutation).
export { ALIGN_METHODS, type AlignMethod, checkAlignable, matchNetworks } from './align/match.ts';
export type { MatchResult } from './align/weight_matching.ts';
export { identityPermutations, invertAll, type Permutations, permutationsOf, permuteState, unpermuteState } from './align/permute.ts';
export { type Assignment, type AssignmentOptions, linearAssignment } from './align/assignment.ts';
export { repairedPath, repairNetwork, type RepairOptions } from './align/repair.ts';

// Second order.
export { hessianEigenvalues } from './lmc/dataset_hessian.ts';
export { EIGEN_DEFAULTS, type EigenMethod, type EigenOptions, type ExtremeEigenvalues, extremeEigenvalues } from './lmc/hessian.ts';
export {
  DatasetDerivatives,
  datasetGradient,
  datasetLoss,
  type DerivativeOptions,
  flattenWeights,
  subsetOf,
  unflattenWeights,
} from './lmc/dataset_derivatives.ts';

// Fork experiments and their result (result.json).
export { type ForkRunOptions, runForkExperiment, type RunHost } from './sweep/fork_runner.ts';
export * from './experiments/result_schema.ts';
