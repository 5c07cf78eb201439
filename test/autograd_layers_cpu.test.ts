import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ag from '../core/autograd/mod.ts';
import { createCpuBackend } from '../core/cpu/cpu_backend.ts';
import { fromArray } from '../core/tensor.ts';
import { autogradSuite } from './suites/autograd.ts';
import { layerSuite } from './suites/layers.ts';

autogradSuite('cpu', () => createCpuBackend());
layerSuite('cpu', () => createCpuBackend());

test('slices along an axis refuse a bad axis or range with one line naming the op', async () => {
  const be = await createCpuBackend();
  const x = fromArray(be, new Float32Array(24), [2, 4, 3]);
  assert.throws(() => ag.takeAlong(x, 3, 0, 1), /^RidgelineError: E_ARG: takeAlong: axis 3 outside the 3 axes of \[2,4,3\]/);
  assert.throws(() => ag.takeAlong(x, 1, 3, 2), /^RidgelineError: E_ARG: takeAlong: indices 3\.\.5 of axis 1 outside \[0, 4\)/);
  assert.throws(() => ag.placeAlong(x, -1, 0, 5), /^RidgelineError: E_ARG: placeAlong: axis -1 outside/);
  assert.throws(() => ag.concatAlong([x], 3), /^RidgelineError: E_ARG: concatAlong: axis 3 outside/);
  assert.throws(() => ag.takeRows(x, 1, 2), /takeAlong: indices 1\.\.3 of axis 0 outside \[0, 2\)/);
  be.close();
});
