/**
 * Second-order and batched-evaluation speed, as ratios against peers run in the same script:
 *   1. seconds of one dataset HVP over 10 000 examples / seconds of one dataset gradient,
 *      ours (double backward through our autograd) and PyTorch's (torch.autograd.grad with
 *      create_graph, the standard double backward), mlp-2 width 512 on 28×28 inputs;
 *   2. the speed-up of batched evaluation of an 11-point barrier curve (every α on each
 *      resident batch, first-layer products shared) over evaluating the 11 points one by one.
 * Usage: node dist/bench/hvp.js [--help]. Run it on an otherwise idle machine.
 */
import { createCpuBackend } from '../core/cpu/cpu_backend.ts';
import type { Split } from '../core/data/dataset.ts';
import { alphaGrid } from '../core/lmc/barrier.ts';
import { evaluateCombinations } from '../core/lmc/combination_eval.ts';
import { DatasetDerivatives } from '../core/lmc/dataset_derivatives.ts';
import { createModel } from '../core/nn/registry.ts';
import { spawnKernelWorker } from '../runtimes/kernel_threads_host.ts';
import {
  describeBlas,
  ensurePythonPeer,
  fmt,
  formatTable,
  machineInfo,
  peerEnv,
  PY_TIME_IT,
  runPythonJson,
  SYSTEM_PYTHON,
  TORCH_OPENBLAS_PROBE,
  TORCH_PEER_PACKAGES,
  writeJsonAtomic,
} from './harness.ts';
import { randomSplit } from './random_split.ts';

const HELP = `usage: node dist/bench/hvp.js [--examples N] [--no-peer]
Times one dataset gradient and one dataset HVP (mlp-2, width 512, 784 inputs, N = 10 000
examples, batches of 1000) on the CPU backend and in PyTorch (1 and 2 threads), and
batched vs one-at-a-time evaluation of an 11-point curve. Prints ratios; writes
bench/results/hvp.json.`;

const PEER = PY_TIME_IT + `
import json, sys, torch
n, d, h, c, batch, threads = (int(a) for a in sys.argv[1:7])
torch.set_num_threads(threads)
torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Linear(d, h), torch.nn.ReLU(), torch.nn.Linear(h, c))
params = list(net.parameters())
x, y = torch.randn(n, d), torch.randint(0, c, (n,))
v = [torch.randn_like(p) for p in params]
def gradient():
    for s in range(0, n, batch):
        loss = torch.nn.functional.cross_entropy(net(x[s:s+batch]), y[s:s+batch])
        torch.autograd.grad(loss, params)
def hvp():
    for s in range(0, n, batch):
        loss = torch.nn.functional.cross_entropy(net(x[s:s+batch]), y[s:s+batch])
        g = torch.autograd.grad(loss, params, create_graph=True)
        torch.autograd.grad(sum((gi * vi).sum() for gi, vi in zip(g, v)), params)
opts = dict(warmup_ms=0, sample_ms=0, min_samples=3, budget_ms=0, max_samples=3)
print(json.dumps({"gradient": time_it(gradient, **opts), "hvp": time_it(hvp, **opts), "threads": threads}))
`;

async function seconds(fn: () => Promise<unknown>, repeats = 3): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    await fn();
    times.push((performance.now() - t0) / 1000);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help')) {
    console.log(HELP);
    return;
  }
  const n = Number(args[args.indexOf('--examples') + 1] ?? 10000) || 10000;
  const [d, h, c, batch] = [784, 512, 10, 1000];
  const backend = await createCpuBackend({ spawnWorker: spawnKernelWorker });
  const model = createModel('mlp-2', d, c, { width: h });
  const split: Split = randomSplit(n, d, c);
  const weights = model.init(0);
  const deriv = new DatasetDerivatives(backend, model, weights, split, { batch });
  const v = new Float64Array(model.parameterCount).map((_, i) => Math.sin(i));
  const ourGrad = await seconds(() => deriv.gradient());
  const ourHvp = await seconds(() => deriv.hvp(v));
  deriv.dispose();
  const other = model.init(1);
  const alphas = alphaGrid(11);
  const batched = await seconds(
    () => evaluateCombinations(backend, model, [weights, other], alphas.map((a) => [1 - a, a]), split, { batch }),
    2,
  );
  const oneByOne = await seconds(async () => {
    for (const a of alphas) await evaluateCombinations(backend, model, [weights, other], [[1 - a, a]], split, { batch });
  }, 2);
  const description = backend.description;
  backend.close();

  const peer = args.includes('--no-peer')
    ? { ok: false as const, reason: '--no-peer' }
    : ensurePythonPeer(TORCH_OPENBLAS_PROBE, TORCH_PEER_PACKAGES, (s) => console.error(s));
  const torch = peer.ok
    ? [1, 2].map((threads) =>
      runPythonJson(SYSTEM_PYTHON, PEER, [n, d, h, c, batch, threads].map(String), peerEnv()) as {
        gradient: { medianS: number };
        hvp: { medianS: number };
        threads: number;
      }
    )
    : [];
  const rows: (string | number)[][] = [[`ours (${description})`, fmt(ourGrad, 3), fmt(ourHvp, 3), fmt(ourHvp / ourGrad, 2)]];
  for (const t of torch) {
    rows.push([
      `PyTorch ${peer.ok ? peer.probe.torch : ''} CPU, ${t.threads} thread(s)`,
      fmt(t.gradient.medianS, 3),
      fmt(t.hvp.medianS, 3),
      fmt(t.hvp.medianS / t.gradient.medianS, 2),
    ]);
  }
  console.log(`dataset HVP vs dataset gradient: mlp-2 (width ${h}), ${n} examples, batches of ${batch}`);
  console.log(formatTable(['', 'gradient s', 'HVP s', 'HVP / gradient'], rows));
  if (!peer.ok) console.log(`peer: not run (${peer.reason})`);
  else console.log(`peer: PyTorch ${String(peer.probe.torch)}, ${describeBlas(peer.probe)}`);
  if (peer.ok) {
    for (const t of torch) {
      console.log(
        `ours / PyTorch (${t.threads} thread(s)): gradient ${fmt(ourGrad / t.gradient.medianS, 2)}×, HVP ${
          fmt(ourHvp / t.hvp.medianS, 2)
        }× the time`,
      );
    }
  }
  console.log(
    `\n11-point curve on ${n} examples: batched ${fmt(batched, 3)} s, one point at a time ${fmt(oneByOne, 3)} s → speed-up ${
      fmt(oneByOne / batched, 2)
    }×`,
  );
  writeJsonAtomic('bench/results/hvp.json', {
    schema: 'ridgeline.bench.hvp/1',
    machine: machineInfo(),
    model: 'mlp-2',
    width: h,
    examples: n,
    batch,
    ours: { backend: description, gradientS: ourGrad, hvpS: ourHvp, ratio: ourHvp / ourGrad },
    peer: peer.ok
      ? torch.map((t) => ({
        threads: t.threads,
        gradientS: t.gradient.medianS,
        hvpS: t.hvp.medianS,
        ratio: t.hvp.medianS / t.gradient.medianS,
      }))
      : { skipped: peer.reason },
    curve: { points: 11, batchedS: batched, oneByOneS: oneByOne, speedup: oneByOne / batched },
  });
}

await main();
