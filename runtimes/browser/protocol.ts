/**
 * What the page and its worker say to each other over comlink: the worker's API and the
 * progress events it calls back with. Types only, so neither bundle pulls in the other.
 */
import type { ForkResult } from '../../core/experiments/result_schema.ts';

export const BROWSER_BACKENDS = ['auto', 'webgpu', 'cpu'] as const;
export type BrowserBackendChoice = (typeof BROWSER_BACKENDS)[number];

/** A Progress call, flattened so it can cross postMessage. */
export type ProgressEvent =
  | { kind: 'start'; label: string; total: number }
  | { kind: 'update'; done: number; status: string }
  | { kind: 'finish'; status: string }
  | { kind: 'log'; line: string };

export interface WorkerApi {
  /**
   * Runs a fork experiment from command-line style options (`{ data: 'synthetic:…', k1:
   * '0,10', … }`, over FORK_DEFAULTS) on the chosen backend (chosen as the CLI's
   * `--backend` chooses), in memory. `onProgress` is a comlink proxy; its first log line
   * says which backend was chosen and why.
   * @throws the core's RidgelineError messages (`E_SPEC: …`, `E_NO_ADAPTER: …`) unchanged.
   */
  run(specOptions: Record<string, string>, backendChoice: BrowserBackendChoice, onProgress?: (e: ProgressEvent) => void): Promise<ForkResult>;
}
