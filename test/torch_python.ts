/**
 * Finding a Python that runs PyTorch, for the interop tests (Debian's python3-torch), and
 * the environment every such Python must run under: the benches' peerEnv, which pins the
 * OpenMP OpenBLAS that Debian's OpenMP-built torch needs (see OPENBLAS_OPENMP_DIR).
 */
import { spawnSync } from 'node:child_process';
import { peerEnv } from '../bench/harness.ts';

export { peerEnv };

/** The first python3 that imports torch, or the reason there is none. */
export function findTorchPython(): { python: string | null; reason: string } {
  const tried: string[] = [];
  for (const python of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8', timeout: 120_000, env: peerEnv() });
    if (r.status === 0) return { python, reason: '' };
    tried.push(`${python}: ${r.error ? r.error.message : (r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`)}`);
  }
  return { python: null, reason: `needs python3 with torch (${tried.join('; ')})` };
}
