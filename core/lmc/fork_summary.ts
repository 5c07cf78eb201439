/**
 * The fork grid summarised over repeats (docs/fork.md), and the direction it shows: the k1/k2
 * paper's headline is that the barrier between two children is large when they fork early
 * and falls as k1 grows. The finding compares the first and the last k1 with the spread
 * between repeats, so a reader sees whether the fall is larger than the noise.
 */
import { type CellSummary, type Finding, type ForkCell, SUMMARY_METRICS, type SummaryMetric } from '../experiments/result_schema.ts';
import { summarize } from './repeat_stats.ts';

/** How each summarised metric is read off a cell (shared with the sweep's summaries). */
export const SUMMARY_METRIC_OF: Readonly<Record<SummaryMetric, (c: ForkCell) => number>> = {
  testErrorBarrier: (c) => c.test.errorBarrier,
  testErrorFloor: (c) => c.test.errorFloor,
  testErrorBarrierExcess: (c) => c.test.errorBarrierExcess,
  trainErrorBarrier: (c) => c.train.errorBarrier,
  trainLossBarrier: (c) => c.train.lossBarrier,
  testLossBarrier: (c) => c.test.lossBarrier,
  testAccuracy: (c) => 0.5 * (c.test.accuracyA + c.test.accuracyB),
  weightDistance: (c) => c.weightDistance,
};

/** One summary per (k1, k2), in the cells' order of first appearance. */
export function summarizeCells(cells: readonly ForkCell[]): CellSummary[] {
  const keys: { k1: number; k2: number }[] = [];
  for (const c of cells) if (!keys.some((k) => k.k1 === c.k1 && k.k2 === c.k2)) keys.push({ k1: c.k1, k2: c.k2 });
  return keys.map(({ k1, k2 }) => {
    const here = cells.filter((c) => c.k1 === k1 && c.k2 === k2);
    const metrics = Object.fromEntries(
      SUMMARY_METRICS.map((m) => [m, summarize(here.map(SUMMARY_METRIC_OF[m]))]),
    ) as CellSummary['metrics'];
    return { k1, k2, metrics };
  });
}

const pct = (v: number) => `${(100 * v).toFixed(2)} %`;

/**
 * The test error barrier at the smallest k1 against the largest (cells of each k1 pooled
 * over k2 and repeats): it holds when the fall exceeds both cells' standard deviation over
 * repeats. Null with fewer than two k1 values.
 */
export function forkFinding(cells: readonly ForkCell[], metric: SummaryMetric = 'testErrorBarrier'): Finding | null {
  const k1s = [...new Set(cells.map((c) => c.k1))].sort((a, b) => a - b);
  if (k1s.length < 2) return null;
  const [firstK1, lastK1] = [k1s[0], k1s[k1s.length - 1]];
  const first = summarize(cells.filter((c) => c.k1 === firstK1).map(SUMMARY_METRIC_OF[metric]));
  const last = summarize(cells.filter((c) => c.k1 === lastK1).map(SUMMARY_METRIC_OF[metric]));
  const drop = first.mean - last.mean;
  const spread = Math.max(first.sd, last.sd);
  const holds = drop > 0 && drop > spread;
  const n = `${first.n} pair${first.n === 1 ? '' : 's'} each`;
  const verdict = holds
    ? `falls from ${pct(first.mean)} ± ${pct(first.sd)} at k1 = ${firstK1} to ${pct(last.mean)} ± ${
      pct(last.sd)
    } at k1 = ${lastK1} (mean ± sd over ${n}): a drop of ${pct(drop)}, larger than the spread between repeats (${
      pct(spread)
    }), as the k1/k2 paper reports`
    : `goes from ${pct(first.mean)} ± ${pct(first.sd)} at k1 = ${firstK1} to ${pct(last.mean)} ± ${
      pct(last.sd)
    } at k1 = ${lastK1} (mean ± sd over ${n}): ${
      drop > 0 ? `a drop of ${pct(drop)}, within the spread between repeats (${pct(spread)})` : 'no drop'
    }, so this run does not show the barrier falling with k1`;
  // How much of the first cell's barrier is only the endpoints disagreeing (docs/metrics.md#barriers).
  const floorNote = metric === 'testErrorBarrier'
    ? ` At k1 = ${firstK1}, ${
      pct(summarize(cells.filter((c) => c.k1 === firstK1).map(SUMMARY_METRIC_OF.testErrorFloor)).mean)
    } of it is the endpoint floor ½|E(A) − E(B)|.`
    : '';
  return {
    metric,
    firstK1,
    lastK1,
    first,
    last,
    drop,
    spread,
    holds,
    text: `The ${metric === 'testErrorBarrier' ? 'test error barrier' : metric} ${verdict}.${floorNote}`,
  };
}
