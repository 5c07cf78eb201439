/**
 * The shared kernel and autograd suites on Deno's WebGPU (wgpu) over Mesa lavapipe: runs
 * `deno test` on test/gpu/deno_kernels_entry.ts with VK_ICD_FILENAMES pointing at the
 * lavapipe ICD, under a time and memory bound, and asserts that every step passed.
 * Skipped, with the reason, when Deno, the ICD or an adapter is missing.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runBounded } from './gpu/bounded_run.ts';

// dist/test/ → repository root (Deno runs the TypeScript sources there).
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const deno = join(root, 'node_modules', '.bin', 'deno');
export const LAVAPIPE_ICD = '/usr/share/vulkan/icd.d/lvp_icd.x86_64.json';
/** The suites' step count: 15 kernel tests + 35 autograd tests + 14 layer tests. */
const MIN_STEPS = 64;

test('kernel and autograd suites pass on Deno + lavapipe', { timeout: 720_000 }, async (t) => {
  if (!existsSync(deno)) return t.skip(`deno is missing at ${deno} (a devDependency: run npm install)`);
  if (!existsSync(LAVAPIPE_ICD)) return t.skip(`no lavapipe Vulkan driver at ${LAVAPIPE_ICD} (apt-get install mesa-vulkan-drivers)`);
  const r = await runBounded(deno, [
    'test',
    '-A',
    '--no-check',
    `--import-map=${join(root, 'test/gpu/deno_import_map.json')}`,
    join(root, 'test/gpu/deno_kernels_entry.ts'),
  ], { cwd: root, env: { ...process.env, VK_ICD_FILENAMES: LAVAPIPE_ICD, NO_COLOR: '1' }, seconds: 600, rssBytes: 4 * 2 ** 30 });
  const output = `${r.stdout}\n${r.stderr}`;
  const tail = output.trim().split('\n').slice(-40).join('\n');
  assert.equal(r.killed, null, `deno test was killed: ${r.killed}\n${tail}`);
  const adapter = /^ridgeline-adapter: (.*)$/m.exec(r.stdout)?.[1] ?? '?';
  const skip = /^ridgeline-skip: [^:]*: (.*)$/m.exec(r.stdout);
  if (adapter === 'none') return t.skip(`Deno found no usable WebGPU adapter: ${skip?.[1] ?? 'no reason printed'}`);
  const summary = /^(ok|FAILED) \| (\d+) passed(?: \((\d+) steps?\))? \| (\d+) failed(?: \((\d+) steps?\))?/m.exec(r.stdout);
  assert.ok(summary, `no deno test summary (exit ${r.code ?? r.signal}):\n${tail}`);
  const [, verdict, , steps, failed] = summary;
  assert.equal(verdict, 'ok', `deno test on ${adapter} failed:\n${tail}`);
  assert.equal(Number(failed), 0, `deno test on ${adapter}: ${failed} failed:\n${tail}`);
  assert.ok(Number(steps) >= MIN_STEPS, `deno test on ${adapter} ran ${steps} steps, expected ≥ ${MIN_STEPS}:\n${tail}`);
  assert.ok(!skip, `a step was skipped: ${skip?.[1]}`);
  // Every step passed and deno printed its verdict; under load, deno sometimes then dies by
  // a signal while tearing wgpu down (seen 3 times in ~16 loaded runs, never on an idle
  // machine, on code before and after the backend-contract change). That is Deno's exit,
  // not a kernel result: it is reported, not failed; any other non-zero exit fails.
  if (r.code === null && r.signal) t.diagnostic(`deno exited by ${r.signal} after its summary (wgpu teardown under load)`);
  else assert.equal(r.code, 0, `deno test exited with ${r.code} after an ok summary:\n${tail}`);
  t.diagnostic(`${adapter}: ${steps} steps passed in ${r.seconds.toFixed(0)} s, peak RSS ${(r.peakRssBytes / 2 ** 20).toFixed(0)} MiB`);
});
