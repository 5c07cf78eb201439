/**
 * What every example computes, whatever runtime runs it: a one-hidden-layer MLP (width 32)
 * trained 4 steps on a synthetic Gaussian mixture, forked into two children with different
 * data orders, each trained to step 40, and the barrier on the straight line between them.
 * Kept in one place so the examples differ only in how their runtime reaches the API, and
 * so test/examples.test.ts can ask the CLI for the same experiment.
 */
export const FORK_OPTIONS = {
  model: 'mlp-1',
  width: 32,
  data: 'synthetic:gauss',
  k1: [4],
  steps: 40,
  batch: 32,
  lr: 0.05,
  alphas: 5,
};

/**
 * The line every example prints: the cell's barriers in full precision (JSON numbers
 * round-trip f64), so a test can compare them with another run bit for bit.
 */
export function barrierLine(cell) {
  return `barrier ${
    JSON.stringify({
      trainLossBarrier: cell.train.lossBarrier,
      testLossBarrier: cell.test.lossBarrier,
      testErrorBarrier: cell.test.errorBarrier,
      testErrorFloor: cell.test.errorFloor,
    })
  }`;
}
