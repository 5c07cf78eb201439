/** `ridgeline align`: B's hidden units permuted into A's basis (git re-basin), with the barrier before and after. */
import { ALIGN_METHODS, type AlignMethod, checkAlignable, matchNetworks } from '../../core/align/match.ts';
import { permuteState } from '../../core/align/permute.ts';
import { loadDataset } from '../../core/data/registry.ts';
import { RidgelineError } from '../../core/errors.ts';
import { applyOptions, FORK_DEFAULTS } from '../../core/experiments/fork_spec.ts';
import { alphaGrid } from '../../core/lmc/barrier.ts';
import { weightDistance } from '../../core/lmc/distances.ts';
import { pairMetrics } from '../../core/lmc/metrics.ts';
import { evaluatePath } from '../../core/lmc/path_eval.ts';
import { createModel } from '../../core/nn/registry.ts';
import { selectBackend } from '../../core/select_backend.ts';
import { loadWeights, saveWeights } from '../../core/train/checkpoint.ts';
import { BACKEND_OPTION, backendOptions, type Command, MATH_OPTION, optionOr, requireOption } from '../command.ts';
import { MODEL_OPTIONS, REPAIR_HELP } from './spec_options.ts';

const METHODS = ALIGN_METHODS;

export const alignCommand: Command = {
  summary: "permute B's hidden units into A's basis (weight or activation matching) and measure the barrier before and after",
  options: [
    ...MODEL_OPTIONS,
    { name: 'a', value: 'FILE', help: 'the reference network' },
    { name: 'b', value: 'FILE', help: 'the network to align to A' },
    {
      name: 'method',
      value: METHODS.join('|'),
      help: 'weight matching (Ainsworth et al. Alg. 1) or activation matching (correlations on --data)',
      default: 'weight',
    },
    { name: 'examples', value: 'N', help: 'activation matching: training examples whose activations are correlated', default: '2000' },
    { name: 'seed', value: 'S', help: 'weight matching: seed of the order in which permutations are visited', default: '0' },
    { name: 'alphas', value: 'T', help: 'points on the path', default: String(FORK_DEFAULTS.alphas) },
    { name: 'repair', value: '', help: `also ${REPAIR_HELP}` },
    { name: 'out', value: 'FILE', help: 'write the aligned B here (safetensors, PyTorch names)' },
    { name: 'json', value: '', help: 'print the result as JSON on stdout' },
    BACKEND_OPTION,
    MATH_OPTION,
  ],
  async run(opts, host) {
    const fileA = requireOption('align', opts, 'a', 'FILE');
    const fileB = requireOption('align', opts, 'b', 'FILE');
    const method = optionOr(alignCommand, opts, 'method');
    if (!(METHODS as readonly string[]).includes(method)) {
      throw new RidgelineError('E_SPEC', `--method: unknown value '${method}'; valid: ${METHODS.join(', ')}`);
    }
    // The barrier could default to MNIST; the activations must come from the networks' own data.
    if (method === 'activation' && opts.data === undefined) {
      throw new RidgelineError('E_SPEC', '--method activation needs --data D: the training examples whose activations are correlated');
    }
    const { a: _a, b: _b, method: _m, examples: ex, seed: s, out, json, backend: choice, math: _math, ...rest } = opts;
    // The method is this command's --align: REPAIR (--repair) follows the alignment.
    const spec = applyOptions({ ...FORK_DEFAULTS, k1: [0], total: 1 }, { ...rest, align: method });
    const repair = spec.repair;
    const seed = Number(optionOr(alignCommand, opts, 'seed'));
    const examples = Number(optionOr(alignCommand, opts, 'examples'));
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RidgelineError('E_SPEC', `--seed must be an integer ≥ 0, got '${s}'`);
    if (!Number.isSafeInteger(examples) || examples < 2) {
      throw new RidgelineError('E_SPEC', `--examples must be an integer ≥ 2, got '${ex}'`);
    }
    const { backend, reason } = await selectBackend(choice ?? 'auto', backendOptions(host, opts));
    if (!json) host.progress.log(reason);
    const dataset = await loadDataset(spec.data, host.files, { limit: spec.limit ?? undefined, normalize: spec.normalize });
    const model = createModel(spec.model, dataset.inputShape, dataset.classes, { width: spec.width, slope: spec.slope });
    checkAlignable(model, spec); // a model that cannot be aligned (or repaired) stops here, before any work
    const wA = await loadWeights(host.files, fileA, model);
    const wB = await loadWeights(host.files, fileB, model);
    const t0 = performance.now();
    const match = await matchNetworks(backend, model, wA, wB, method as AlignMethod, dataset.train, { seed, examples });
    const seconds = (performance.now() - t0) / 1000;
    const aligned = permuteState(model, wB, match.perms);
    if (out) {
      await saveWeights(host.files, out, model, aligned, {
        alignedTo: fileA,
        alignedFrom: fileB,
        method,
        seed: String(seed),
        objective: String(match.objective),
      });
    }
    const alphas = alphaGrid(spec.alphas);
    const measure = async (b: Float32Array[], repairOn = false) => {
      const fix = repairOn ? { split: dataset.train } : undefined;
      return {
        ...pairMetrics(
          await evaluatePath(backend, model, wA, b, alphas, dataset.train, spec.evalBatch, undefined, fix),
          await evaluatePath(backend, model, wA, b, alphas, dataset.test, spec.evalBatch, undefined, fix),
        ),
        weightDistance: weightDistance(wA, b),
      };
    };
    const before = await measure(wB);
    const after = await measure(aligned);
    const repaired = repair ? await measure(aligned, true) : null;
    const result = {
      kind: 'align',
      a: fileA,
      b: fileB,
      out: out ?? null,
      model: model.name,
      data: dataset.name,
      method,
      seed,
      objectiveBefore: match.objectiveBefore,
      objective: match.objective,
      passes: match.passes,
      seconds,
      permutations: Object.fromEntries(Object.entries(match.perms).map(([k, v]) => [k, [...v]])),
      before,
      after,
      ...(repaired ? { repaired } : {}),
      backend: backend.description,
      math: backend.math,
      runtime: host.runtime,
    };
    if (json) {
      host.print(JSON.stringify(result));
      return 0;
    }
    host.print(
      `${method} matching of ${model.name}: objective Σ⟨W_A, π(W_B)⟩ ${match.objectiveBefore.toFixed(4)} → ${
        match.objective.toFixed(4)
      } (${match.passes} pass${match.passes === 1 ? '' : 'es'}, ${seconds.toFixed(2)} s)`,
    );
    for (const [label, m] of [['before', before], ['after ', after], ...(repaired ? [['REPAIR', repaired]] as const : [])] as const) {
      host.print(
        `${label}: train loss barrier ${m.train.lossBarrier.toFixed(4)}, test loss barrier ${
          m.test.lossBarrier.toFixed(4)
        }, test error barrier ${(100 * m.test.errorBarrier).toFixed(2)} %, weight distance ${m.weightDistance.toFixed(3)}`,
      );
    }
    if (out) host.print(`aligned B written to ${out}`);
    return 0;
  },
};
