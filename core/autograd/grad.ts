/**
 * Reverse-mode differentiation of a recorded graph (see record.ts). With `createGraph`
 * the backward pass is itself recorded, which is what makes double backward, and so
 * exact Hessian-vector products, work.
 */
import { argError } from '../errors.ts';
import { sameShape } from '../shape.ts';
import { full, type Tensor, zeros } from '../tensor.ts';
import { add } from './ops.ts';
import { tracks, withRecording } from './record.ts';

/** Tensors reachable from `root` through nodes, in an order where each comes after its users. */
function reverseTopological(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  // Iterative DFS: deep graphs (long training unrolls) must not overflow the JS stack.
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const inputs = top[0].node?.inputs ?? [];
    if (top[1] < inputs.length) {
      const next = inputs[top[1]++];
      if (!seen.has(next) && tracks(next)) {
        seen.add(next);
        stack.push([next, 0]);
      }
    } else {
      order.push(top[0]);
      stack.pop();
    }
  }
  return order.reverse();
}

export interface GradOptions {
  /** Record the backward pass so the gradient can be differentiated again (for HVPs). */
  createGraph?: boolean;
  /** Cotangent of `output` (default 1; required shape = output's shape). */
  seed?: Tensor;
}

/**
 * Gradients of the scalar `output` (or of ⟨seed, output⟩) with respect to `inputs`.
 * Inputs that `output` does not depend on get zeros.
 */
export function grad(output: Tensor, inputs: readonly Tensor[], options: GradOptions = {}): Tensor[] {
  if (!options.seed && output.size !== 1) {
    argError('grad', `output must be a scalar (got shape [${output.shape.join(', ')}]) or a seed must be given`);
  }
  if (options.seed && !sameShape(options.seed.shape, output.shape)) {
    argError('grad', `seed shape [${options.seed.shape.join(', ')}] differs from output [${output.shape.join(', ')}]`);
  }
  inputs.forEach((x, i) => {
    if (!tracks(x)) argError('grad', `input ${i} [${x.shape.join(', ')}] is not tracked: mark it with param() before computing the output`);
  });
  return withRecording(options.createGraph ?? false, () => {
    const cot = new Map<Tensor, Tensor>();
    cot.set(output, options.seed ?? full(output.backend, output.shape, 1));
    for (const t of reverseTopological(output)) {
      const g = cot.get(t);
      if (!g || !t.node) continue;
      const needed = t.node.inputs.map(tracks);
      const parts = t.node.vjp(g, needed);
      t.node.inputs.forEach((input, i) => {
        const part = parts[i];
        if (!part || !needed[i]) return;
        const prev = cot.get(input);
        cot.set(input, prev ? add(prev, part) : part);
      });
    }
    return inputs.map((x) => cot.get(x) ?? zeros(x.backend, x.shape));
  });
}
