/**
 * A device lost in the middle of a WebGPU run stops it with a clear error, and the run
 * started again with the same directory resumes from its last checkpoint and ends exactly
 * as an uninterrupted run does.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { RidgelineError } from '../core/errors.ts';
import { applyOptions, FORK_DEFAULTS } from '../core/experiments/fork_spec.ts';
import { runForkExperiment, type RunHost } from '../core/sweep/fork_runner.ts';
import { createWebGpuBackend } from '../core/gpu/create_backend.ts';
import { type Progress, silentProgress } from '../core/progress.ts';
import { nodeFileStore } from '../runtimes/node_files.ts';
import { nodeGpu } from '../runtimes/webgpu_host.ts';

const spec = applyOptions(FORK_DEFAULTS, {
  data: 'synthetic:gauss:n=400,dim=12,classes=4',
  model: 'mlp-2',
  width: '16',
  batch: '32',
  unit: 'steps',
  k1: '0,10',
  steps: '60',
  alphas: '5',
});
const host = (progress: Progress): RunHost => ({
  files: nodeFileStore(),
  progress,
  runtime: `node ${process.versions.node}`,
  version: 'test',
  gitCommit: null,
});

const made = await nodeGpu().then((gpu) => createWebGpuBackend(gpu)).then(
  (b) => {
    b.destroy();
    return null;
  },
  (e: Error) => e.message,
);

test('device lost mid-run: E_BACKEND naming the loss, then the restarted run resumes and matches an uninterrupted one', {
  skip: made ?? false,
}, async () => {
  const out = mkdtempSync(join(tmpdir(), 'ridgeline-lost-'));
  const first = await createWebGpuBackend(await nodeGpu());
  let syncs = 0;
  const killer: Progress = {
    ...silentProgress,
    update() {
      // After the parent and part of the first child have trained, the GPU goes away.
      if (++syncs === 2) (first as unknown as { device: GPUDevice }).device.destroy();
    },
  };
  await assert.rejects(runForkExperiment(spec, out, first, host(killer)), (e: unknown) => {
    assert.ok(e instanceof RidgelineError && e.code === 'E_BACKEND', String(e));
    assert.match((e as Error).message, /device lost/);
    return true;
  });
  const logs: string[] = [];
  const second = await createWebGpuBackend(await nodeGpu());
  const resumed = await runForkExperiment(spec, out, second, host({ ...silentProgress, log: (l) => logs.push(l) }));
  assert.ok(logs.some((l) => /resuming the run/.test(l)), logs.join('\n'));
  const third = await createWebGpuBackend(await nodeGpu());
  const straight = await runForkExperiment(spec, mkdtempSync(join(tmpdir(), 'ridgeline-straight-')), third, host(silentProgress));
  assert.deepEqual(resumed.cells, straight.cells);
  for (const b of [second, third]) b.destroy();
});
