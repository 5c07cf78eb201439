#!/usr/bin/env node
// Installs the Debian packages the tests (or a benchmark) need when they are missing and
// this machine can (root + apt-get), so that a fresh machine runs the same suite as ours.
// Where it cannot, it says which tests will be skipped and why; it never fails the run.
import { spawnSync } from 'node:child_process';

/** What each package is for; the test command asks for these. */
export const TEST_PACKAGES = [
  { pkg: 'dataset-fashion-mnist', why: 'Fashion-MNIST data (/usr/share/datasets/fashion-mnist)' },
  { pkg: 'python3-torch', why: 'PyTorch interop test of safetensors files' },
  // The torch tests run python3 with this build first on LD_LIBRARY_PATH (bench/harness.ts
  // peerEnv): Debian's OpenMP torch on the pthreads build is several times slower.
  { pkg: 'libopenblas0-openmp', why: 'the OpenMP OpenBLAS of the PyTorch tests (reference BLAS is ~60x slower)' },
  // slurm-wlm pulls in slurmctld, slurmd and slurm-client (sbatch, sinfo, squeue, scancel);
  // munge is its authentication daemon (and mungekey); see test/slurm_cluster.ts.
  { pkg: 'slurm-wlm', why: 'the single-node Slurm cluster of the Slurm tests' },
  { pkg: 'munge', why: "Slurm's authentication (munged) for the Slurm tests" },
  { pkg: 'mesa-vulkan-drivers', why: 'the lavapipe Vulkan driver for WebGPU under Deno' },
  { pkg: 'chromium', why: 'SwiftShader (WebGPU under Node and Bun) and the browser test' },
  { pkg: 'python3-scipy', why: 'SciPy linear_sum_assignment, the oracle of the assignment solver test' },
];

export const BENCH_PACKAGES = [
  { pkg: 'python3-torch', why: 'PyTorch CPU peer in the benchmarks' },
  { pkg: 'libopenblas0-openmp', why: 'an optimised BLAS for the PyTorch peer (reference BLAS is ~60x slower)' },
  { pkg: 'python3-scipy', why: 'SciPy linear_sum_assignment, the peer of bench/assignment.ts' },
];

function installed(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

export function ensurePackages(list) {
  const missing = list.filter((p) => !installed(p.pkg));
  if (missing.length === 0) return true;
  const names = missing.map((p) => p.pkg);
  const canInstall = process.getuid?.() === 0 && spawnSync('apt-get', ['--version']).status === 0;
  if (!canInstall) {
    for (const p of missing) {
      console.error(`system package ${p.pkg} is missing and cannot be installed here (needs root and apt-get): ${p.why} will be skipped`);
    }
    return false;
  }
  console.error(`installing ${names.join(', ')} (${missing.map((p) => p.why).join('; ')})`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...names], { stdio: ['ignore', 'ignore', 'inherit'], env });
  if (install().status !== 0) {
    spawnSync('apt-get', ['update', '-q'], { stdio: ['ignore', 'ignore', 'inherit'], env });
    if (install().status !== 0) {
      console.error(`apt-get could not install ${names.join(', ')}: the tests that need them will be skipped`);
      return false;
    }
  }
  return true;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  ensurePackages(process.argv[2] === 'bench' ? BENCH_PACKAGES : TEST_PACKAGES);
}
