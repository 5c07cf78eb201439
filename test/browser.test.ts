/**
 * The browser page end to end in headless Chromium (Debian's, driven by playwright-core).
 * The same small fork experiment runs in the page's worker on the CPU backend — compared
 * bit for bit with a run in this process, same WASM and same RNG — and on WebGPU
 * (Chromium's SwiftShader), compared with the CPU run within f32 rounding. A Chromium
 * without WebGPU must say E_NO_ADAPTER for `webgpu` and fall back for `auto`. Skipped only
 * when /usr/bin/chromium is missing; a Chromium whose WebGPU finds no adapter fails with
 * the page's message, since CI must run this for real.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { createCpuBackend } from '../core/cpu/cpu_backend.ts';
import { runForkExperiment } from '../core/sweep/fork_runner.ts';
import { applyOptions, FORK_DEFAULTS } from '../core/experiments/fork_spec.ts';
import type { ForkResult } from '../core/experiments/result_schema.ts';
import { memoryFileStore } from '../core/io_memory.ts';
import { silentProgress } from '../core/progress.ts';
import { serveStatic } from '../runtimes/browser/serve.ts';
import { chromiumSkip as skip, firstDifference, launch, NO_WEBGPU_ARGS, WEBGPU_ARGS } from './browser_harness.ts';
import { startWatchdog } from './gpu/watchdog.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SPEC: Record<string, string> = {
  data: 'synthetic:gauss:n=400,dim=12,classes=4',
  model: 'mlp-2',
  width: '16',
  batch: '32',
  unit: 'steps',
  k1: '0,10',
  steps: '40',
  alphas: '5',
};
/** A run takes ~3 s on SwiftShader here; one near this bound is a hang. */
const RUN_TIMEOUT_MS = 180_000;

/**
 * Tolerance of WebGPU against CPU for every loss, gap, barrier and prediction distance.
 * The runs differ only by f32 rounding: matmul sums in other orders (GPU tiles vs SIMD
 * lanes) and other exp/log in softmax-cross-entropy, each a relative difference of order
 * γ_n = n·u (n ≤ 32 terms, u = 2^-24, so ≤ 2e-6) in every gradient. Carried through 40
 * momentum-SGD steps (effective step lr/(1 − β) = 0.5, gradients ~0.1) that is at most
 * ~1e-6 in the weights and so in losses of order 1; 1e-5 leaves a factor 10 for that
 * estimate, and is still 100× below the barriers (~5e-3) and their differences between
 * fork points (~1e-3), so it cannot hide a wrong curve.
 */
const LOSS_ATOL = 1e-5;
/** Weight distances (~0.3–0.6) carry the same relative weight perturbation. */
const DISTANCE_RTOL = 1e-5;
/**
 * Errors count misclassified examples; one flips only if its top two logits are within
 * the rounding difference, so at most one example per point of the path may differ.
 */
const ERROR_EXAMPLES = 1;

/** Fills every spec field (empty means the default), chooses the backend, runs, waits. */
async function runInPage(
  page: Page,
  backend: string,
  spec = SPEC,
): Promise<{ result: ForkResult | null; error: string | null; log: string[] }> {
  const fields = await page.$$eval('#spec input', (inputs) => inputs.map((i) => (i as HTMLInputElement).name));
  const extra = Object.entries(spec).filter(([k]) => !fields.includes(k)).map(([k, v]) => `--${k} ${v}`).join(' ');
  for (const name of fields) await page.fill(`#spec input[name="${name}"]`, name === 'extra' ? extra : (spec[name] ?? ''));
  await page.selectOption('#spec select[name="backend"]', backend);
  await page.click('#run');
  await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state ?? ''), null, { timeout: RUN_TIMEOUT_MS });
  return page.evaluate(() =>
    (globalThis as unknown as { ridgeline: { result: ForkResult | null; error: string | null; log: string[] } }).ridgeline
  );
}

async function mustRun(page: Page, backend: string, why: () => string | null): Promise<ForkResult> {
  let run;
  try {
    run = await runInPage(page, backend);
  } catch (e) {
    throw new Error(why() ?? `the page's ${backend} run did not finish: ${(e as Error).message}`);
  }
  if (run.error !== null || run.result === null) {
    assert.fail(`the page's ${backend} run failed; the page says: ${run.error ?? 'no result'}`);
  }
  return run.result;
}

async function nodeCpuRun(): Promise<ForkResult> {
  const backend = await createCpuBackend(); // no helper thread, like the page's worker
  try {
    return await runForkExperiment(applyOptions(FORK_DEFAULTS, SPEC), 'run', backend, {
      files: memoryFileStore(),
      progress: silentProgress,
      runtime: `node ${process.versions.node}`,
      version: 'test',
      gitCommit: null,
    });
  } finally {
    backend.close();
  }
}

/** Asserts |a − b| ≤ tol for every pair, naming the worst; returns the largest difference. */
function within(pairs: [string, number, number, number][]): number {
  let worst = 0;
  for (const [what, got, want, tol] of pairs) {
    assert.ok(Math.abs(got - want) <= tol, `${what}: webgpu ${got}, cpu ${want} (|Δ| ${Math.abs(got - want)} > ${tol})`);
    worst = Math.max(worst, Math.abs(got - want));
  }
  return worst;
}

test('browser page on WebGPU (SwiftShader) and CPU: equal to the Node CPU run, bit for bit and within f32 rounding', {
  skip,
  timeout: 600_000,
}, async (t: TestContext) => {
  const stopWatchdog = startWatchdog('browser.test', { seconds: 900, rssBytes: 4 * 2 ** 30 });
  const server = await serveStatic(join(root, 'dist/browser'));
  const { browser, why, stop } = await launch(WEBGPU_ARGS);
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 1400 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('crash', () => pageErrors.push('the page crashed'));
    await page.goto(`${server.url}#/fork`, { timeout: 30_000 });
    assert.equal(await page.evaluate(() => crossOriginIsolated), true, 'COOP/COEP make the page cross-origin isolated');
    const reference = await nodeCpuRun();

    await t.test('cpu backend in the page: the same training and the same numbers as Node, bit for bit', async () => {
      const r = await mustRun(page, 'cpu', why);
      assert.equal(r.provenance.backend, 'cpu');
      assert.match(r.provenance.runtime, /^browser Chromium \d+\.\d+/);
      assert.deepEqual(r.spec, reference.spec);
      // Training first (device-side losses, weights through their distances), then every
      // host-side metric: a difference only in the latter points at host f64 arithmetic.
      assert.deepEqual(r.parentLoss, reference.parentLoss, 'parent training losses');
      assert.deepEqual(
        r.cells.map((c) => [c.weightDistance, c.weightDistanceByLayer]),
        reference.cells.map((c) => [c.weightDistance, c.weightDistanceByLayer]),
        'trained weights',
      );
      const diff = firstDifference(r.cells, reference.cells, 'cells');
      assert.equal(
        diff,
        null,
        `${diff}. Curves are f64 sums on the host: if Math.exp/Math.log compute them, they differ in the last bit between V8 versions (Chromium's vs Node's); core/portable_math.ts gives the same bits everywhere`,
      );
    });

    await t.test('webgpu backend (SwiftShader) in the page: the CPU run within f32 rounding; the page names the adapter', async () => {
      const r = await mustRun(page, 'webgpu', why);
      assert.equal(r.provenance.backend, 'webgpu');
      assert.match(r.provenance.adapter, /swiftshader/i);
      assert.match((await page.textContent('#backend')) ?? '', /^webgpu on .*swiftshader/i, 'the page shows the adapter');
      assert.equal(await page.locator('#cells tbody tr').count(), r.cells.length);
      assert.match((await page.frameLocator('#report').locator('h1').textContent()) ?? '', /Fork report/);
      assert.deepEqual(r.spec, reference.spec);
      assert.deepEqual(r.cells.map((c) => [c.k1, c.k2]), reference.cells.map((c) => [c.k1, c.k2]));
      const losses: [string, number, number, number][] = r.parentLoss.map((
        p,
        i,
      ) => [`parent loss at step ${p.step}`, p.loss, reference.parentLoss[i].loss, LOSS_ATOL]);
      const errors: [string, number, number, number][] = [];
      r.cells.forEach((c, i) => {
        const ref = reference.cells[i];
        losses.push([`k1=${c.k1} ‖θA − θB‖`, c.weightDistance, ref.weightDistance, DISTANCE_RTOL * ref.weightDistance]);
        for (const split of ['train', 'test'] as const) {
          const [s, w] = [c[split], ref[split]];
          const n = split === 'train'
            ? (r.spec.resolved as { trainExamples: number }).trainExamples
            : (r.spec.resolved as { testExamples: number }).testExamples;
          const at = (what: string) => `k1=${c.k1} ${split} ${what}`;
          losses.push([at('loss barrier'), s.lossBarrier, w.lossBarrier, LOSS_ATOL], [
            at('prediction distance'),
            s.predictionDistance,
            w.predictionDistance,
            LOSS_ATOL,
          ]);
          s.curve.forEach((p, j) => {
            losses.push([at(`loss at α=${p.alpha}`), p.loss, w.curve[j].loss, LOSS_ATOL], [
              at(`gap at α=${p.alpha}`),
              p.gap,
              w.curve[j].gap,
              LOSS_ATOL,
            ]);
            errors.push([at(`error at α=${p.alpha}`), p.error, w.curve[j].error, ERROR_EXAMPLES / n + 1e-12]);
          });
        }
      });
      const worstLoss = within(losses);
      const worstError = within(errors);
      t.diagnostic(
        `webgpu − cpu: largest |Δ| of losses/gaps/barriers/distances ${
          worstLoss.toExponential(2)
        } (tolerance ${LOSS_ATOL}), of errors ${worstError}`,
      );
      mkdirSync(join(root, 'build'), { recursive: true });
      await page.screenshot({ path: join(root, 'build/browser-page.png'), fullPage: true });
    });
    await t.test('auto on SwiftShader takes the CPU backend (faster than a CPU-emulated GPU) and says why', async () => {
      const r = await mustRun(page, 'auto', why);
      assert.equal(r.provenance.backend, 'cpu');
      const said = await page.evaluate(() => (globalThis as unknown as { ridgeline: { log: string[] } }).ridgeline.log);
      assert.match(said[0] ?? '', /^backend: cpu \(.*\); the WebGPU adapter is a CPU emulation \(.*swiftshader.*\)/i);
    });
    assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
  } finally {
    await stop();
    await server.close();
    stopWatchdog();
  }
});

test('browser page without WebGPU: `webgpu` fails with E_NO_ADAPTER on the page, `auto` falls back to cpu saying so', {
  skip,
  timeout: 300_000,
}, async () => {
  const server = await serveStatic(join(root, 'dist/browser'));
  const { browser, why, stop } = await launch(NO_WEBGPU_ARGS);
  try {
    const page = await browser.newPage();
    await page.goto(`${server.url}#/fork`, { timeout: 30_000 });
    const failed = await runInPage(page, 'webgpu');
    assert.equal(failed.result, null);
    assert.match(failed.error ?? '', /^E_NO_ADAPTER: webgpu: .*--enable-unsafe-webgpu --use-webgpu-adapter=swiftshader/);
    assert.equal(await page.textContent('#error'), failed.error, 'the page shows the message');
    const auto = await mustRun(page, 'auto', why);
    assert.equal(auto.provenance.backend, 'cpu');
    const said = await page.evaluate(() => (globalThis as unknown as { ridgeline: { log: string[] } }).ridgeline.log);
    assert.equal(said.filter((l) => l.startsWith('backend:')).length, 1, 'one line says which backend and why');
    assert.match(said.find((l) => l.startsWith('backend:')) ?? '', /^backend: cpu \(.*\); no usable WebGPU adapter \(E_NO_ADAPTER/);
  } finally {
    await stop();
    await server.close();
  }
});
