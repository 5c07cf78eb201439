/**
 * The shape of `result.json` of a fork experiment (schema version 1). Every number's
 * meaning is fixed by docs/metrics.md (path, barriers, distances) and docs/fork.md (k1, k2, pairing).
 */
import type { Summary } from '../lmc/repeat_stats.ts';
import type { MathMode } from '../math_mode.ts';
import type { RepeatSeeds } from './repeat_seeds.ts';

export const RESULT_SCHEMA_VERSION = 2;

/** The metrics summarised over repeats, per cell. */
export const SUMMARY_METRICS = [
  'testErrorBarrier',
  'testErrorFloor',
  'testErrorBarrierExcess',
  'trainErrorBarrier',
  'trainLossBarrier',
  'testLossBarrier',
  'testAccuracy',
  'weightDistance',
] as const;
export type SummaryMetric = (typeof SUMMARY_METRICS)[number];

export interface CellSummary {
  k1: number;
  k2: number;
  metrics: Record<SummaryMetric, Summary>;
}

/** The direction the k1/k2 paper reports: the barrier at the first k1 above the one at the last. */
export interface Finding {
  metric: SummaryMetric;
  firstK1: number;
  lastK1: number;
  first: Summary;
  last: Summary;
  /** first.mean − last.mean. */
  drop: number;
  /** The larger of the two cells' standard deviations over repeats. */
  spread: number;
  /** drop > spread (and > 0): the barrier falls with k1 by more than the noise between repeats. */
  holds: boolean;
  text: string;
}

/** One α point of the linear path θ(α) = (1 − α)·θA + α·θB, evaluated on one split. */
export interface CurvePoint {
  alpha: number;
  /** Mean loss L(θ(α)) over the split. */
  loss: number;
  /** E(θ(α)) = 1 − accuracy. */
  error: number;
  /** L(θ(α)) − [(1 − α)·L(θA) + α·L(θB)] (docs/metrics.md#barriers; exactly 0 at both ends). */
  gap: number;
}

/** Barrier metrics of one pair on one split (docs/metrics.md: barriers, distances). */
export interface SplitMetrics {
  /** max_α gap(α) over the grid; may be negative. */
  lossBarrier: number;
  lossBarrierAlpha: number;
  /** max_α E(θ(α)) − ½(E(θA) + E(θB)). */
  errorBarrier: number;
  /** ½·|E(θA) − E(θB)|: the least errorBarrier can be, reached when the path adds nothing (docs/metrics.md#barriers). */
  errorFloor: number;
  /** errorBarrier − errorFloor: what the path adds above the endpoints' disagreement. */
  errorBarrierExcess: number;
  /** errorBarrier / (½(Acc_test(A) + Acc_test(B))) — always normalised by TEST accuracy. */
  normalizedBarrier: number;
  lossA: number;
  lossB: number;
  accuracyA: number;
  accuracyB: number;
  curve: CurvePoint[];
  /** Mean cross-entropy H(pA, pB) between the endpoints' softmax outputs. */
  predictionDistance: number;
  /** ½(H(pA, pB) + H(pB, pA)). */
  predictionDistanceSymmetric: number;
}

export interface LayerDistance {
  name: string;
  distance: number;
}

/** One (k1, k2) cell of the fork grid: a pair of networks and the path between them. */
export interface ForkCell {
  k1: number;
  k2: number;
  /** Repeat index (0 … repeats − 1): each repeat runs the whole procedure with its own seeds. */
  repeat: number;
  /** This repeat's seeds (docs/fork.md): init, parent order, children's orders, augmentation. */
  seeds: { init: number; order: number; children: number[]; augment: number };
  /** What A and B are, e.g. `child(seed 1)` / `child(seed 2)` or `main@k1+k2` / `child`. */
  a: string;
  b: string;
  /** Checkpoint files (relative to the run directory) of A and B. */
  checkpointA: string;
  checkpointB: string;
  /** The parent checkpoint the children were forked from (pairs mode), relative to the run directory. */
  checkpointFork?: string;
  train: SplitMetrics;
  test: SplitMetrics;
  /** ‖θA − θB‖₂ over all parameters, and per layer. */
  weightDistance: number;
  weightDistanceByLayer: LayerDistance[];
  /** Whether the test error barrier is below the spec's threshold (default 0.02). */
  connected: boolean;
  /** With --align: the same pair after permuting B into A's basis (docs/metrics.md#alignment-modulo-permutation). */
  aligned?: AlignedPair;
}

/** A pair after aligning B to A: the matching and the path between A and π(B). */
export interface AlignedPair {
  method: 'weight' | 'activation';
  seed: number;
  /** Σ⟨W_A, W_B⟩ before and Σ⟨W_A, π(W_B)⟩ after the matching. */
  objectiveBefore: number;
  objective: number;
  train: SplitMetrics;
  test: SplitMetrics;
  /** ‖θA − π(θB)‖₂. */
  weightDistance: number;
  /** With --repair: the aligned path after REPAIR (each θ(α)'s hidden channels renormalised). */
  repaired?: { train: SplitMetrics; test: SplitMetrics };
}

export interface Provenance {
  backend: string;
  adapter: string;
  /** The kernels' arithmetic (core/math_mode.ts); absent in results from before it existed, which were strict. */
  math?: MathMode;
  runtime: string;
  ridgelineVersion: string;
  gitCommit: string | null;
  startedAt: string;
  finishedAt: string;
}

export interface PhaseTiming {
  phase: string;
  seconds: number;
}

export interface ForkResult {
  schemaVersion: number;
  kind: 'fork';
  /** The full resolved spec (every option with its final value). */
  spec: Record<string, unknown>;
  /** Repeat 0's seeds (the spec's), and every repeat's. */
  seeds: { init: number; order: number; children: number[]; repeats: RepeatSeeds[] };
  /** Unit of k1/k2 in `cells` and `spec`: training steps or epochs. */
  units: 'steps' | 'epochs';
  stepsPerEpoch: number;
  provenance: Provenance;
  /** The store the run's nodes live in, and the id of its one-point sweep there. */
  store?: { root: string; sweepId: string; nodes: number };
  timings: PhaseTiming[];
  /** Training loss of the parent (or main run) every few steps, for the report. */
  parentLoss: { step: number; loss: number }[];
  cells: ForkCell[];
  /** Per (k1, k2): each key metric over the repeats (mean, sd, 95 % t interval, n; docs/fork.md). */
  summary: CellSummary[];
  /** What the grid shows, in words and numbers (e.g. the barrier falling with k1). */
  finding?: Finding;
  /**
   * Classification, or regression (SIREN): then the loss is the MSE, "error" is the RMSE
   * and "accuracy" is 1 − RMSE, so every barrier formula applies unchanged. Absent = classification.
   */
  task?: 'classification' | 'regression';
}
