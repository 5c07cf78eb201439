/**
 * WebGPU against the CPU backend on a whole model: the gradient and a Hessian-vector
 * product of an MLP's cross-entropy loss must agree. (The autograd suite already checks
 * each backend against finite differences of the f64 oracle; this pins the two f32
 * backends to each other, much more tightly.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Backend } from '../core/backend.ts';
import * as ag from '../core/autograd/mod.ts';
import { createCpuBackend } from '../core/cpu/cpu_backend.ts';
import { fromArray, type Tensor, tidy } from '../core/tensor.ts';
import { createNodeBackend } from './gpu/node_gpu.ts';
import { startWatchdog } from './gpu/watchdog.ts';
import { F32_U, gamma } from './tolerances.ts';
import { assertClose, randomF32, seeded } from './util.ts';

startWatchdog('webgpu_vs_cpu', { seconds: 300, rssBytes: 4 * 2 ** 30 });

const gpu = await createNodeBackend();
const skip = typeof gpu === 'string' ? gpu : false;

const SIZES = [64, 48, 32, 10];
const ROWS = 96;

/**
 * Both backends round every op to f32 but sum in different orders (matmul tiles, SIMD
 * lanes, reductions) and use different exp/tanh (≤ 4 ulp apart): each dot product may
 * differ by γ_k·Σ|terms| with k ≤ 96 here, and a gradient passes through three forward and
 * three backward products. So: 6·γ_96 relative to the largest component (≈ 3.4e-5), plus
 * 16 ulp for the transcendental functions; the HVP goes through that chain twice.
 */
const GRAD_RTOL = 6 * gamma(ROWS) + 16 * F32_U; // 3.5e-5; measured on SwiftShader: 2.1e-7
const HVP_RTOL = 2 * GRAD_RTOL; // measured: 1.9e-7

async function lossAndHvp(be: Backend): Promise<[Float32Array, Float32Array, number]> {
  const x = randomF32(1, ROWS * SIZES[0], -1, 1);
  const r = seeded(2);
  const labels = Float32Array.from({ length: ROWS }, () => Math.floor(r() * SIZES[SIZES.length - 1]));
  const shapes: number[][] = [];
  for (let l = 0; l + 1 < SIZES.length; l++) shapes.push([SIZES[l], SIZES[l + 1]], [SIZES[l + 1]]);
  const loss = (ps: readonly Tensor[]) => {
    let h = fromArray(be, x, [ROWS, SIZES[0]]);
    for (let l = 0; 2 * l < ps.length; l++) {
      h = ag.add(ag.matmul(h, ps[2 * l]), ps[2 * l + 1]);
      if (2 * l + 2 < ps.length) h = ag.tanh(h);
    }
    return ag.softmaxCrossEntropy(h, fromArray(be, labels, [ROWS]));
  };
  // Downloads start inside the scope; tidy frees the tensors before they complete.
  const [g, hv, value] = tidy(() => {
    const params = shapes.map((s, i) => ag.param(fromArray(be, randomF32(10 + i, s.reduce((a, b) => a * b, 1), -0.3, 0.3), s)));
    const dirs = shapes.map((s, i) => fromArray(be, randomF32(20 + i, s.reduce((a, b) => a * b, 1), -1, 1), s));
    const { value, grads } = ag.valueAndGrad(loss, params);
    const hv = ag.hvp(loss, params, dirs);
    const flat = async (ts: Tensor[]) => Float32Array.from((await Promise.all(ts.map((t) => t.data()))).flatMap((d) => Array.from(d)));
    return [flat(grads), flat(hv), value.data().then((d) => new Float32Array([d[0]]))];
  });
  return [await g, await hv, (await value)[0]];
}

test('MLP (64-48-32-10, tanh, 96 rows): loss, gradient and HVP on WebGPU match the CPU backend', { skip }, async (t) => {
  const cpu = await createCpuBackend();
  const [[gc, hc, lc], [gg, hg, lg]] = [await lossAndHvp(cpu), await lossAndHvp(gpu as Backend)];
  const gScale = Math.max(...gc.map(Math.abs));
  const hScale = Math.max(...hc.map(Math.abs));
  const worst = (a: Float32Array, b: Float32Array, scale: number) => Math.max(...a.map((v, i) => Math.abs(v - b[i]))) / scale;
  t.diagnostic(
    `worst |webgpu − cpu| / max: gradient ${worst(gg, gc, gScale).toExponential(2)} (tol ${GRAD_RTOL.toExponential(2)}), HVP ${
      worst(hg, hc, hScale).toExponential(2)
    } (tol ${HVP_RTOL.toExponential(2)})`,
  );
  assert.ok(Math.abs(lg - lc) <= GRAD_RTOL * Math.abs(lc), `loss ${lg} vs ${lc}`);
  assertClose(gg, gc, GRAD_RTOL * gScale, 'gradient');
  assertClose(hg, hc, HVP_RTOL * hScale, 'HVP');
});
