/**
 * Weight matching time (git re-basin, Algorithm 1) on two independently initialised
 * networks: mlp-3 of width 512 (goal under 1 s) and ResNet-20 (goal under 5 s), with the
 * cost matrices as matrix products on the CPU backend (two kernel threads when the machine
 * has two cores) and, for the MLP, in plain f64 JavaScript for comparison. Each line
 * prints the passes and the objective gained. The assignment solver alone against SciPy and
 * munkres: node dist/bench/assignment.js. Run with nothing else busy.
 *
 *   node dist/bench/align.js
 */
import { backendGram, f64Gram, weightMatching } from '../core/align/weight_matching.ts';
import { createModel } from '../core/nn/registry.ts';
import { selectBackend } from '../core/select_backend.ts';
import { cpuSpawner } from '../runtimes/kernel_threads_host.ts';
import { cpuBusyFraction } from './harness.ts';

if (process.argv.includes('--help')) {
  console.log(
    'usage: node dist/bench/align.js\n\nWeight matching of two mlp-3 (width 512) and two ResNet-20 networks: seconds, passes, objective.',
  );
  process.exit(0);
}
const busy = await cpuBusyFraction();
if (busy > 0.15) console.log(`WARNING: the machine was ${(100 * busy).toFixed(0)} % busy before the bench; figures will be skewed`);
const { backend } = await selectBackend('cpu', { spawnWorker: cpuSpawner() });
console.log(`backend: ${backend.description}`);
for (
  const [name, shape, gramName] of [['mlp-3', [784], 'backend'], ['mlp-3', [784], 'f64 JavaScript'], [
    'resnet20',
    [3, 32, 32],
    'backend',
  ]] as const
) {
  const model = createModel(name, shape, 10, { width: name === 'mlp-3' ? 512 : undefined });
  const [a, b] = [model.init(1), model.init(2)];
  const t0 = performance.now();
  const r = await weightMatching(model, a, b, { seed: 0, gram: gramName === 'backend' ? backendGram(backend) : f64Gram });
  const s = (performance.now() - t0) / 1000;
  console.log(
    `${name.padEnd(9)} ${`(${model.parameterCount} parameters)`.padEnd(22)} cost matrices on ${gramName.padEnd(15)} ${
      s.toFixed(2).padStart(6)
    } s, ${r.passes} passes, objective ${r.objectiveBefore.toFixed(2)} → ${r.objective.toFixed(2)}`,
  );
}
