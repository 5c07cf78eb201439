/**
 * The run directory never uses a damaged file and never loses a valid result (issue 17):
 *  - the reported cases: a cell object's record replaced by `{}`, truncated or edited, a
 *    checkpoint with the lowest bit of every float flipped, another step's copied over one, a
 *    spec mismatch naming the differing options, a refused start leaving nothing behind;
 *  - a fuzz test: a finished run's files truncated, bit-flipped or swapped at random
 *    between restarts; every restart either reproduces the clean result exactly or stops
 *    with one clear RidgelineError, and a result.json that was valid is never damaged.
 * In process (one backend, no process start per case), on a tiny real training run.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { createCpuBackend } from '../core/cpu/cpu_backend.ts';
import { RidgelineError } from '../core/errors.ts';
import { FORK_DEFAULTS, type ForkSpec } from '../core/experiments/fork_spec.ts';
import { runForkExperiment } from '../core/sweep/fork_runner.ts';
import type { ForkResult } from '../core/experiments/result_schema.ts';
import { decodeSafetensors, encodeSafetensors } from '../core/io/safetensors.ts';
import { type Progress, silentProgress } from '../core/progress.ts';
import { rngStream } from '../core/rng.ts';
import { nodeFileStore } from '../runtimes/node_files.ts';

const backend = await createCpuBackend();
const SPEC: ForkSpec = {
  ...FORK_DEFAULTS,
  data: 'synthetic:gauss:n=300,dim=8,classes=3',
  model: 'mlp-2',
  width: 8,
  batch: 30,
  unit: 'steps',
  k1: [0, 5],
  total: 15,
  alphas: 3,
  lr: 0.05,
};

function recordingHost(lines: string[]) {
  const progress: Progress = { ...silentProgress, log: (l) => lines.push(l) };
  return { files: nodeFileStore(), progress, runtime: 'test', version: '0', gitCommit: null };
}

async function run(dir: string, spec: ForkSpec = SPEC): Promise<{ result: ForkResult | null; error: unknown; log: string[] }> {
  const log: string[] = [];
  try {
    return { result: await runForkExperiment(spec, dir, backend, recordingHost(log)), error: null, log };
  } catch (error) {
    return { result: null, error, log };
  }
}

const tmp = () => mkdtempSync(join(tmpdir(), 'ridgeline-integrity-'));
const cleanDir = tmp();
const clean = (await run(cleanDir)).result!;
const cellsOf = (r: ForkResult) => JSON.stringify({ cells: r.cells, summary: r.summary });

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true }).map(String).filter((f) => statSync(join(dir, f)).isFile());
}

/** A copy of the clean run with finished outputs, so a restart has everything to reuse. */
function copyOfClean(): string {
  const dir = tmp();
  cpSync(cleanDir, dir, { recursive: true });
  return dir;
}

/** The store's objects in run `dir`: id, directory, and the record (parsed before any damage). */
function objectsOf(dir: string): { id: string; path: string; kind: string; payload: Record<string, unknown> }[] {
  const root = join(dir, 'store', 'objects');
  return readdirSync(root).flatMap((ab) =>
    readdirSync(join(root, ab)).map((id) => {
      const record = JSON.parse(readFileSync(join(root, ab, id, 'node.json'), 'utf8')).payload;
      return { id, path: join(root, ab, id), kind: record.kind as string, payload: record.payload as Record<string, unknown> };
    })
  );
}

const objectOf = (dir: string, kind: string, test: (p: Record<string, unknown>) => boolean) =>
  objectsOf(dir).filter((o) => o.kind === kind && test(o.payload));

test('a cell object replaced by {}, truncated or edited is reported and recomputed; the result equals the clean one', async () => {
  for (
    const damage of [
      (_t: string) => '{}',
      (t: string) => t.slice(0, t.length >> 1),
      (t: string) => t.replace(/"errorBarrier": ([0-9.e-]+)/, '"errorBarrier": 0.5'),
    ]
  ) {
    const dir = copyOfClean();
    const [cell] = objectOf(dir, 'cell', (p) => p.k1 === 5);
    const record = join(cell.path, 'node.json');
    const before = readFileSync(record, 'utf8');
    writeFileSync(record, damage(before));
    assert.notEqual(readFileSync(record, 'utf8'), before, 'the damage changed the file');
    const r = await run(dir);
    assert.equal(r.error, null, String(r.error));
    assert.ok(r.log.some((l) => l.includes(`object ${cell.id} is damaged`) && l.includes('computed again')), r.log.join('\n'));
    assert.equal(cellsOf(r.result!), cellsOf(clean));
    const payloadOf = (text: string) => JSON.stringify(JSON.parse(text).payload.payload);
    assert.equal(payloadOf(readFileSync(record, 'utf8')), payloadOf(before), 'recomputed to the same cell');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('checkpoints: flipped low bits, or another step copied over one, are detected and recomputed, never used', async () => {
  // The parent's checkpoint at the fork point (step 5) and at step 0.
  const parentAt = (dir: string, step: number) =>
    objectOf(dir, 'checkpoint', (p) => p.step === step && (p.lossLog as unknown[]).length > 0 === (step > 0))[0];
  // (a) the lowest bit of every float of the fork point's weights.
  const flipped = copyOfClean();
  const fork = parentAt(flipped, 5);
  const weights = join(fork.path, 'checkpoint.safetensors');
  const decoded = decodeSafetensors(readFileSync(weights));
  const tensors = decoded.order.map((name) => {
    const t = decoded.tensors.get(name)!;
    const bits = new Uint32Array(Float32Array.from(t.data).buffer);
    for (let i = 0; i < bits.length; i++) bits[i] ^= 1;
    return { name, shape: t.shape, data: new Float32Array(bits.buffer) };
  });
  // Re-encoded with its old metadata: a well-formed file whose checksums no longer match.
  writeFileSync(weights, encodeSafetensors(tensors, decoded.metadata));
  const a = await run(flipped);
  assert.equal(a.error, null, String(a.error));
  assert.ok(a.log.some((l) => l.includes(`object ${fork.id} is damaged (checkpoint.safetensors hashes to`)), a.log.join('\n'));
  assert.equal(cellsOf(a.result!), cellsOf(clean));
  assert.deepEqual(
    readFileSync(weights),
    readFileSync(join(parentAt(cleanDir, 5).path, 'checkpoint.safetensors')),
    'recomputed bit for bit',
  );
  // (b) step 0 copied over step 5 (intact files, but not the ones the record lists).
  const swapped = copyOfClean();
  const [zero, five] = [parentAt(swapped, 0), parentAt(swapped, 5)];
  for (const name of ['checkpoint.safetensors', 'checkpoint.optim.safetensors']) cpSync(join(zero.path, name), join(five.path, name));
  const b = await run(swapped);
  assert.equal(b.error, null, String(b.error));
  assert.ok(b.log.some((l) => l.includes(`object ${five.id} is damaged`)), b.log.join('\n'));
  assert.equal(cellsOf(b.result!), cellsOf(clean));
});

test('a different spec is refused naming each differing option; a refused start leaves the directory usable', async () => {
  const dir = copyOfClean();
  const r = await run(dir, { ...SPEC, lr: 0.2, batch: 20 });
  assert.ok(r.error instanceof RidgelineError && r.error.code === 'E_SPEC');
  assert.match((r.error as Error).message, /--batch 30 → 20; --lr 0\.05 → 0\.2/);
  // A start refused for its batch size (larger than the training split) writes nothing.
  const fresh = join(tmp(), 'run');
  const refused = await run(fresh, { ...SPEC, batch: 100_000 });
  assert.ok(refused.error instanceof RidgelineError, String(refused.error));
  assert.equal(existsSync(fresh), false, 'nothing written by a refused start');
  const ok = await run(fresh);
  assert.equal(ok.error, null, String(ok.error));
  assert.equal(cellsOf(ok.result!), cellsOf(clean));
  // A truncated spec.json is reported as damaged (not as a different spec) and the run resumes.
  writeFileSync(join(fresh, 'spec.json'), readFileSync(join(fresh, 'spec.json'), 'utf8').slice(0, 40));
  const resumed = await run(fresh);
  assert.equal(resumed.error, null, String(resumed.error));
  assert.ok(resumed.log.some((l) => l.includes('spec.json is damaged')), resumed.log.join('\n'));
  assert.equal(cellsOf(resumed.result!), cellsOf(clean));
});

test('result files are published together: a write failing on the report leaves no new result.json', async () => {
  const dir = join(tmp(), 'run');
  const log: string[] = [];
  const files = nodeFileStore();
  const failing = {
    ...files,
    write: async (path: string, data: string | Uint8Array) => {
      if (path.endsWith('report.html')) throw new RidgelineError('E_IO', `${path}: no space left on the device (ENOSPC)`);
      return files.write(path, data);
    },
  };
  const host = { ...recordingHost(log), files: failing as typeof files };
  await assert.rejects(runForkExperiment(SPEC, dir, backend, host), /E_IO/);
  assert.equal(existsSync(join(dir, 'result.json')), false, 'no result.json without its report');
  // The next start (disk freed) publishes all of them, equal to the clean run.
  const again = await run(dir);
  assert.equal(again.error, null, String(again.error));
  assert.equal(cellsOf(again.result!), cellsOf(clean));
  for (const f of ['result.json', 'cells.csv', 'curves.csv', 'summary.csv', 'report.html']) assert.ok(existsSync(join(dir, f)), f);
});

test('fuzz: 200 restarts after random truncations, bit flips and swaps either reproduce the clean result or stop clearly; a valid result is never damaged', async (t) => {
  const rng = rngStream(17, 'run-integrity-fuzz');
  const pick = <T>(xs: readonly T[]) => xs[rng.intBelow(xs.length)];
  let reproduced = 0;
  let stopped = 0;
  const dir = tmp();
  for (let k = 0; k < 200; k++) {
    rmSync(dir, { recursive: true, force: true });
    cpSync(cleanDir, dir, { recursive: true });
    const files = filesUnder(dir).filter((f) => !/^(result\.json|cells\.csv|curves\.csv|summary\.csv|report\.html)$/.test(f));
    const cellObjects = objectsOf(dir).filter((o) => o.kind === 'cell').map((o) => o.path);
    // One to three damages per restart; outputs that depend on a damaged file are removed
    // half of the time so that the file is really needed again.
    const what: string[] = [];
    for (let d = 1 + rng.intBelow(3); d > 0; d--) {
      const file = join(dir, pick(files));
      const bytes = readFileSync(file);
      const kind = rng.intBelow(3);
      if (kind === 0) {
        writeFileSync(file, bytes.subarray(0, rng.intBelow(Math.max(1, bytes.length))));
      } else if (kind === 1 && bytes.length > 0) {
        const i = rng.intBelow(bytes.length);
        bytes[i] ^= 1 << rng.intBelow(8);
        writeFileSync(file, bytes);
      } else {
        const ext = file.endsWith('.optim.safetensors') ? '.optim.safetensors' : file.slice(file.lastIndexOf('.'));
        const others = files.filter((f) => f.endsWith(ext) && join(dir, f) !== file);
        if (others.length > 0) writeFileSync(file, readFileSync(join(dir, pick(others))));
      }
      what.push(`${['truncate', 'flip', 'swap'][kind]} ${relative(dir, file)}`);
    }
    if (rng.intBelow(2) === 0) { for (const cell of cellObjects) rmSync(cell, { recursive: true, force: true }); }
    const before = readFileSync(join(dir, 'result.json'), 'utf8');
    const r = await run(dir);
    if (r.error === null) {
      assert.equal(cellsOf(r.result!), cellsOf(clean), `case ${k} (${what.join(', ')}): the restart's result differs from the clean run`);
      reproduced++;
    } else {
      assert.ok(r.error instanceof RidgelineError, `case ${k} (${what.join(', ')}): raw ${String((r.error as Error).stack ?? r.error)}`);
      assert.ok(!r.error.message.includes('\n'), `case ${k}: the error is one line`);
      assert.equal(readFileSync(join(dir, 'result.json'), 'utf8'), before, `case ${k}: a stopped restart rewrote result.json`);
      stopped++;
    }
  }
  rmSync(dir, { recursive: true, force: true });
  t.diagnostic(`${reproduced} restarts reproduced the clean result, ${stopped} stopped with a clear error`);
  // Most damage is recoverable (checkpoints and cells are recomputed); a changed spec.json stops.
  assert.ok(reproduced >= 150, `only ${reproduced} of 200 restarts reproduced the clean result (${stopped} stopped)`);
});
