/**
 * Exact Hessian-vector products by double backward: H·v = ∇_θ ⟨∇_θ L(θ), v⟩.
 * The first gradient is recorded (createGraph), so the second pass differentiates the
 * backward pass itself; no finite differences anywhere. Cost ≈ 2–3 gradient evaluations.
 */
import { argError } from '../errors.ts';
import { sameShape } from '../shape.ts';
import { type Tensor, tidy } from '../tensor.ts';
import { grad } from './grad.ts';
import { add, mul, sum } from './ops.ts';

/** `(L, ∇L)` of a scalar loss with respect to `params`. */
export function valueAndGrad(loss: (params: readonly Tensor[]) => Tensor, params: readonly Tensor[]): {
  value: Tensor;
  grads: Tensor[];
} {
  return tidy(() => {
    const value = loss(params);
    return { value, grads: grad(value, params) };
  });
}

/** `H·v` of the scalar loss at `params`, one tensor per parameter. */
export function hvp(loss: (params: readonly Tensor[]) => Tensor, params: readonly Tensor[], v: readonly Tensor[]): Tensor[] {
  if (v.length !== params.length) argError('hvp', `need one direction per parameter (${params.length}), got ${v.length}`);
  params.forEach((p, i) => {
    if (!sameShape(p.shape, v[i].shape)) argError('hvp', `direction ${i} has shape [${v[i].shape}] but parameter has [${p.shape}]`);
  });
  return tidy(() => {
    const g = grad(loss(params), params, { createGraph: true });
    let dot = sum(mul(g[0], v[0]));
    for (let i = 1; i < g.length; i++) dot = add(dot, sum(mul(g[i], v[i])));
    return grad(dot, params);
  });
}
