/**
 * The GPU bench: written for the first run on a machine with a hardware WebGPU adapter,
 * which will be rare, so it must finish first time and within 5 minutes. It prints the
 * WebGPU backend's matmul GFLOP/s up to 4096², seconds per epoch of mlp-2 (Fashion-MNIST
 * shapes, batch 128) and LeNet-5 (batch 64), an 11-point barrier curve of mlp-2 over 60 000
 * images (the batched combination evaluation the experiments use) and one dataset HVP
 * (10 000 examples), next to PyTorch on CUDA when /usr/bin/python3 has a torch that sees a
 * GPU (never installed by this bench: a CUDA torch is not a Debian package). `--cpu` adds
 * the CPU backend (2 threads) alongside. Every section is timed on its own and a failing
 * section is reported and skipped, so one problem does not lose the rest. On a machine
 * without a GPU the adapter is a software Vulkan driver (SwiftShader for Node): `--quick`
 * runs every section at small sizes there (test/bench_gpu.test.ts runs it).
 *
 *   node dist/bench/gpu.js [--quick] [--cpu] [--no-peer] [--out FILE]
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Backend, MatmulParams } from '../core/backend.ts';
import { createCpuBackend } from '../core/cpu/cpu_backend.ts';
import { createWebGpuBackend } from '../core/gpu/create_backend.ts';
import { alphaGrid, lossBarrier } from '../core/lmc/barrier.ts';
import { evaluateCombinations } from '../core/lmc/combination_eval.ts';
import { DatasetDerivatives } from '../core/lmc/dataset_derivatives.ts';
import { createModel } from '../core/nn/registry.ts';
import { isSoftwareAdapter } from '../core/select_backend.ts';
import { spawnKernelWorker } from '../runtimes/kernel_threads_host.ts';
import { nodeGpu } from '../runtimes/webgpu_host.ts';
import { fmt, formatTable, machineInfo, median, peerEnv, runPythonJson, SYSTEM_PYTHON, writeJsonAtomic } from './harness.ts';
import { randomSplit } from './random_split.ts';
import { ourSecondsPerStep, type Workload } from './step_time.ts';

const USAGE = `Usage: node dist/bench/gpu.js [--quick] [--cpu] [--no-peer] [--out FILE]

WebGPU backend: matmul GFLOP/s (256² … 4096²), mlp-2 and LeNet-5 epoch seconds, an 11-point
barrier curve of mlp-2 over 60 000 images, one dataset HVP (10 000 examples); PyTorch CUDA
alongside when present. --quick: small sizes (for software adapters and tests); --cpu: the
CPU backend (2 threads) alongside; --no-peer: skip PyTorch.`;

interface Sizes {
  matmul: number[];
  epochSteps: number;
  curveImages: number;
  hvpExamples: number;
}

const FULL: Sizes = { matmul: [256, 512, 1024, 2048, 4096], epochSteps: 30, curveImages: 60_000, hvpExamples: 10_000 };
const QUICK: Sizes = { matmul: [64, 128], epochSteps: 1, curveImages: 300, hvpExamples: 200 };

const FASHION = { dataset: 'Fashion-MNIST', input: [1, 28, 28], classes: 10, trainExamples: 60_000 };
const EPOCHS: Workload[] = [
  { model: 'mlp-2', ...FASHION, batch: 128, steps: 0 },
  { model: 'lenet5', ...FASHION, batch: 64, steps: 0 },
];

/** Examples per batch of the curve and HVP, as the experiments evaluate. */
const EVAL_BATCH = 1000;

const PEER = `
import json, sys, time
sys.path.insert(0, sys.argv[1])
sizes, steps, images, hvp_n = [int(s) for s in sys.argv[2].split(",")], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
try:
    import torch
except Exception as e:
    print(json.dumps({"ok": False, "reason": f"cannot import torch ({e})"})); raise SystemExit
if not torch.cuda.is_available():
    print(json.dumps({"ok": False, "reason": f"torch {torch.__version__} sees no CUDA device"})); raise SystemExit
import torch_models
dev = torch.device("cuda")
def timed(fn, min_s=0.3):
    fn(); torch.cuda.synchronize()
    n, t = 1, 0.0
    while True:
        t0 = time.perf_counter()
        for _ in range(n): fn()
        torch.cuda.synchronize()
        t = time.perf_counter() - t0
        if t >= min_s or n >= 1000: return t / n
        n *= 2
out = {"ok": True, "torch": torch.__version__, "device": torch.cuda.get_device_name(0), "matmul": {}, "epoch": {}}
for n in sizes:
    a, b = torch.rand(n, n, device=dev), torch.rand(n, n, device=dev)
    out["matmul"][n] = 2 * n ** 3 / timed(lambda: a @ b) / 1e9
for name, batch in (("mlp-2", 128), ("lenet5", 64)):
    model = torch_models.build(name, [1, 28, 28], 10).to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch_models.as_input(name, torch.rand(batch, 784, device=dev) * 2 - 1, [1, 28, 28])
    y = torch.randint(0, 10, (batch,), device=dev)
    def step():
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    out["epoch"][name] = timed(step) * 60000 / batch
net = torch_models.build("mlp-2", [1, 28, 28], 10).to(dev)
other = torch_models.build("mlp-2", [1, 28, 28], 10).to(dev)
x, y = torch.randn(images, 784, device=dev), torch.randint(0, 10, (images,), device=dev)
pa, pb = [p.detach() for p in net.parameters()], [p.detach() for p in other.parameters()]
def curve():
    with torch.no_grad():
        for a in [i / 10 for i in range(11)]:
            for p, u, v in zip(net.parameters(), pa, pb): p.copy_((1 - a) * u + a * v)
            for s in range(0, images, ${EVAL_BATCH}): torch.nn.functional.cross_entropy(net(x[s:s + ${EVAL_BATCH}]), y[s:s + ${EVAL_BATCH}])
pa, pb = [p.clone() for p in pa], [p.clone() for p in pb]
out["curve"] = timed(curve, 0.0)
params = list(net.parameters())
v = [torch.randn_like(p) for p in params]
def hvp():
    for s in range(0, hvp_n, ${EVAL_BATCH}):
        loss = torch.nn.functional.cross_entropy(net(x[s:s + ${EVAL_BATCH}]), y[s:s + ${EVAL_BATCH}])
        g = torch.autograd.grad(loss, params, create_graph=True)
        torch.autograd.grad(sum((gi * vi).sum() for gi, vi in zip(g, v)), params)
out["hvp"] = timed(hvp, 0.0)
print(json.dumps(out))
`;

const BENCH_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench');

/** Seconds per N×N product: `reps` products queued, then one 1-element readback waits for them. */
async function matmulSeconds(be: Backend, n: number): Promise<number> {
  const p: MatmulParams = { batch: 1, m: n, n, k: n, transA: false, transB: false };
  const [a, b, c, probe] = [be.alloc(n * n), be.alloc(n * n), be.alloc(n * n), be.alloc(1)];
  try {
    be.fill(a, 0.5);
    be.fill(b, 0.25);
    const run = async (reps: number): Promise<number> => {
      const t0 = performance.now();
      for (let r = 0; r < reps; r++) be.matmul(a, b, c, p);
      be.copy(c, probe, 1);
      const got = (await be.download(probe))[0];
      if (got !== 0.125 * n) throw new Error(`matmul ${n}²: expected ${0.125 * n}, read ${got}`);
      return (performance.now() - t0) / 1000 / reps;
    };
    const first = await run(1); // pipeline compilation, buffer first use
    const reps = Math.max(1, Math.min(64, Math.round(0.3 / Math.max(first, 1e-5))));
    return median([await run(reps), await run(reps), await run(reps)]);
  } finally {
    [a, b, c, probe].forEach((x) => be.free(x));
  }
}

async function curveSeconds(be: Backend, images: number): Promise<{ seconds: number; barrier: number }> {
  const model = createModel('mlp-2', FASHION.input, FASHION.classes, { width: 512 });
  const split = randomSplit(images, 784, 10);
  const alphas = alphaGrid(11);
  const t0 = performance.now();
  const r = await evaluateCombinations(be, model, [model.init(0), model.init(1)], alphas.map((a) => [1 - a, a]), split, {
    batch: EVAL_BATCH,
  });
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, barrier: lossBarrier(alphas, r.points.map((q) => q.loss)).value };
}

async function hvpSeconds(be: Backend, examples: number): Promise<number> {
  const model = createModel('mlp-2', FASHION.input, FASHION.classes, { width: 512 });
  const deriv = new DatasetDerivatives(be, model, model.init(0), randomSplit(examples, 784, 10), { batch: EVAL_BATCH });
  try {
    const v = new Float64Array(model.parameterCount).map((_, i) => Math.sin(i));
    await deriv.hvp(v); // pipelines compiled, buffers in place
    const t0 = performance.now();
    await deriv.hvp(v);
    return (performance.now() - t0) / 1000;
  } finally {
    deriv.dispose();
  }
}

type Row = [string, ...string[]];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      cpu: { type: 'boolean', default: false },
      'no-peer': { type: 'boolean', default: false },
      out: { type: 'string', default: 'bench/results/gpu.json' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const sizes = values.quick ? QUICK : FULL;
  const started = performance.now();
  const gpu = await createWebGpuBackend(await nodeGpu());
  const cpu = values.cpu ? await createCpuBackend({ spawnWorker: spawnKernelWorker }) : null;
  const software = isSoftwareAdapter(gpu.description);
  const machine = machineInfo();
  console.log(
    `GPU bench — adapter: ${gpu.description}${
      software ? ' (SOFTWARE driver: figures say nothing about a GPU)' : ''
    }; ${machine.cpuModel}, node ${machine.node}${values.quick ? '; --quick sizes' : ''}`,
  );
  const failures: string[] = [];
  /** Runs one measurement; a failure is reported and leaves a gap, never stops the bench. */
  const attempt = async <T>(what: string, fn: () => Promise<T>): Promise<T | null> => {
    try {
      return await fn();
    } catch (e) {
      failures.push(`${what}: ${(e as Error).message}`);
      console.error(`  ${what} FAILED: ${(e as Error).message}`);
      return null;
    }
  };
  const backends: [string, Backend][] = [['webgpu', gpu], ...(cpu ? [['cpu 2T', cpu] as [string, Backend]] : [])];

  const peer = values['no-peer']
    ? { ok: false, reason: '--no-peer' } as Record<string, unknown>
    : await attempt('PyTorch CUDA', async () =>
      runPythonJson(
        SYSTEM_PYTHON,
        PEER,
        [BENCH_DIR, sizes.matmul.join(','), String(sizes.epochSteps), String(sizes.curveImages), String(sizes.hvpExamples)],
        peerEnv(),
        240_000,
      ) as Record<string, unknown>) ??
      { ok: false, reason: failures[failures.length - 1] };
  const torch = peer.ok
    ? peer as { device: string; torch: string; matmul: Record<string, number>; epoch: Record<string, number>; curve: number; hvp: number }
    : null;
  const peerCol = torch ? [`torch CUDA (${torch.device})`] : [];

  const results: Record<string, Record<string, number | null>> = {};
  const matmulRows: Row[] = [];
  for (const n of sizes.matmul) {
    const row: Row = [`${n}²`];
    for (const [name, be] of backends) {
      // The CPU backend takes ~1.5 s per 4096² product: its figure stops at 2048².
      const s = name.startsWith('cpu') && n > 2048 ? null : await attempt(`${name} matmul ${n}²`, () => matmulSeconds(be, n));
      const g = s === null ? null : (2 * n ** 3) / s / 1e9;
      (results[`matmul ${n}`] ??= {})[name] = g;
      row.push(fmt(g));
    }
    if (torch) row.push(fmt(torch.matmul[n]));
    matmulRows.push(row);
  }
  console.log(
    `\nmatmul f32 N×N, GFLOP/s (median of 3 queues, one readback each)\n${
      formatTable([
        'N',
        ...backends.map(([n]) => n),
        ...peerCol,
      ], matmulRows)
    }`,
  );

  const otherRows: Row[] = [];
  for (const w of EPOCHS) {
    const row: Row = [`${w.model} epoch s (batch ${w.batch}, ${w.trainExamples / w.batch} steps)`];
    for (const [name, be] of backends) {
      const r = await attempt(`${name} ${w.model} epoch`, () => ourSecondsPerStep(be, { ...w, steps: sizes.epochSteps }));
      const s = r === null ? null : r.secondsPerStep * (w.trainExamples / w.batch);
      (results[`${w.model} epoch`] ??= {})[name] = s;
      row.push(fmt(s, 2));
    }
    if (torch) row.push(fmt(torch.epoch[w.model], 2));
    otherRows.push(row);
  }
  const curveRow: Row = [`11-point barrier curve, mlp-2, ${sizes.curveImages} images, s`];
  const hvpRow: Row = [`dataset HVP, mlp-2, ${sizes.hvpExamples} examples, s`];
  for (const [name, be] of backends) {
    const c = await attempt(`${name} barrier curve`, () => curveSeconds(be, sizes.curveImages));
    (results.curve ??= {})[name] = c?.seconds ?? null;
    curveRow.push(c ? `${fmt(c.seconds, 2)} (barrier ${fmt(c.barrier, 4)})` : '—');
    const h = await attempt(`${name} HVP`, () => hvpSeconds(be, sizes.hvpExamples));
    (results.hvp ??= {})[name] = h;
    hvpRow.push(fmt(h, 3));
  }
  if (torch) {
    curveRow.push(fmt(torch.curve, 2));
    hvpRow.push(fmt(torch.hvp, 3));
  }
  otherRows.push(curveRow, hvpRow);
  console.log(`\n${formatTable(['workload', ...backends.map(([n]) => n), ...peerCol], otherRows)}`);
  console.log(torch ? `peer: PyTorch ${torch.torch} on ${torch.device}` : `peer: PyTorch CUDA not run (${String(peer.reason)})`);
  const seconds = (performance.now() - started) / 1000;
  console.log(`total ${fmt(seconds, 1)} s${failures.length ? `; ${failures.length} section(s) FAILED: ${failures.join('; ')}` : ''}`);
  writeJsonAtomic(values.out, {
    schema: 'ridgeline.bench.gpu/1',
    machine,
    adapter: gpu.description,
    software,
    quick: values.quick,
    sizes,
    results,
    peer: torch ?? { ok: false, reason: peer.reason },
    failures,
    seconds,
  });
  console.log(`wrote ${values.out}`);
  cpu?.close();
  gpu.destroy();
  process.exit(failures.length ? 1 : 0);
}

main().catch((e: unknown) => {
  console.error(`gpu bench failed: ${(e as Error).message}`);
  process.exit(1);
});
