/** Tensor bookkeeping (scopes free what they should) and the optimizer classes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ag from '../core/autograd/mod.ts';
import { createCpuBackend } from '../core/cpu/cpu_backend.ts';
import { RidgelineError } from '../core/errors.ts';
import { fromArray, keep, type Tensor, tidy, zeros } from '../core/tensor.ts';
import { Adam, Sgd } from '../core/train/optimizers.ts';
import * as oracle from './oracle/ops.ts';
import { assertClose, randomF32, relTol } from './util.ts';

const be = await createCpuBackend();

test('tidy frees every intermediate of a training step: no memory grows across steps', () => {
  const w = ag.param(keep(fromArray(be, randomF32(1, 12), [4, 3])));
  const opt = new Sgd({ lr: 0.1, momentum: 0.9 });
  const step = () =>
    tidy(() => {
      const x = fromArray(be, randomF32(2, 20), [5, 4]);
      const y = fromArray(be, [0, 1, 2, 0, 1], [5]);
      const loss = (ps: readonly Tensor[]) => ag.softmaxCrossEntropy(ag.tanh(ag.matmul(x, ps[0])), y);
      const { grads } = ag.valueAndGrad(loss, [w]);
      opt.step([w], grads);
      ag.hvp(loss, [w], [fromArray(be, randomF32(3, 12), [4, 3])]);
    });
  step();
  const live = be.liveBytes;
  for (let i = 0; i < 20; i++) step();
  assert.equal(be.liveBytes, live, 'live bytes after 20 more steps');
  w.dispose();
  opt.dispose();
});

test('tidy keeps its result and kept tensors, frees the rest, and frees everything on a throw', async () => {
  const before = be.liveBytes;
  const kept = tidy(() => {
    const a = fromArray(be, [1, 2, 3], [3]);
    const b = keep(ag.scale(a, 2));
    return { sum: ag.sum(ag.mul(a, a)), b };
  });
  assert.deepEqual(Array.from(await kept.sum.data()), [14]);
  assert.deepEqual(Array.from(await kept.b.data()), [2, 4, 6]);
  kept.sum.dispose();
  kept.b.dispose();
  assert.equal(be.liveBytes, before);
  assert.throws(() =>
    tidy(() => {
      zeros(be, [100]);
      throw new Error('boom');
    }), /boom/);
  assert.equal(be.liveBytes, before, 'a throwing scope leaks nothing');
  const t = zeros(be, [2]);
  t.dispose();
  assert.throws(() => t.buf, (e: unknown) => e instanceof RidgelineError && e.code === 'E_STATE');
});

test('Sgd and Adam classes follow PyTorch semantics step after step (state kept between steps)', async () => {
  const p0 = randomF32(7, 10);
  for (
    const make of [
      () => ({ opt: new Sgd({ lr: 0.1, momentum: 0.9, weightDecay: 1e-3, nesterov: true }), kind: 'sgd' as const }),
      () => ({ opt: new Adam({ lr: 0.01, weightDecay: 0.1, decoupled: true }), kind: 'adamw' as const }),
    ]
  ) {
    const { opt, kind } = make();
    const p = keep(fromArray(be, p0, [10]));
    const want = Float64Array.from(p0);
    const [buf, m, v] = [new Float64Array(10), new Float64Array(10), new Float64Array(10)];
    for (let s = 0; s < 6; s++) {
      const g = randomF32(100 + s, 10);
      tidy(() => opt.step([p], [fromArray(be, g, [10])]));
      if (kind === 'sgd') {
        oracle.sgd(want, g, buf, { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 1e-3, nesterov: true, firstStep: s === 0 });
      } else oracle.adam(want, g, m, v, { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, decoupled: true, step: s + 1 });
    }
    assert.equal(opt.steps, 6);
    assertClose(await p.data(), want, relTol(want, 1e-5, 1e-6), kind);
    p.dispose();
    opt.dispose();
  }
});

test('optimizer options are validated', () => {
  assert.throws(() => new Sgd({ lr: -1 }), /E_ARG: sgd: lr must be in/);
  assert.throws(() => new Sgd({ lr: 0.1, nesterov: true }), /Nesterov momentum requires momentum > 0/);
  assert.throws(() => new Adam({ lr: 0.1, beta1: 1 }), /E_ARG: adam: beta1/);
  const opt = new Sgd({ lr: 0.1 });
  tidy(() => assert.throws(() => opt.step([zeros(be, [3])], [zeros(be, [4])]), /parameter 0 has 3 elements, its gradient 4/));
});
