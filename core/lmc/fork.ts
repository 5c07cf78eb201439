/**
 * The fork experiment of SPEC §2: a parent (or main run) trained with order seed s0,
 * children forked from its checkpoints — weights, optimizer state and step — trained with
 * their own order seeds, and the linear path between the two networks of every (k1, k2)
 * cell measured on train and test.
 *
 * Everything goes through checkpoints in the run directory, so a killed run started again
 * resumes from the last checkpoint of each training line and never recomputes a finished
 * cell. A child always starts from the parent's checkpoint file (never from memory), so
 * the resumed and the uninterrupted run take literally the same path.
 *
 * Repeats: repeat r runs the whole procedure again — its own initial weights, parent (main
 * run) order, child orders and augmentation — with the seeds of experiments/repeat_seeds.ts
 * (repeat 0: the spec's seeds; children s0 + 1 and s0 + 2, or s0 + 1 in main-branch mode).
 * Repeat 0's lines keep their plain names (`parent`, `k1-K/child-c`); repeat r's live under
 * `r-R/`.
 */
import type { Backend } from '../backend.ts';
import type { Dataset } from '../data/dataset.ts';
import { type RepeatSeeds, repeatSeeds } from '../experiments/repeat_seeds.ts';
import { trainingLoader } from '../experiments/train_loader.ts';
import type { ForkSpec } from '../experiments/fork_spec.ts';
import { forkCells } from '../experiments/fork_spec.ts';
import type { ForkCell } from '../experiments/result_schema.ts';
import type { RunStore } from '../experiments/run_store.ts';
import type { Model } from '../nn/model.ts';
import type { Progress } from '../progress.ts';
import { loadCheckpoint, loadWeights, saveCheckpoint, WEIGHTS_SUFFIX } from '../train/checkpoint.ts';
import type { TrainConfig } from '../train/config.ts';
import { type TrainState, disposeState, stateFromWeights } from '../train/state.ts';
import { trainSteps } from '../train/trainer.ts';
import { alphaGrid } from './barrier.ts';
import { layerDistances, weightDistance } from './distances.ts';
import { pairMetrics } from './metrics.ts';
import { evaluatePath } from './path_eval.ts';

export interface ForkContext {
  backend: Backend;
  model: Model;
  dataset: Dataset;
  spec: ForkSpec;
  train: TrainConfig;
  store: RunStore;
  /** The parent's initial weights for an init seed (or those of --from, whatever the seed). */
  initWeights: (seedInit: number) => Promise<Float32Array[]>;
  progress: Progress;
}

export interface ForkOutcome {
  cells: ForkCell[];
  parentLoss: { step: number; loss: number }[];
  stepsPerEpoch: number;
  /** Every repeat's seeds, in repeat order. */
  repeats: RepeatSeeds[];
}

/** Converts a k value in the spec's unit to global steps. */
export function toSteps(spec: ForkSpec, stepsPerEpoch: number, value: number): number {
  return spec.unit === 'steps' ? value : Math.round(value * stepsPerEpoch);
}

const ckptName = (line: string, step: number) => `${line}-step-${step}`;



export async function runFork(ctx: ForkContext): Promise<ForkOutcome> {
  const { spec, store } = ctx;
  const stepsPerEpoch = trainingLoader(ctx.dataset, spec, spec.seedOrder).stepsPerEpoch;
  const repeats = Array.from({ length: spec.repeats }, (_, r) => repeatSeeds(spec, r));
  const cells: ForkCell[] = [];
  let parentLoss: { step: number; loss: number }[] = [];
  for (const seeds of repeats) {
    const outcome = await runRepeat(ctx, seeds, stepsPerEpoch);
    cells.push(...outcome.cells);
    if (seeds.repeat === 0) parentLoss = outcome.parentLoss;
  }
  return { cells, parentLoss, stepsPerEpoch, repeats };
}

/** One repeat of the procedure: its parent (main run), its children, its cells. */
async function runRepeat(ctx: ForkContext, seeds: RepeatSeeds, stepsPerEpoch: number): Promise<{ cells: ForkCell[]; parentLoss: { step: number; loss: number }[] }> {
  const { spec, store, dataset } = ctx;
  const r = seeds.repeat;
  const prefix = r === 0 ? '' : `r-${r}/`;
  const loader = (orderSeed: number) => trainingLoader(dataset, { ...spec, seedAugment: seeds.augment }, orderSeed);
  const steps = (v: number) => toSteps(spec, stepsPerEpoch, v);
  const cells = forkCells(spec);
  const k1s = [...new Set(cells.map((c) => c.k1))];
  const childSeeds = seeds.children;
  const parentLine = `${prefix}parent`;
  const parentLossFile = store.path('logs', `${prefix}parent-loss.json`);
  const parentLoss = await store.readLossLog(parentLossFile, (m) => ctx.progress.log(m));

  /**
   * Makes sure line `line` has a checkpoint at every step of `needed`, training from the
   * latest checkpoint before the first missing one (or from `start`) with `orderSeed`.
   */
  const runLine = async (
    line: string, orderSeed: number, start: () => Promise<TrainState>, needed: number[],
    onLoss?: (s: number, l: Float32Array) => void, onCheckpoint?: () => Promise<void>,
  ) => {
    const want = [...new Set(needed)].sort((a, b) => a - b);
    const have = await Promise.all(want.map((s) => store.hasCheckpoint(ckptName(line, s), line, s)));
    store.drainDamaged((m) => ctx.progress.log(m));
    const firstMissing = have.indexOf(false);
    if (firstMissing < 0) return;
    const resumeAt = have.lastIndexOf(true, firstMissing - 1);
    const state = resumeAt >= 0 && firstMissing > 0
      ? await loadCheckpoint(store.files, store.checkpointBase(ckptName(line, want[resumeAt])), ctx.backend, ctx.model, ctx.train)
      : await start();
    const source = loader(orderSeed);
    try {
      const last = want[want.length - 1];
      ctx.progress.start(`${line} (order seed ${orderSeed})`, last);
      for (const target of want.slice(firstMissing)) {
        await trainSteps(ctx.backend, ctx.model, state, source, target, ctx.train, {
          onSync: (first, losses) => {
            onLoss?.(first, losses);
            ctx.progress.update(first + losses.length, `loss ${losses[losses.length - 1].toFixed(4)}`);
          },
        });
        // A valid checkpoint (verified above) is never rewritten; a missing or damaged one is.
        if (!have[want.indexOf(target)]) {
          await saveCheckpoint(store.files, store.checkpointBase(ckptName(line, target)), ctx.model, state, { ...store.checkpointMeta(line, target), orderSeed: String(orderSeed) });
        }
        await onCheckpoint?.();
      }
      ctx.progress.finish();
    } finally {
      disposeState(state);
    }
  };

  // The parent (main run): checkpoints at every k1, and in main-branch mode at k1 + k2 too.
  const parentNeeded = cells.flatMap((c) => (spec.mode === 'main-branch' ? [steps(c.k1), steps(c.k1) + steps(c.k2)] : [steps(c.k1)]));
  await runLine(parentLine, seeds.order, async () => stateFromWeights(ctx.backend, ctx.model, await ctx.initWeights(seeds.init), ctx.train, 0), parentNeeded, (first, losses) => {
    // Every 10th step's loss, for the report; saved with each checkpoint so a resume keeps it.
    losses.forEach((l, i) => {
      if ((first + i) % 10 === 0 && !parentLoss.some((p) => p.step === first + i)) parentLoss.push({ step: first + i, loss: l });
    });
  }, () => store.files.write(parentLossFile, JSON.stringify(parentLoss)));

  const results: ForkCell[] = [];
  const alphas = alphaGrid(spec.alphas);
  for (const k1 of k1s) {
    const k1Steps = steps(k1);
    const here = cells.filter((c) => c.k1 === k1);
    const fork = async () => loadCheckpoint(store.files, store.checkpointBase(ckptName(parentLine, k1Steps)), ctx.backend, ctx.model, ctx.train);
    const childLine = (c: number) => `${prefix}k1-${k1Steps}/child-${c}`;
    const pairsOf = (k2: number) => {
      const at = k1Steps + steps(k2);
      return spec.mode === 'pairs'
        ? { a: [childLine(0), at, `child (order seed ${childSeeds[0]})`], b: [childLine(1), at, `child (order seed ${childSeeds[1]})`] }
        : { a: [parentLine, at, `main run (order seed ${seeds.order})`], b: [childLine(0), at, `child (order seed ${childSeeds[0]})`] };
    };
    const cellName = (k2: number) => `k1-${k1}_k2-${k2}_r-${r}`;
    const needsChildren = await Promise.all(here.map(async (cell) => (await store.readCell(cellName(cell.k2))) === null));
    store.drainDamaged((m) => ctx.progress.log(m));
    for (let c = 0; c < childSeeds.length && needsChildren.some(Boolean); c++) {
      await runLine(childLine(c), childSeeds[c], fork, here.map((cell) => k1Steps + steps(cell.k2)));
    }
    for (const cell of here) {
      const pair = pairsOf(cell.k2);
      const name = cellName(cell.k2);
      const done = await store.readCell<ForkCell>(name);
      if (done) {
        results.push(done);
        continue;
      }
      const [lineA, stepA, labelA] = pair.a as [string, number, string];
      const [lineB, stepB, labelB] = pair.b as [string, number, string];
      const fileA = store.checkpointBase(ckptName(lineA, stepA)) + WEIGHTS_SUFFIX;
      const fileB = store.checkpointBase(ckptName(lineB, stepB)) + WEIGHTS_SUFFIX;
      const wA = await loadWeights(store.files, fileA, ctx.model);
      const wB = await loadWeights(store.files, fileB, ctx.model);
      ctx.progress.log(`evaluating k1 = ${k1}, k2 = ${cell.k2}${spec.repeats > 1 ? `, repeat ${r}` : ''} (${alphas.length} α points, train and test)`);
      const resetBn = spec.resetBn ? { split: dataset.train, batch: spec.batch } : undefined;
      const train = await evaluatePath(ctx.backend, ctx.model, wA, wB, alphas, dataset.train, spec.evalBatch, resetBn);
      const test = await evaluatePath(ctx.backend, ctx.model, wA, wB, alphas, dataset.test, spec.evalBatch, resetBn);
      const metrics = pairMetrics(train, test);
      const result: ForkCell = {
        k1,
        k2: cell.k2,
        repeat: r,
        seeds: { init: seeds.init, order: seeds.order, children: childSeeds, augment: seeds.augment },
        a: labelA,
        b: labelB,
        checkpointA: fileA.slice(store.dir.length + 1),
        checkpointB: fileB.slice(store.dir.length + 1),
        ...metrics,
        weightDistance: weightDistance(wA, wB),
        weightDistanceByLayer: layerDistances(ctx.model, wA, wB),
        connected: metrics.test.errorBarrier < spec.threshold,
      };
      await store.writeCell(name, result);
      results.push(result);
    }
  }
  return { cells: results, parentLoss: [...parentLoss].sort((a, b) => a.step - b.step) };
}
