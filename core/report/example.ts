/**
 * A synthetic fork result built from closed-form formulas, shaped like the k1/k2 paper's
 * findings (SPEC §9): the barrier falls with k1 and grows with k2 for small k1; distances
 * grow with k2. For previews of the report and for its tests — never a measured result
 * (its provenance says `synthetic`).
 *
 * Curves are exact parabolas through the endpoints, gap(α) = 4·L̂·α(1 − α) and
 * E(α) = E_end + 4·B·α(1 − α), so on any grid containing α = ½ the recorded barriers are
 * exactly the curves' maxima: the fixture is self-consistent, as a real run must be.
 */
import { summarizeCells } from '../lmc/fork_summary.ts';
import { RESULT_SCHEMA_VERSION, type CurvePoint, type ForkCell, type ForkResult, type SplitMetrics } from '../experiments/result_schema.ts';

export interface ExampleOptions {
  k1s?: readonly number[];
  k2s?: readonly number[];
  /** Pairs per cell (main-branch mode repeats the procedure). */
  repeats?: number;
  /** α grid size (odd keeps ½ on the grid). */
  alphas?: number;
  units?: 'steps' | 'epochs';
  /** Keep only the cells for which this returns true (partial grids, diagonals). */
  keep?: (k1: number, k2: number) => boolean;
  /** Shift every loss barrier by this much (negative values exercise the convex case). */
  lossShift?: number;
}

/** Test error barrier of the synthetic landscape: falls with k1, saturates with k2. */
export function exampleErrorBarrier(k1: number, k2: number): number {
  return 0.3 * Math.exp(-k1 / 2) * (1 - Math.exp(-k2 / 5));
}

function split(k1: number, k2: number, rep: number, alphas: number, train: boolean, shift: number): SplitMetrics {
  const jitter = 1 + 0.03 * rep;
  const errorBarrier = exampleErrorBarrier(k1, k2) * jitter * (train ? 0.8 : 1);
  const endError = (train ? 0.01 : 0.02) + 0.1 * Math.exp(-(k1 + k2) / 10);
  const lossBarrier = (2 * errorBarrier + shift) * (train ? 0.9 : 1);
  const lossA = -Math.log(1 - endError) + 0.05;
  const lossB = lossA * 1.02;
  const curve: CurvePoint[] = [];
  for (let i = 0; i < alphas; i++) {
    const alpha = i / (alphas - 1);
    const bump = 4 * alpha * (1 - alpha);
    const gap = lossBarrier * bump;
    curve.push({ alpha, loss: (1 - alpha) * lossA + alpha * lossB + gap, error: endError + errorBarrier * bump, gap });
  }
  const acc = 1 - endError;
  return {
    lossBarrier, lossBarrierAlpha: 0.5, errorBarrier, errorFloor: 0, errorBarrierExcess: errorBarrier,
    normalizedBarrier: errorBarrier / (1 - (0.02 + 0.1 * Math.exp(-(k1 + k2) / 10))),
    lossA, lossB, accuracyA: acc, accuracyB: acc, curve,
    predictionDistance: 0.02 * Math.sqrt(k2) * (1 + 1 / (1 + k1)) * jitter,
    predictionDistanceSymmetric: 0.021 * Math.sqrt(k2) * (1 + 1 / (1 + k1)) * jitter,
  };
}

export function exampleForkResult(options: ExampleOptions = {}): ForkResult {
  const k1s = options.k1s ?? [0, 1, 2, 4, 8];
  const k2s = options.k2s ?? [1, 2, 5, 10, 20];
  const repeats = options.repeats ?? 1;
  const alphas = options.alphas ?? 25;
  const units = options.units ?? 'epochs';
  const stepsPerEpoch = 100;
  const shift = options.lossShift ?? -0.01;
  const cells: ForkCell[] = [];
  for (const k1 of k1s) {
    for (const k2 of k2s) {
      if (options.keep && !options.keep(k1, k2)) continue;
      for (let rep = 0; rep < repeats; rep++) {
        const test = split(k1, k2, rep, alphas, false, shift);
        const weightDistance = (2 + 3 * Math.log1p(k2)) * (1 + 1 / (1 + k1)) * (1 + 0.02 * rep);
        cells.push({
          k1, k2, repeat: rep, seeds: { init: 1 + rep, order: 2 + rep, children: [11 + rep], augment: 0 }, a: `main@${k1}+${k2}`, b: `child(k1 ${k1}, seed ${rep + 1})`,
          checkpointA: `ckpt/main_${k1 + k2}.bin`, checkpointB: `ckpt/child_${k1}_${k2}_${rep}.bin`,
          train: split(k1, k2, rep, alphas, true, shift), test,
          weightDistance,
          weightDistanceByLayer: [{ name: 'conv1', distance: weightDistance * 0.3 }, { name: 'fc1', distance: weightDistance * 0.9 }],
          connected: test.errorBarrier < 0.02,
        });
      }
    }
  }
  const lastK1 = Math.max(...k1s, 0);
  const parentSteps = lastK1 * (units === 'epochs' ? stepsPerEpoch : 1) + 50;
  const parentLoss: { step: number; loss: number }[] = [];
  for (let step = 0; step <= parentSteps; step += Math.max(1, Math.round(parentSteps / 80))) {
    parentLoss.push({ step, loss: 2.3 * Math.exp(-step / 150) + 0.05 + 0.03 * Math.sin(step * 0.7) ** 2 });
  }
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    kind: 'fork',
    spec: {
      kind: 'fork', preset: 'synthetic-example', model: { name: 'lenet5' }, data: { name: 'mnist', train: 10000, test: 2000 },
      optimizer: { name: 'sgd', lr: 0.05, momentum: 0.9 }, mode: 'main-branch', k1: [...k1s], k2: [...k2s], units,
      alphas, threshold: 0.02, repeats, seeds: { init: 1, order: 2, children: [11, 12] },
    },
    seeds: { init: 1, order: 2, children: [11, 12], repeats: [] },
    units,
    stepsPerEpoch,
    provenance: {
      backend: 'synthetic', adapter: 'none', runtime: 'formulas', ridgelineVersion: '0.1.0', gitCommit: null,
      startedAt: '2025-01-01T00:00:00.000Z', finishedAt: '2025-01-01T00:12:34.500Z',
    },
    timings: [{ phase: 'parent', seconds: 120.5 }, { phase: 'children', seconds: 500.25 }, { phase: 'paths', seconds: 133.75 }],
    parentLoss,
    cells,
    summary: summarizeCells(cells),
  };
}
