/** Differentiable matrix products: 2-D, or 3-D batched with a shared batch size. */
import { shapeError } from '../errors.ts';
import { empty, type Tensor } from '../tensor.ts';
import { sumTo } from './ops.ts';
import { record } from './record.ts';

export interface MatmulOptions {
  /** A is stored transposed (its last two dimensions are k×m). */
  transA?: boolean;
  /** B is stored transposed (its last two dimensions are n×k). */
  transB?: boolean;
  /**
   * A bias [n] added to every row (the backend's fused epilogue): the same values and
   * gradients as `add(matmul(a, b), bias)`, without the separate pass over the output.
   */
  bias?: Tensor;
}

/** `op(a) · op(b)`, where `op` transposes the last two dimensions when asked. */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const transA = options.transA ?? false;
  const transB = options.transB ?? false;
  const rank = a.shape.length;
  if (rank !== b.shape.length || (rank !== 2 && rank !== 3)) {
    shapeError('matmul', 'operands must both be 2-D or both 3-D', a.shape, b.shape);
  }
  const batch = rank === 3 ? a.shape[0] : 1;
  if (rank === 3 && b.shape[0] !== batch) shapeError('matmul', 'batch sizes differ', a.shape, b.shape);
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const [m, k] = transA ? [ac, ar] : [ar, ac];
  const [kb, n] = transB ? [bc, br] : [br, bc];
  if (k !== kb) {
    shapeError('matmul', `inner dimensions differ (${k} vs ${kb}; transA=${transA}, transB=${transB})`, a.shape, b.shape);
  }
  const bias = options.bias;
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== n)) {
    shapeError('matmul', `bias must be [${n}], one value per output column`, bias.shape);
  }
  const out = empty(a.backend, rank === 3 ? [batch, m, n] : [m, n]);
  if (out.size > 0) a.backend.matmul(a.buf, b.buf, out.buf, { batch, m, n, k, transA, transB, bias: bias?.buf });
  // C = op(A)·op(B): dop(A) = dC·op(B)ᵀ, dop(B) = op(A)ᵀ·dC, each written in the stored
  // layout of A and B so that no transpose is ever materialised.
  const productVjp = (g: Tensor, needed: readonly boolean[]): (Tensor | null)[] => [
    !needed[0] ? null : transA ? matmul(b, g, { transA: transB, transB: true }) : matmul(g, b, { transB: !transB }),
    !needed[1] ? null : transB ? matmul(g, a, { transA: true, transB: transA }) : matmul(a, g, { transA: !transA }),
  ];
  if (!bias) return record(out, 'matmul', [a, b], productVjp);
  // The bias's cotangent is the add's: the output's, summed over its rows (and batch).
  return record(out, 'matmul', [a, b, bias], (g, needed) => [...productVjp(g, needed), needed[2] ? sumTo(g, bias.shape) : null]);
}
