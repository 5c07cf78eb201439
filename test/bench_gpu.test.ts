/**
 * bench/gpu.js must run first time on the rare machine with a GPU, so it runs here, end to
 * end with --quick, on whatever adapter Dawn finds (SwiftShader without a GPU): every
 * section must produce its figure, and the result file must hold them.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createNodeBackend } from './gpu/node_gpu.ts';

const probe = await createNodeBackend();
const skip = typeof probe === 'string' ? probe : false;
if (typeof probe !== 'string') probe.destroy();

test('bench/gpu.js --quick runs every section on the adapter and writes its figures', { skip, timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'ridgeline-gpu-bench-'));
  try {
    const script = fileURLToPath(new URL('../bench/gpu.js', import.meta.url));
    const out = join(dir, 'gpu.json');
    const r = spawnSync(process.execPath, [script, '--quick', '--cpu', '--no-peer', '--out', out], { encoding: 'utf8', timeout: 280_000 });
    assert.equal(r.status, 0, `exit ${r.status}\n${r.stdout}\n${r.stderr}`);
    const result = JSON.parse(readFileSync(out, 'utf8')) as { results: Record<string, Record<string, number | null>>; failures: string[] };
    assert.deepEqual(result.failures, []);
    for (const key of ['matmul 64', 'matmul 128', 'mlp-2 epoch', 'lenet5 epoch', 'curve', 'hvp']) {
      for (const backend of ['webgpu', 'cpu 2T']) {
        const v = result.results[key]?.[backend];
        assert.ok(typeof v === 'number' && Number.isFinite(v) && v > 0, `${key} on ${backend}: ${v}`);
      }
    }
    assert.match(r.stdout, /11-point barrier curve/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
