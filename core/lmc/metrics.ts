/** Turns path evaluations of a pair into the metrics of docs/metrics.md (barriers, distances) for one cell. */
import type { SplitMetrics } from '../experiments/result_schema.ts';
import { errorBarrier, errorFloor, interpolationGaps, lossBarrier, normalizedBarrier } from './barrier.ts';
import type { PathEvaluation } from './path_eval.ts';

export function splitMetrics(e: PathEvaluation, testAccuracyA: number, testAccuracyB: number): SplitMetrics {
  const alphas = e.points.map((p) => p.alpha);
  const losses = e.points.map((p) => p.loss);
  const errors = e.points.map((p) => p.error);
  const gaps = interpolationGaps(alphas, losses);
  const lb = lossBarrier(alphas, losses);
  const eb = errorBarrier(errors);
  const floor = errorFloor(errors);
  const last = e.points.length - 1;
  return {
    lossBarrier: lb.value,
    lossBarrierAlpha: lb.alpha,
    errorBarrier: eb,
    errorFloor: floor,
    errorBarrierExcess: eb - floor,
    normalizedBarrier: normalizedBarrier(eb, testAccuracyA, testAccuracyB),
    lossA: losses[0],
    lossB: losses[last],
    accuracyA: 1 - errors[0],
    accuracyB: 1 - errors[last],
    curve: e.points.map((p, i) => ({ alpha: p.alpha, loss: p.loss, error: p.error, gap: gaps[i] })),
    predictionDistance: e.predictionDistance,
    predictionDistanceSymmetric: e.predictionDistanceSymmetric,
  };
}

/** Test first (its accuracies normalise both splits' barriers), then train. */
export function pairMetrics(train: PathEvaluation, test: PathEvaluation): { train: SplitMetrics; test: SplitMetrics } {
  const last = test.points.length - 1;
  const accA = 1 - test.points[0].error;
  const accB = 1 - test.points[last].error;
  return { train: splitMetrics(train, accA, accB), test: splitMetrics(test, accA, accB) };
}
