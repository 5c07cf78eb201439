/**
 * Training in lock step with PyTorch (docs/fork.md#training): the same network, the same initial weights
 * and the same 2 000 Fashion-MNIST images, 250 full-batch steps of every optimizer and
 * option in ridgeline and in torch.optim (bench/torch_models.py train, Debian's
 * python3-torch), then the largest |Δw| over all parameters (bound 1e-4). Each framework
 * computes its own gradients, so this covers the whole step: loss, backward, clipping,
 * schedule (torch's LinearLR / MultiStepLR / CosineAnnealingLR rates, step by step) and
 * update. The optimizer state after the first step, before trajectories can drift, is
 * compared to 1e-6 relative: the moments are where a mis-formed scalar shows (1 − β2 from
 * the f32-rounded β2 is 1.3e-5 off, which moved ReLU Adam 0.09 away in 200 steps).
 *
 * The network is mlp-2 (width 64) with LeakyReLU slope 1, i.e. linear, in mlp-2's names:
 * with ReLU, a pre-activation within rounding of 0 switches a unit off in one framework and
 * on in the other, and full-batch training (at the edge of stability) amplifies such
 * events: measured here, ReLU runs agree to 1e-7 for 60–100 steps, then jump to 1e-4–1e-2
 * (SGD and Adam alike, any learning rate tried), while the linear network stays at
 * 3e-8–1.5e-5 for 250 steps. Smoothness lets the comparison measure the arithmetic.
 *
 * Needs python3 with torch and Fashion-MNIST (the test command installs both); skipped,
 * saying which is missing, otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCpuBackend } from '../core/cpu/cpu_backend.ts';
import { featureCount } from '../core/data/dataset.ts';
import { FASHION_MNIST_DEFAULT_DIR } from '../core/data/fashion_mnist.ts';
import { loadDataset } from '../core/data/registry.ts';
import { encodeSafetensors } from '../core/io/safetensors.ts';
import { createModel } from '../core/nn/registry.ts';
import type { TrainConfig } from '../core/train/config.ts';
import { learningRate } from '../core/train/schedule.ts';
import { disposeState, readWeights, stateFromWeights } from '../core/train/state.ts';
import { trainSteps } from '../core/train/trainer.ts';
import { nodeFileStore } from '../runtimes/node_files.ts';
import { findTorchPython, peerEnv } from './torch_python.ts';

const script = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'torch_models.py');
const torchPython = findTorchPython();
const skip = !torchPython.python
  ? torchPython.reason
  : !existsSync(FASHION_MNIST_DEFAULT_DIR)
  ? `${FASHION_MNIST_DEFAULT_DIR} is absent (apt-get install dataset-fashion-mnist)`
  : false;

const N = 2000;
const WIDTH = 64;
/** LeakyReLU slope 1: the identity, so the network is smooth (see above). */
const SLOPE = 1;
const STEPS = 250;
/** The bound on max |Δw| after ≥ 200 steps. */
const TOLERANCE = 1e-4;

interface Case {
  name: string;
  config: Omit<TrainConfig, 'batch' | 'schedule'>;
  schedule: Partial<TrainConfig['schedule']> & { lr: number };
}

const SGD = { optimizer: 'sgd' as const, momentum: 0, nesterov: false, weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8, clip: null };
const ADAM = { ...SGD, optimizer: 'adam' as const };

const CASES: Case[] = [
  { name: 'sgd', config: SGD, schedule: { lr: 0.05 } },
  { name: 'sgd, momentum 0.9', config: { ...SGD, momentum: 0.9 }, schedule: { lr: 0.01 } },
  {
    name: 'sgd, Nesterov, weight decay 5e-4, step decay at 120',
    config: { ...SGD, momentum: 0.9, nesterov: true, weightDecay: 5e-4 },
    schedule: { lr: 0.01, kind: 'step', milestones: [120] },
  },
  {
    name: 'sgd, momentum 0.8, dampening 0.3, clip 0.5, warm-up 40 + cosine',
    config: { ...SGD, momentum: 0.8, dampening: 0.3, clip: 0.5 },
    schedule: { lr: 0.02, kind: 'cosine', warmupSteps: 40 },
  },
  { name: 'adam', config: ADAM, schedule: { lr: 1e-4 } },
  {
    name: 'adam, β (0.8, 0.99), eps 1e-6, weight decay 1e-3, warm-up 50 + cosine',
    config: { ...ADAM, beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 1e-3 },
    schedule: { lr: 2e-4, kind: 'cosine', warmupSteps: 50 },
  },
  {
    name: 'adamw, weight decay 0.05, warm-up 30',
    config: { ...ADAM, optimizer: 'adamw', weightDecay: 0.05 },
    schedule: { lr: 2e-4, warmupSteps: 30 },
  },
];

/**
 * Adam's state after its first step is m = (1 − β1)·g and v = (1 − β2)·g², so v/m² is
 * (1 − β2)/(1 − β1)² in every entry whatever the gradient: comparing that ratio with
 * torch's cancels the two frameworks' gradient rounding (3e-6 relative here) and leaves
 * the scalars. The largest relative difference over entries with |m| within 5 % of the
 * largest, or null for SGD (its buffer is the gradient itself).
 */
function adamStateRatioError(ours: Float32Array[], theirs: Float32Array, optimizer: string): number | null {
  if (optimizer === 'sgd') return null;
  let offset = 0;
  let worst = 0;
  for (let p = 0; p < ours.length; p += 2) {
    const [m, v] = [ours[p], ours[p + 1]];
    const tm = theirs.subarray(offset, offset + m.length);
    const tv = theirs.subarray(offset + m.length, offset + 2 * m.length);
    offset += 2 * m.length;
    const scale = Math.max(...tm.map(Math.abs));
    for (let i = 0; i < m.length; i++) {
      if (Math.abs(tm[i]) < 0.05 * scale) continue;
      const want = tv[i] / (tm[i] * tm[i]);
      worst = Math.max(worst, Math.abs(v[i] / (m[i] * m[i]) - want) / want);
    }
  }
  assert.equal(offset, theirs.length, 'optimizer state size');
  return worst;
}

const rawF32 = (file: string) => {
  const raw = readFileSync(file);
  return new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
};

test(
  'training against PyTorch: SGD, Adam and AdamW with every option, 200+ full-batch steps, max |Δw| < 1e-4; learning rates as torch schedulers give them',
  { skip },
  async (t) => {
    const dataset = await loadDataset('fashion-mnist', nodeFileStore(), { limit: N });
    const model = createModel('mlp-2', dataset.inputShape, dataset.classes, { width: WIDTH, slope: SLOPE });
    const init = model.init(7);
    const dir = mkdtempSync(join(tmpdir(), 'ridgeline-optim-torch-'));
    const backend = await createCpuBackend();
    try {
      writeFileSync(
        join(dir, 'init.safetensors'),
        encodeSafetensors(model.params.map((p, i) => ({ name: p.name, shape: p.shape, data: init[i] }))),
      );
      writeFileSync(join(dir, 'x.f32'), new Uint8Array(dataset.train.x.buffer, dataset.train.x.byteOffset, dataset.train.x.byteLength));
      writeFileSync(join(dir, 'y.f32'), new Uint8Array(dataset.train.y.buffer, dataset.train.y.byteOffset, dataset.train.y.byteLength));
      const fullBatch = {
        features: featureCount(dataset.inputShape),
        batchAt: () => ({ x: dataset.train.x, y: dataset.train.y, size: dataset.train.n }),
      };
      for (const c of CASES) {
        const schedule = { kind: 'constant' as const, warmupSteps: 0, milestones: [], gamma: 0.1, totalSteps: STEPS, ...c.schedule };
        const config: TrainConfig = { ...c.config, batch: N, schedule };
        const o = c.config;
        const args = [
          script,
          'train',
          '--model',
          'mlp-2',
          '--width',
          String(WIDTH),
          '--slope',
          String(SLOPE),
          '--input',
          dataset.inputShape.join(','),
          '--classes',
          String(dataset.classes),
          '--weights',
          join(dir, 'init.safetensors'),
          '--x',
          join(dir, 'x.f32'),
          '--y',
          join(dir, 'y.f32'),
          '--n',
          String(N),
          '--steps',
          String(STEPS),
          '--optimizer',
          o.optimizer,
          '--lr',
          String(schedule.lr),
          '--momentum',
          String(o.momentum),
          '--dampening',
          String(o.dampening ?? 0),
          ...(o.nesterov ? ['--nesterov'] : []),
          '--weight-decay',
          String(o.weightDecay),
          '--beta1',
          String(o.beta1),
          '--beta2',
          String(o.beta2),
          '--eps',
          String(o.eps),
          '--warmup',
          String(schedule.warmupSteps),
          '--schedule',
          schedule.kind,
          '--milestones',
          schedule.milestones.join(','),
          '--total',
          String(schedule.totalSteps),
          ...(o.clip === null ? [] : ['--clip', String(o.clip)]),
          '--threads',
          '1',
          '--out',
          join(dir, 'torch.f32'),
          '--state-out',
          join(dir, 'state.f32'),
        ];
        const r = spawnSync(torchPython.python!, args, { encoding: 'utf8', timeout: 600_000, env: peerEnv({ OMP_NUM_THREADS: '1' }) });
        assert.equal(r.status, 0, `torch_models.py train (${c.name}) failed: ${r.error?.message ?? r.stderr}`);
        const peer = JSON.parse(r.stdout) as { lrs: number[]; losses: number[] };

        // The rates torch's schedulers used, step by step (their chainable forms round differently in the last bits).
        const lrErr = Math.max(...peer.lrs.map((lr, s) => Math.abs(lr - learningRate(schedule, s))));
        assert.ok(lrErr <= 1e-12 * schedule.lr, `${c.name}: learning rates differ from torch's by ${lrErr}`);

        const state = stateFromWeights(backend, model, init, config, 0);
        await trainSteps(backend, model, state, fullBatch, 1, config);
        const stateErr = adamStateRatioError(
          await Promise.all(state.optimizer.state().map((t) => t.data())),
          rawF32(join(dir, 'state.f32')),
          c.config.optimizer,
        );
        await trainSteps(backend, model, state, fullBatch, STEPS, config);
        const ours = (await readWeights(state)).flatMap((w) => Array.from(w));
        disposeState(state);
        const theirs = rawF32(join(dir, 'torch.f32'));
        assert.equal(theirs.length, ours.length, `${c.name}: parameter count`);
        let maxDiff = 0;
        for (let i = 0; i < ours.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ours[i] - theirs[i]));
        const stateNote = stateErr === null ? '' : `; v/m² after step 1 within ${stateErr.toExponential(1)} relative`;
        t.diagnostic(
          `${c.name}: loss ${peer.losses[0].toFixed(4)} → ${peer.losses[STEPS - 1].toFixed(4)}${stateNote}; after ${STEPS} steps max |Δw| ${
            maxDiff.toExponential(2)
          }`,
        );
        assert.ok(stateErr === null || stateErr < 1e-6, `${c.name}: v/m² after one step is ${stateErr} (relative) from torch's`);
        // The run must actually train (the loss falls) for the agreement to mean anything.
        assert.ok(
          peer.losses[STEPS - 1] < 0.5 * peer.losses[0],
          `${c.name}: torch's loss ${peer.losses[0]} → ${peer.losses[STEPS - 1]} did not fall`,
        );
        assert.ok(maxDiff < TOLERANCE, `${c.name}: max |Δw| = ${maxDiff} after ${STEPS} steps (bound ${TOLERANCE})`);
      }
    } finally {
      backend.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
