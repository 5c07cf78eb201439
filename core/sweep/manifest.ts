/**
 * A sweep's manifest: its points (grid values and resolved fork specs), their cells, and
 * the graph's nodes in dependency order. It is stored sealed under `sweeps/<id>.json`, and
 * its id is the hash of what determines its results (points and backend, not its name), so
 * planning the same sweep twice gives the same manifest and the same nodes.
 */
import { checkAlignable } from '../align/match.ts';
import { RidgelineError } from '../errors.ts';
import type { ForkSpec } from '../experiments/fork_spec.ts';
import { fnv1a64Hex } from '../hash.ts';
import type { FileStore } from '../io.ts';
import type { ObjectStore } from '../store/object_store.ts';
import { seal, unseal } from '../store/sealed.ts';
import {
  chainLines,
  GRAPH_SCHEMA,
  type GraphNode,
  nodeId,
  NUMERICS_VERSION,
  type PlanFacts,
  planPoint,
  type PointPlan,
  topological,
} from './graph.ts';
import { Resources } from './node_exec.ts';
import type { GridValue } from './sweep_result.ts';
import type { SweepPoint, SweepSpec } from './sweep_spec.ts';

export interface ManifestPoint {
  point: Record<string, GridValue>;
  spec: ForkSpec;
  task: 'classification' | 'regression';
  plan: PointPlan;
}

export interface SweepManifest {
  sweepId: string;
  name: string;
  backend: string;
  spec: SweepSpec;
  gridKeys: string[];
  points: ManifestPoint[];
  /** Every node, each after its inputs. */
  nodes: GraphNode[];
}

/** Loads what planning needs (dataset sizes, model tasks, --from checksums) for the points. */
export async function planFacts(
  resources: Resources,
  points: SweepPoint[],
  backend: string,
): Promise<{ facts: PlanFacts; task: (s: ForkSpec) => 'classification' | 'regression' }> {
  const files = resources.files;
  const sizes = new Map<ForkSpec, { train: number; test: number; task: 'classification' | 'regression' }>();
  const checksums = new Map<string, string>();
  for (const { spec } of points) {
    const data = { data: spec.data, limit: spec.limit, normalize: spec.normalize };
    const ds = await resources.dataset(data);
    const model = await resources.model({ model: spec.model, width: spec.width, slope: spec.slope }, data);
    checkAlignable(model, spec);
    if (spec.batch > ds.train.n) {
      throw new RidgelineError('E_SPEC', `--batch ${spec.batch} is larger than the ${ds.train.n} training examples of ${spec.data}`);
    }
    sizes.set(spec, { train: ds.train.n, test: ds.test.n, task: model.task });
    if (spec.from && !checksums.has(spec.from)) checksums.set(spec.from, fnv1a64Hex(await files.read(spec.from)));
  }
  return {
    facts: {
      backend,
      trainExamples: (s) => sizes.get(s)!.train,
      testExamples: (s) => sizes.get(s)!.test,
      fileChecksum: (p) => checksums.get(p)!,
    },
    task: (s) => sizes.get(s)!.task,
  };
}

/** Plans the sweep; `resources` (datasets, models) may be the ones its in-process worker then uses. */
export async function planSweep(
  spec: SweepSpec,
  gridKeys: string[],
  points: SweepPoint[],
  files: FileStore,
  backend: string,
  resources = new Resources(files),
): Promise<SweepManifest> {
  const { facts, task } = await planFacts(resources, points, backend);
  const nodes = new Map<string, GraphNode>();
  const planned: ManifestPoint[] = [];
  for (const p of points) {
    const tag = points.length > 1 ? `${Object.entries(p.point).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')}: ` : '';
    planned.push({ ...p, task: task(p.spec), plan: await planPoint(p.spec, facts, nodes, tag) });
  }
  chainLines(nodes);
  const sweepId = await nodeId({
    kind: 'sweep',
    schema: GRAPH_SCHEMA,
    numerics: NUMERICS_VERSION,
    backend,
    points: points.map((p) => ({ point: p.point, spec: p.spec })),
  });
  return { sweepId, name: spec.name ?? sweepId.slice(0, 12), backend, spec, gridKeys, points: planned, nodes: topological(nodes) };
}

function manifestFile(store: ObjectStore, sweepId: string): string {
  return store.path('sweeps', `${sweepId}.json`);
}

/** Writes the manifest unless an identical valid one is there (two planners race harmlessly). */
export async function writeManifest(store: ObjectStore, m: SweepManifest): Promise<void> {
  const file = manifestFile(store, m.sweepId);
  if (await store.files.exists(file)) {
    const opened = unseal<SweepManifest>(await store.files.readText(file), { sweep: m.sweepId });
    if ('payload' in opened) return;
    store.damaged.push(`sweeps/${m.sweepId}.json is damaged (${opened.problem}): rewritten from the spec`);
  }
  await store.files.write(file, seal({ sweep: m.sweepId }, m));
}

/** The manifest of a sweep by id (or a unique prefix of it), verified. */
export async function readManifest(store: ObjectStore, idOrPrefix: string): Promise<SweepManifest> {
  const ids = (await listSweeps(store)).filter((id) => id.startsWith(idOrPrefix));
  if (ids.length === 0) {
    throw new RidgelineError(
      'E_SPEC',
      `--sweep ${idOrPrefix}: no such sweep in ${store.root} (known: ${
        (await listSweeps(store)).map((i) => i.slice(0, 12)).join(', ') || 'none'
      })`,
    );
  }
  if (ids.length > 1) {
    throw new RidgelineError(
      'E_SPEC',
      `--sweep ${idOrPrefix}: ambiguous, matches ${ids.map((i) => i.slice(0, 12)).join(', ')}`,
    );
  }
  const file = manifestFile(store, ids[0]);
  const opened = unseal<SweepManifest>(await store.files.readText(file), { sweep: ids[0] });
  if ('problem' in opened) {
    throw new RidgelineError(
      'E_DAMAGED',
      `${file} is damaged (${opened.problem}); run 'ridgeline sweep run' with the sweep's spec again to rewrite it`,
    );
  }
  return opened.payload;
}

/** Drops a sweep's manifest, so that `sweep gc` may remove the nodes no other sweep needs. */
export async function forgetSweep(store: ObjectStore, sweepId: string): Promise<void> {
  await store.files.remove(manifestFile(store, sweepId));
}

export async function listSweeps(store: ObjectStore): Promise<string[]> {
  return (await store.files.list(store.path('sweeps'))).filter((n) => /^[0-9a-f]{32}\.json$/.test(n)).map((n) => n.slice(0, -5));
}
