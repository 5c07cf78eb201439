/**
 * The models of docs/models.md against their PyTorch definitions in bench/torch_models.py:
 *  - state: every tensor's name and shape in state_dict order (BN running statistics are
 *    buffers, `trainable: false`; PyTorch's num_batches_tracked is not stored by us), and
 *    the trainable parameter count;
 *  - forward: our initial weights saved as safetensors, loaded by torch's load_state_dict,
 *    and both eval-mode forwards on the same inputs agree.
 * Needs python3 with torch (the test command installs python3-torch); skipped, saying so,
 * when there is none.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCpuBackend } from '../core/cpu/cpu_backend.ts';
import { encodeSafetensors } from '../core/io/safetensors.ts';
import type { Model } from '../core/nn/model.ts';
import { createModel } from '../core/nn/registry.ts';
import { fromArray, tidy } from '../core/tensor.ts';
import { findTorchPython, peerEnv } from './torch_python.ts';
import { assertClose, randomF32, seeded } from './util.ts';

const script = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'torch_models.py');

interface Case {
  model: string;
  input: number[];
  classes: number;
  /** Trainable parameters PyTorch counts for this shape (measured with torch 1.13). */
  torchParams: number;
  /** Compare eval-mode forwards (the others are only described and counted). */
  forward: boolean;
}

/** The registry reads 0 classes as a regression dataset (one output); torch's Linear needs 1. */
const ourClasses = (c: Case) => (c.model === 'siren' ? 0 : c.classes);

const CIFAR = [3, 32, 32];
const CASES: Case[] = [
  { model: 'lenet5', input: [1, 28, 28], classes: 10, torchParams: 61_706, forward: true },
  { model: 'cnn', input: CIFAR, classes: 10, torchParams: 88_202, forward: true },
  { model: 'lc-cnn', input: CIFAR, classes: 10, torchParams: 483_338, forward: true },
  // 25 M parameters: the state is compared, the forward (two dense layers) is not worth 100 MB.
  { model: 'mlp-toeplitz', input: CIFAR, classes: 10, torchParams: 25_255_946, forward: false },
  { model: 'vit-lite', input: CIFAR, classes: 10, torchParams: 1_080_730, forward: true },
  { model: 'vgg-reduced', input: CIFAR, classes: 10, torchParams: 854_943, forward: true },
  // Option-A shortcuts have no parameters: 269 722 (the often-quoted 272 474 is option B).
  { model: 'resnet20', input: CIFAR, classes: 10, torchParams: 269_722, forward: true },
  { model: 'resnet20-nobn', input: CIFAR, classes: 10, torchParams: 268_346, forward: true },
  { model: 'siren', input: [1], classes: 1, torchParams: 198_145, forward: true },
  { model: 'alexnet', input: [3, 64, 64], classes: 200, torchParams: 57_823_752, forward: false },
];

/**
 * Logits agree within this fraction of the largest |logit|. Torch's own f32 forward differs
 * from its f64 forward by at most 4.3e-7 of that scale on these models (1.4e-6 for siren,
 * whose sin(30·z) multiplies the error of z by 30 per layer), and ours differs from torch's
 * by at most 6.8e-7 (vit-lite; the test prints each model's figure): 1e-5 leaves ≥ 7× margin
 * for other summation orders (another BLAS), while a wrong layout or layer fails by O(1)
 * and a wrong constant fails too (LayerNorm eps 1e-6 instead of 1e-5 moves vit-lite's
 * logits by 4e-4 of their scale).
 */
const LOGIT_RTOL = 1e-5;

const torchPython = findTorchPython();
const skip = torchPython.python ? false : torchPython.reason;

function runScript(args: string[]): string {
  // One thread: the forwards are tiny, and a second OpenMP thread only competes with other tests.
  const r = spawnSync(torchPython.python!, [script, ...args], {
    encoding: 'utf8',
    timeout: 300_000,
    env: peerEnv({ OMP_NUM_THREADS: '1' }),
    maxBuffer: 64 << 20,
  });
  assert.equal(r.status, 0, `torch_models.py ${args[0]} failed: ${r.error?.message ?? r.stderr}`);
  return r.stdout;
}

const modelArgs = (c: Case) => ['--model', c.model, '--input', c.input.join(','), '--classes', String(c.classes)];

for (const c of CASES) {
  test(
    `${c.model} ${c.input.join('×')} → ${c.classes}: state_dict names, shapes, order and parameter count match PyTorch`,
    { skip },
    () => {
      const torch = JSON.parse(runScript(['count', ...modelArgs(c)])) as { params: number; state: [string, number[]][]; buffers: string[] };
      assert.equal(torch.params, c.torchParams, 'bench/torch_models.py no longer gives the recorded count');
      // num_batches_tracked only drives momentum=None running averages; we keep no such counter.
      const want = torch.state.filter(([key]) => !key.endsWith('num_batches_tracked'));
      const model = createModel(c.model, c.input, ourClasses(c));
      assert.deepEqual(model.params.map((p) => p.name), want.map(([key]) => key), 'names in state_dict order');
      for (const [i, [key, shape]] of want.entries()) {
        assert.deepEqual(model.params[i].shape, shape, `shape of ${key}`);
        assert.equal(model.params[i].trainable, !torch.buffers.includes(key), `${key}: trainable in ours iff a parameter in torch`);
      }
      assert.equal(model.parameterCount, torch.params, 'trainable parameter count');
    },
  );
}

/**
 * Our initial weights, with every tensor that the init leaves constant (BN and LayerNorm
 * affine parameters and running statistics, zero-initialised tokens) shifted by U(−½, ½):
 * otherwise eval-mode BN is nearly the identity and a swapped mean/var or γ/β would pass.
 * running_var starts at 1, so it stays in [½, 1½], positive.
 */
function testWeights(model: Model, seed: number): Float32Array[] {
  const rand = seeded(seed);
  return model.init(seed).map((w) => {
    if (w.length > 0 && w.every((v) => v === w[0])) return w.map((v) => v + rand() - 0.5);
    return w;
  });
}

const backendPromise = createCpuBackend();

for (const c of CASES.filter((k) => k.forward)) {
  test(`${c.model}: eval-mode forward of our weights matches PyTorch's on the same file`, { skip }, async (t) => {
    const be = await backendPromise;
    const model = createModel(c.model, c.input, ourClasses(c));
    const weights = testWeights(model, 7);
    // siren maps a timestep in [−1, 1]; images get values of a normalised dataset's scale.
    const n = c.model === 'siren' ? 16 : 4;
    const x = randomF32(11, n * model.inputSize, -1, 1);
    const dir = mkdtempSync(join(tmpdir(), 'ridgeline-models-torch-'));
    try {
      const wPath = join(dir, 'w.safetensors');
      writeFileSync(
        wPath,
        encodeSafetensors(model.params.map((p, i) => ({ name: p.name, shape: p.shape, data: weights[i] })), { format: 'pt' }),
      );
      writeFileSync(join(dir, 'x.f32'), new Uint8Array(x.buffer));
      runScript(['forward', ...modelArgs(c), '--weights', wPath, '--x', join(dir, 'x.f32'), '--n', String(n), '--out', join(dir, 'y.f32')]);
      const bytes = readFileSync(join(dir, 'y.f32'));
      const want = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
      assert.equal(want.length, n * c.classes, 'torch logits');

      const params = model.params.map((p, i) => fromArray(be, weights[i], p.shape));
      const input = fromArray(be, x, [n, model.inputSize]);
      const out = tidy(() => model.forward(params, input));
      const got = await out.data();
      [...params, input, out].forEach((t) => t.dispose());

      const scale = Math.max(...Array.from(want, Math.abs));
      assert.ok(scale > 0 && Number.isFinite(scale), `torch logits are degenerate (max |logit| ${scale})`);
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
      t.diagnostic(`max |ours − torch| = ${(worst / scale).toExponential(2)} × max |logit| (${scale.toPrecision(3)})`);
      assertClose(
        got,
        want,
        LOGIT_RTOL * scale,
        `${c.model} logits vs torch (tolerance ${LOGIT_RTOL} × max |logit| ${scale.toPrecision(3)})`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
