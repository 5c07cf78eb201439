/**
 * The library API's own functions (runtimes/library.ts, re-exporting core/mod.ts) against
 * the CLI commands that compute the same things: a training line (`ridgeline train`), the
 * barrier between two checkpoints (`ridgeline barrier --json`) and the Hessian's extreme
 * eigenvalues (`ridgeline hessian --checkpoint --json`) must agree bit for bit, since both
 * sides run the same kernels in the same order; arrays passed in must give the data set a
 * name would, and bad arrays must be refused naming what is wrong.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  type Backend,
  closeBackend,
  createBackend,
  createModel,
  type Dataset,
  datasetFromArrays,
  disposeState,
  forkSpecFrom,
  hessianEigenvalues,
  loadDataset,
  loadWeights,
  matchNetworks,
  measureBarrier,
  type Model,
  nodeFileStore,
  permuteState,
  RidgelineError,
  saveWeights,
  subsetOf,
  trainRun,
} from '../runtimes/library.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DATA = 'synthetic:gauss:n=300,dim=8,classes=3';
const OPTIONS = { model: 'mlp-1', width: 12, data: DATA, steps: 30, batch: 25, lr: 0.1 } as const;
/** The model and data flags every command takes; training flags only `train` does. */
const FLAGS = ['--model', 'mlp-1', '--width', '12', '--data', DATA, '--backend', 'cpu'];
const TRAIN_FLAGS = ['--batch', '25', '--lr', '0.1', '--steps', '30'];

let dir: string;
let backend: Backend;
let dataset: Dataset;
let model: Model;

function cli(args: string[]): string {
  const r = spawnSync(process.execPath, [join(root, 'dist/runtimes/node.js'), ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, `ridgeline ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ridgeline-api-'));
  ({ backend } = await createBackend('cpu'));
  dataset = await loadDataset(DATA, nodeFileStore());
  model = createModel('mlp-1', dataset.inputShape, dataset.classes, { width: 12 });
});
after(() => {
  closeBackend(backend);
  rmSync(dir, { recursive: true, force: true });
});

/** trainRun with order seed `seed`, its weights written to DIR/api-SEED.safetensors. */
async function trained(seed: number): Promise<{ weights: Float32Array[]; file: string }> {
  const run = await trainRun(backend, model, dataset, forkSpecFrom({ ...OPTIONS, seedOrder: seed }));
  disposeState(run.state);
  assert.equal(run.losses.length, 30);
  const file = join(dir, `api-${seed}.safetensors`);
  await saveWeights(nodeFileStore(), file, model, run.weights);
  return { weights: run.weights, file };
}

test('trainRun gives the weights ridgeline train writes', async () => {
  const { weights } = await trained(0);
  cli(['train', ...FLAGS, ...TRAIN_FLAGS, '--out', join(dir, 'cli-train')]);
  const fromCli = await loadWeights(nodeFileStore(), join(dir, 'cli-train/final.safetensors'), model);
  weights.forEach((w, i) => assert.deepEqual(w, fromCli[i], `tensor ${model.params[i].name}`));
});

test('measureBarrier equals ridgeline barrier --json', async () => {
  const a = await trained(0);
  const b = await trained(1);
  const api = await measureBarrier(backend, model, a.weights, b.weights, dataset);
  const fromCli = JSON.parse(cli(['barrier', ...FLAGS, '--a', a.file, '--b', b.file, '--json']));
  assert.deepEqual(api.train, fromCli.train);
  assert.deepEqual(api.test, fromCli.test);
  assert.equal(api.weightDistance, fromCli.weightDistance);
  assert.deepEqual(api.weightDistanceByLayer, fromCli.weightDistanceByLayer);
  assert.notEqual(api.train.lossBarrier, 0, 'two children of different orders should not give a flat path');
});

test('matchNetworks + permuteState + measureBarrier equal ridgeline barrier --align weight --json', async () => {
  const a = await trained(0);
  const b = await trained(1);
  const match = await matchNetworks(backend, model, a.weights, b.weights, 'weight', dataset.train, { seed: 0 });
  const aligned = await measureBarrier(backend, model, a.weights, permuteState(model, b.weights, match.perms), dataset);
  const fromCli =
    JSON.parse(cli(['barrier', ...FLAGS, '--a', a.file, '--b', b.file, '--align', 'weight', '--align-seed', '0', '--json'])).aligned;
  assert.equal(match.objective, fromCli.objective);
  assert.deepEqual(aligned.train, fromCli.train);
  assert.deepEqual(aligned.test, fromCli.test);
  assert.equal(aligned.weightDistance, fromCli.weightDistance);
  assert.ok(match.objective >= match.objectiveBefore, 'matching never lowers the objective');
});

test('hessianEigenvalues equals ridgeline hessian --checkpoint --json', async () => {
  const a = await trained(0);
  const api = await hessianEigenvalues(backend, model, a.weights, subsetOf(dataset.train, 1000));
  const [point] = JSON.parse(cli(['hessian', ...FLAGS, '--checkpoint', a.file, '--json'])).points;
  for (const key of ['lambdaMax', 'lambdaMin', 'ratio', 'iterations', 'hvps', 'converged'] as const) {
    assert.equal(api[key], point[key], key);
  }
  assert.ok(api.converged && api.lambdaMax > 0);
});

test('datasetFromArrays normalizes like loadDataset, and refuses bad arrays by name', async () => {
  const raw = await loadDataset(DATA, nodeFileStore(), { normalize: 'none' });
  const fromArrays = datasetFromArrays({ inputShape: raw.inputShape, classes: raw.classes, train: raw.train, test: raw.test });
  assert.deepEqual(fromArrays.train, dataset.train);
  assert.deepEqual(fromArrays.test, dataset.test);
  assert.deepEqual(fromArrays.normalization, dataset.normalization);
  const refused = (o: Parameters<typeof datasetFromArrays>[0], message: RegExp) =>
    assert.throws(() => datasetFromArrays(o), (e: unknown) => e instanceof RidgelineError && message.test(e.message));
  const base = { inputShape: [2], classes: 2, test: { x: [0, 1], y: [1] } };
  refused({ ...base, train: { x: [0, 1, 2], y: [0, 1] } }, /train split has 3 input values for 2 labels; expected 2 × 2/);
  refused({ ...base, train: { x: [0, 1, 2, 3], y: [0, 2] } }, /train label 1 is 2; expected an integer in \[0, 2\)/);
  refused({ ...base, train: { x: [0, NaN, 2, 3], y: [0, 1] } }, /train input 1 is NaN/);
  refused({ ...base, train: { x: [], y: [] } }, /train split has no examples/);
});
