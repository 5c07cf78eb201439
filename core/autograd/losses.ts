/** Softmax, softmax cross-entropy and mean squared error, differentiable to any order. */
import { shapeError } from '../errors.ts';
import { empty, type Tensor } from '../tensor.ts';
import { mean, mul, reshape, square, sub, sum } from './ops.ts';
import { record } from './record.ts';

function rowsAndCols(op: string, x: Tensor): [number, number] {
  if (x.shape.length < 1) shapeError(op, 'needs at least one dimension', x.shape);
  const cols = x.shape[x.shape.length - 1];
  return [cols === 0 ? 0 : x.size / cols, cols];
}

/** Softmax over the last axis. */
export function softmax(x: Tensor): Tensor {
  const [rows, cols] = rowsAndCols('softmax', x);
  const y = empty(x.backend, x.shape);
  if (y.size > 0) x.backend.softmax(x.buf, y.buf, rows, cols);
  return record(y, 'softmax', [x], (g) => [softmaxVjp(y, g)]);
}

/** Cotangent of softmax's input: y ⊙ (g − Σ_c g·y). */
function softmaxVjp(y: Tensor, g: Tensor): Tensor {
  return mul(y, sub(g, sum(mul(g, y), [-1], true)));
}

export type Reduction = 'mean' | 'sum' | 'none';

/**
 * Softmax cross-entropy of `logits` [N, C] against integer `labels` [N] (stored as f32).
 * `mean` (default) and `sum` give a scalar; `none` gives the N per-example losses.
 * Computed by one fused, stable kernel; its gradient (softmax − onehot) is itself recorded
 * as a function of the logits, so the loss has exact second derivatives.
 */
export function softmaxCrossEntropy(logits: Tensor, labels: Tensor, reduction: Reduction = 'mean'): Tensor {
  if (logits.shape.length !== 2) shapeError('softmaxCrossEntropy', 'logits must be [N, C]', logits.shape);
  const [rows, cols] = logits.shape;
  if (labels.size !== rows) shapeError('softmaxCrossEntropy', 'need one label per row', logits.shape, labels.shape);
  const losses = empty(logits.backend, [rows]);
  const gradRaw = empty(logits.backend, [rows, cols]);
  if (rows > 0) logits.backend.softmaxXent(logits.buf, labels.buf, losses.buf, gradRaw.buf, rows, cols);
  // d loss_r / d logits_r = softmax − onehot; its own derivative is softmax's Jacobian.
  const dLogits = record(gradRaw, 'softmaxXentGrad', [logits], (u) => [softmaxVjp(softmax(logits), u)]);
  const perRow = record(losses, 'softmaxXent', [logits], (g) => [mul(dLogits, reshape(g, [rows, 1]))]);
  if (reduction === 'none') return perRow;
  return reduction === 'sum' ? sum(perRow) : mean(perRow);
}

/** Mean (or summed) squared error between `pred` and `target` of the same shape. */
export function mse(pred: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  if (pred.size !== target.size) shapeError('mse', 'prediction and target sizes differ', pred.shape, target.shape);
  const err = square(sub(pred, reshape(target, pred.shape)));
  if (reduction === 'none') return err;
  return reduction === 'sum' ? sum(err) : mean(err);
}
