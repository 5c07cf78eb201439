/** `ridgeline rebasin`: barriers before and after alignment, across widths. */
import { RidgelineError } from '../../core/errors.ts';
import { applyOptions, FORK_DEFAULTS, type ForkSpec } from '../../core/experiments/fork_spec.ts';
import { presetSpec } from '../../core/experiments/presets.ts';
import { runRebasin } from '../../core/experiments/rebasin_runner.ts';
import { joinPath } from '../../core/io.ts';
import { prepareOutDir } from '../../core/out_dir.ts';
import { rebasinCsv, rebasinReportHtml } from '../../core/report/rebasin_html.ts';
import { selectBackend } from '../../core/select_backend.ts';
import { BACKEND_OPTION, backendOptions, type Command, MATH_OPTION, requireOption } from '../command.ts';
import { MODEL_OPTIONS, OPTIMIZER_OPTIONS, REPAIR_HELP } from './spec_options.ts';

/** The preset: git re-basin's direction on Fashion-MNIST (fashion-mlp2's training, three widths). */
const PRESET_WIDTHS: Record<string, { base: string; widths: number[]; total: number; overrides?: Partial<ForkSpec>; help: string }> = {
  'fashion-rebasin': { base: 'fashion-mlp2', widths: [32, 128, 512], total: 5, help: "fashion-mlp2's training at widths 32, 128, 512" },
  // The conv variant sized for a laptop (a few minutes on 2 cores): the reduced VGG's two
  // conv layers at full size (its --width is the hidden linear layer), on the first 1 000
  // Fashion-MNIST images of each split, 3 epochs, 5 points per path (evaluating the paths
  // is most of the time), with REPAIR rows (no batch norm).
  'fashion-vgg-rebasin': {
    base: 'fashion-mlp2',
    widths: [32],
    total: 3,
    overrides: { model: 'vgg-reduced', limit: 1000, batch: 50, lr: 0.02, alphas: 5, repair: true },
    help: 'reduced VGG (fc width 32) on 1 000 Fashion-MNIST images, 3 epochs, with REPAIR',
  },
};

export const rebasinCommand: Command = {
  summary:
    'train two independently initialised networks per width and measure their barrier before and after alignment (weight, activation matching)',
  options: [
    { name: 'preset', value: 'NAME', help: Object.entries(PRESET_WIDTHS).map(([k, v]) => `${k}: ${v.help}`).join('; ') },
    { name: 'widths', value: 'LIST', help: 'hidden widths' },
    { name: 'epochs', value: 'N', help: 'training length of each network' },
    ...MODEL_OPTIONS.filter((o) => o.name !== 'width'),
    ...OPTIMIZER_OPTIONS,
    { name: 'alphas', value: 'T', help: 'points on the path', default: String(FORK_DEFAULTS.alphas) },
    { name: 'repair', value: '', help: `also ${REPAIR_HELP}, after each matching` },
    BACKEND_OPTION,
    MATH_OPTION,
    {
      name: 'out',
      value: 'DIR',
      help: 'writes DIR/result.json, rebasin.csv, report.html and every network (width-W/{a,b,b-METHOD-aligned}.safetensors)',
    },
  ],
  async run(opts, host) {
    const { preset, widths: widthText, out, backend: choice, math: _math, repair, ...rest } = opts;
    const p = preset ? PRESET_WIDTHS[preset] : undefined;
    if (preset && !p) {
      throw new RidgelineError('E_SPEC', `--preset: unknown rebasin preset '${preset}'; valid: ${Object.keys(PRESET_WIDTHS).join(', ')}`);
    }
    const base = p ? { ...presetSpec(p.base), ...p.overrides, total: p.total, k1: [0] } : { ...FORK_DEFAULTS, k1: [0], total: 5 };
    if (repair !== undefined && repair !== 'true' && repair !== 'false') {
      throw new RidgelineError('E_SPEC', `--repair: expected true or false, got '${repair}'`);
    }
    // Every matching is measured here, so REPAIR needs no --align: it applies after each.
    const spec = { ...applyOptions({ ...base, repair: false }, rest), repair: repair === undefined ? base.repair : repair !== 'false' };
    const widths = (widthText ?? p?.widths.join(',') ?? '').split(',').filter((w) => w.trim() !== '').map(Number);
    if (widths.length === 0 || widths.some((w) => !Number.isSafeInteger(w) || w < 1)) {
      throw new RidgelineError('E_SPEC', `--widths: expected a list of positive integers, got '${widthText ?? ''}'`);
    }
    const dir = out ?? (preset ? joinPath('runs', preset) : requireOption('rebasin', opts, 'out', 'DIR'));
    await prepareOutDir(host.files, dir);
    const { backend, reason } = await selectBackend(choice ?? 'auto', backendOptions(host, opts));
    host.progress.log(reason);
    const result = await runRebasin(spec, widths, dir, backend, host);
    for (
      const [name, text] of [['rebasin.csv', rebasinCsv(result)], ['report.html', rebasinReportHtml(result)], [
        'result.json',
        JSON.stringify(result, null, 1),
      ]] as const
    ) {
      await host.files.write(joinPath(dir, name), text);
    }
    host.print(
      `${'width'.padStart(6)}  ${'alignment'.padEnd(17)} ${'train loss barrier'.padStart(19)} ${'test error barrier'.padStart(19)}`,
    );
    for (const r of result.rows) {
      host.print(
        `${String(r.width).padStart(6)}  ${`${r.method}${r.repaired ? ' + REPAIR' : ''}`.padEnd(17)} ${
          r.train.lossBarrier.toFixed(4).padStart(19)
        } ${`${(100 * r.test.errorBarrier).toFixed(2)} %`.padStart(19)}`,
      );
    }
    host.print(`\nreport: ${joinPath(dir, 'report.html')}`);
    return 0;
  },
};
