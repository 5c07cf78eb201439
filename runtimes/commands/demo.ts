/** `ridgeline demo`: a quick fixed training run (also the cross-runtime determinism check). */
import { runSmokeTraining } from '../../core/experiments/smoke_run.ts';
import { selectBackend } from '../../core/select_backend.ts';
import { BACKEND_OPTION, backendOptions, type Command, MATH_OPTION, optionOr } from '../command.ts';
import { RidgelineError } from '../../core/errors.ts';

function count(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new RidgelineError('E_SPEC', `${flag}: expected a non-negative integer, got '${text}'`);
  return n;
}

export const demoCommand: Command = {
  summary: 'train a small MLP on a generated task for a few seconds and print a fingerprint of its weights',
  options: [
    BACKEND_OPTION,
    MATH_OPTION,
    { name: 'steps', value: 'N', help: 'SGD steps', default: '300' },
    { name: 'seed', value: 'N', help: 'seed for data, init and order', default: '0' },
    { name: 'json', value: '', help: 'print the result as JSON' },
  ],
  async run(opts, host) {
    const steps = count('--steps', optionOr(demoCommand, opts, 'steps'));
    const seed = count('--seed', optionOr(demoCommand, opts, 'seed'));
    const { backend, reason } = await selectBackend(optionOr(demoCommand, opts, 'backend'), backendOptions(host, opts));
    const quiet = 'json' in opts;
    if (!quiet) host.print(reason);
    const started = performance.now();
    const result = await runSmokeTraining(backend, { seed, steps });
    const seconds = (performance.now() - started) / 1000;
    const summary = {
      runtime: host.runtime,
      backend: backend.kind,
      backendDescription: backend.description,
      math: backend.math,
      seed,
      steps,
      finalLoss: result.losses[result.losses.length - 1],
      trainAccuracy: result.accuracy,
      paramsHash: result.hash,
      seconds,
    };
    if (quiet) host.print(JSON.stringify(summary));
    else {host.print(
        `done in ${seconds.toFixed(2)} s: final loss ${summary.finalLoss.toFixed(4)}, train accuracy ${
          (100 * result.accuracy).toFixed(1)
        } %, parameters ${result.hash}`,
      );}
    return 0;
  },
};
