/**
 * Every process that runs PyTorch gets peerEnv (bench/harness.ts), which puts Debian's
 * OpenMP OpenBLAS first on LD_LIBRARY_PATH: OpenMP-built torch on the pthreads build (the
 * libblas.so.3 alternative once libopenblas0-pthread is installed) is several times slower.
 * Checked where it matters, in a real torch process: the BLAS it maps.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { describeBlas, OPENBLAS_OPENMP_DIR, runPythonJson, SYSTEM_PYTHON, TORCH_OPENBLAS_PROBE } from '../bench/harness.ts';
import { findTorchPython, peerEnv } from './torch_python.ts';

test('peerEnv prepends the OpenMP OpenBLAS directory to LD_LIBRARY_PATH (when installed) and keeps what was there', () => {
  const saved = process.env.LD_LIBRARY_PATH;
  try {
    process.env.LD_LIBRARY_PATH = '/opt/x/lib';
    const want = existsSync(OPENBLAS_OPENMP_DIR) ? `${OPENBLAS_OPENMP_DIR}:/opt/x/lib` : '/opt/x/lib';
    assert.equal(peerEnv().LD_LIBRARY_PATH, want);
    delete process.env.LD_LIBRARY_PATH;
    assert.equal(peerEnv().LD_LIBRARY_PATH, existsSync(OPENBLAS_OPENMP_DIR) ? OPENBLAS_OPENMP_DIR : undefined);
    assert.equal(peerEnv({ OMP_NUM_THREADS: '1' }).OMP_NUM_THREADS, '1');
  } finally {
    if (saved === undefined) delete process.env.LD_LIBRARY_PATH;
    else process.env.LD_LIBRARY_PATH = saved;
  }
});

const torchPython = findTorchPython();
const skip = !torchPython.python
  ? torchPython.reason
  : !existsSync(OPENBLAS_OPENMP_DIR)
  ? `${OPENBLAS_OPENMP_DIR} is absent (apt-get install libopenblas0-openmp)`
  : false;

test('torch under peerEnv maps the OpenMP OpenBLAS, whatever the libblas.so.3 alternative says', { skip }, (t) => {
  const info = runPythonJson(SYSTEM_PYTHON, TORCH_OPENBLAS_PROBE, [], peerEnv(), 120_000) as Record<string, unknown>;
  t.diagnostic(describeBlas(info));
  assert.equal(info.ok, true, String(info.reason));
  assert.equal(info.openblasParallel, 'openmp');
  const libs = info.libraries as string[];
  assert.ok(libs.some((l) => l.startsWith(`${OPENBLAS_OPENMP_DIR}/`)), `mapped: ${libs.join(', ')}`);
  assert.ok(!libs.some((l) => l.includes('openblas-pthread')), `the pthreads build is mapped too: ${libs.join(', ')}`);
});
