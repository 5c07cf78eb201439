/**
 * What the page and its worker say to each other over comlink: the worker's API and the
 * progress events it calls back with. Types and one constant, so neither bundle pulls in the other.
 */
import type { ForkCell, ForkResult, SplitMetrics } from '../../core/experiments/result_schema.ts';
import type { MathMode } from '../../core/math_mode.ts';

export const BROWSER_BACKENDS = ['auto', 'webgpu', 'cpu'] as const;
export type BrowserBackendChoice = (typeof BROWSER_BACKENDS)[number];

/** A Progress call, flattened so it can cross postMessage. */
export type ProgressEvent =
  | { kind: 'start'; label: string; total: number }
  | { kind: 'update'; done: number; status: string }
  | { kind: 'finish'; status: string }
  | { kind: 'log'; line: string }
  /** A fork cell the moment its node is published, so the page can draw it before the run ends. */
  | { kind: 'cell'; cell: ForkCell };

/** A file the user gave the page, by name and contents. */
export interface GivenFile {
  name: string;
  bytes: Uint8Array;
}

/**
 * The data option's folder for files the user dropped (`mnist:dropped`, `cifar10:dropped`):
 * the worker puts them in a folder of its in-memory store and names that folder instead.
 */
export const DROPPED = ':dropped';

/** What the barrier view asks for: two checkpoints and, for `KIND:dropped` data, the dropped files. */
export interface BarrierRequest {
  a: GivenFile;
  b: GivenFile;
  /** CLI-style options of `ridgeline barrier` (model, width, data, limit, alphas, math, …). */
  options: Record<string, string>;
  /** IDX or CIFAR files for `data: 'KIND:dropped'`; none for the bundled digits. */
  dataFiles: GivenFile[];
}

/** What `ridgeline barrier --json` prints, less the provenance only a CLI has (file paths). */
export interface BarrierResult {
  model: string;
  modelDescription: string;
  data: string;
  backend: string;
  adapter: string;
  /** The kernels' arithmetic (`math` among the options; strict when absent). */
  math: MathMode;
  runtime: string;
  train: SplitMetrics;
  test: SplitMetrics;
  weightDistance: number;
  weightDistanceByLayer: { name: string; distance: number }[];
}

export interface WorkerApi {
  /**
   * Runs a fork experiment from command-line style options (`{ data: 'synthetic:…', k1:
   * '0,10', math: 'relaxed', … }`, over FORK_DEFAULTS) on the chosen backend (chosen as the CLI's
   * `--backend` chooses), in memory. `onProgress` is a comlink proxy; its first log line
   * says which backend was chosen and why.
   * @throws the core's RidgelineError messages (`E_SPEC: …`, `E_NO_ADAPTER: …`) unchanged.
   */
  run(
    specOptions: Record<string, string>,
    backendChoice: BrowserBackendChoice,
    onProgress?: (e: ProgressEvent) => void,
  ): Promise<ForkResult>;
  /**
   * The barrier between two checkpoints, computed as the CLI's `barrier` computes it
   * (core/lmc/checkpoint_barrier.ts). Progress: one `start` with the stage count, an
   * `update` per stage. A bad file is the core's one-line message naming it.
   */
  barrier(request: BarrierRequest, backendChoice: BrowserBackendChoice, onProgress?: (e: ProgressEvent) => void): Promise<BarrierResult>;
}
