/**
 * A small, fixed training run used as the placeholder main job and as the cross-runtime
 * determinism check: an MLP on a generated Gaussian-mixture task, trained with SGD and
 * momentum. Every number comes from the portable RNG and the backend's kernels, so the
 * same seed must give bit-identical parameters in every runtime on the same backend.
 */
import type { Backend } from '../backend.ts';
import * as ag from '../autograd/mod.ts';
import { fnv1a64Hex } from '../hash.ts';
import { rngStream } from '../rng.ts';
import { fromArray, keep, type Tensor, tidy } from '../tensor.ts';
import { Sgd } from '../train/optimizers.ts';

export interface SmokeOptions {
  seed: number;
  steps: number;
  batch?: number;
  inputs?: number;
  width?: number;
  classes?: number;
  examples?: number;
  lr?: number;
  /** Called after each step with the step's loss (reading it back costs a sync on GPU). */
  onStep?: (step: number, loss: number) => void;
}

export interface SmokeResult {
  losses: number[];
  params: Float32Array;
  hash: string;
  accuracy: number;
}

/** Points around `classes` random centres in `inputs` dimensions; labels are the centre. */
function gaussianMixture(seed: number, examples: number, inputs: number, classes: number): { x: Float32Array; y: Float32Array } {
  const rng = rngStream(seed, 'smoke/data');
  const centres = rng.normals(classes * inputs, 0, 0.5);
  const noise = rng.normals(examples * inputs);
  const x = new Float32Array(examples * inputs);
  const y = new Float32Array(examples);
  for (let i = 0; i < examples; i++) {
    const c = rng.intBelow(classes);
    y[i] = c;
    for (let d = 0; d < inputs; d++) x[i * inputs + d] = centres[c * inputs + d] + noise[i * inputs + d];
  }
  return { x, y };
}

export async function runSmokeTraining(backend: Backend, o: SmokeOptions): Promise<SmokeResult> {
  const [inputs, width, classes, examples, batch] = [o.inputs ?? 16, o.width ?? 32, o.classes ?? 8, o.examples ?? 512, o.batch ?? 32];
  const data = gaussianMixture(o.seed, examples, inputs, classes);
  const init = rngStream(o.seed, 'smoke/init');
  const sizes = [inputs, width, width, classes];
  const params: Tensor[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    // He initialisation for ReLU layers: N(0, 2 / fan_in).
    params.push(
      ag.param(keep(fromArray(backend, init.normals(sizes[l] * sizes[l + 1], 0, Math.sqrt(2 / sizes[l])), [sizes[l], sizes[l + 1]]))),
    );
    params.push(ag.param(keep(fromArray(backend, new Float32Array(sizes[l + 1]), [sizes[l + 1]]))));
  }
  const forward = (ps: readonly Tensor[], x: Tensor) => {
    let h = x;
    for (let l = 0; 2 * l < ps.length; l++) {
      h = ag.add(ag.matmul(h, ps[2 * l]), ps[2 * l + 1]);
      if (2 * l + 2 < ps.length) h = ag.relu(h);
    }
    return h;
  };
  const opt = new Sgd({ lr: o.lr ?? 0.05, momentum: 0.9, weightDecay: 1e-4 });
  const order = rngStream(o.seed, 'smoke/order');
  let perm = order.permutation(examples);
  let cursor = 0;
  const losses: number[] = [];
  const xb = new Float32Array(batch * inputs);
  const yb = new Float32Array(batch);
  for (let step = 0; step < o.steps; step++) {
    for (let r = 0; r < batch; r++) {
      if (cursor === examples) {
        perm = order.permutation(examples);
        cursor = 0;
      }
      const i = perm[cursor++];
      xb.set(data.x.subarray(i * inputs, (i + 1) * inputs), r * inputs);
      yb[r] = data.y[i];
    }
    const loss = tidy(() => {
      const x = fromArray(backend, xb, [batch, inputs]);
      const y = fromArray(backend, yb, [batch]);
      const { value, grads } = ag.valueAndGrad((ps) => ag.softmaxCrossEntropy(forward(ps, x), y), params);
      opt.step(params, grads);
      return keep(value);
    });
    const l = (await loss.data())[0];
    loss.dispose();
    losses.push(l);
    o.onStep?.(step, l);
  }
  const logits = tidy(() => keep(ag.noGrad(() => forward(params, fromArray(backend, data.x, [examples, inputs])))));
  const z = await logits.data();
  logits.dispose();
  let right = 0;
  for (let i = 0; i < examples; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (z[i * classes + c] > z[i * classes + best]) best = c;
    if (best === data.y[i]) right++;
  }
  const accuracy = right / examples;
  const flat = new Float32Array(params.reduce((n, p) => n + p.size, 0));
  let off = 0;
  for (const p of params) {
    flat.set(await p.data(), off);
    off += p.size;
    p.dispose();
  }
  opt.dispose();
  return { losses, params: flat, hash: fnv1a64Hex(flat), accuracy };
}
