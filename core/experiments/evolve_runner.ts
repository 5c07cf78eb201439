/**
 * Sibling geometry over child training (Singh et al. Fig. 1–2, docs/metrics.md#distances-and-geometry), from a fork run
 * whose k2 list records several child checkpoints per fork point: for every (k1, k2) the
 * angle between the siblings seen from the origin and from the fork point, and how much
 * of the final solution plane is already determined, cos(θ1ᵗ − θ2ᵗ, θ1* − θ2*), where *
 * is the largest k2 of that k1. The barrier curves at each checkpoint are the run's own.
 */
import { RidgelineError } from '../errors.ts';
import { type FileStore, joinPath } from '../io.ts';
import { flatten, planeCosine, siblingAngle } from '../lmc/geometry.ts';
import type { Model } from '../nn/model.ts';
import { loadWeights, WEIGHTS_SUFFIX } from '../train/checkpoint.ts';
import { inRun } from './pair_source.ts';
import type { ForkCell, ForkResult } from './result_schema.ts';

export interface EvolvePoint {
  k1: number;
  k2: number;
  angleFromOrigin: number;
  angleFromFork: number;
  planeCosine: number;
  trainLossBarrier: number;
  trainErrorBarrier: number;
  testErrorBarrier: number;
}

/** The parent checkpoint a child of this cell was forked from (pairs mode). */
export function forkCheckpoint(dir: string, cell: ForkCell): string {
  if (cell.checkpointFork) return inRun(dir, cell.checkpointFork);
  const m = /k1-(\d+)\/child-/.exec(cell.checkpointB);
  if (!m) {
    throw new RidgelineError('E_SPEC', `evolve: cell k1 = ${cell.k1} has no child checkpoint to find its fork point (${cell.checkpointB})`);
  }
  return joinPath(dir, 'checkpoints', `parent-step-${m[1]}${WEIGHTS_SUFFIX}`);
}

export async function evolveRun(files: FileStore, dir: string, result: ForkResult, model: Model): Promise<EvolvePoint[]> {
  const cells = result.cells.filter((c) => c.repeat === 0);
  const out: EvolvePoint[] = [];
  for (const k1 of [...new Set(cells.map((c) => c.k1))]) {
    const row = cells.filter((c) => c.k1 === k1).sort((a, b) => a.k2 - b.k2);
    const load = async (file: string) => flatten(await loadWeights(files, file, model));
    const fork = await load(forkCheckpoint(dir, row[0]));
    const last = row[row.length - 1];
    const [final1, final2] = [await load(inRun(dir, last.checkpointA)), await load(inRun(dir, last.checkpointB))];
    for (const c of row) {
      const [t1, t2] = c === last ? [final1, final2] : [await load(inRun(dir, c.checkpointA)), await load(inRun(dir, c.checkpointB))];
      out.push({
        k1,
        k2: c.k2,
        angleFromOrigin: siblingAngle(t1, t2),
        angleFromFork: siblingAngle(t1, t2, fork),
        planeCosine: planeCosine(t1, t2, final1, final2),
        trainLossBarrier: c.train.lossBarrier,
        trainErrorBarrier: c.train.errorBarrier,
        testErrorBarrier: c.test.errorBarrier,
      });
    }
  }
  return out;
}
