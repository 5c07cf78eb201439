/** `ridgeline presets`: the named experiments and what each reproduces. */
import { HULL_PRESETS, PRESETS } from '../../core/experiments/presets.ts';
import type { Command } from '../command.ts';

export const presetsCommand: Command = {
  summary: 'list the presets and what each reproduces',
  options: [{ name: 'json', value: '', help: 'print them as JSON' }],
  async run(opts, host) {
    if (opts.json) {
      host.print(JSON.stringify({ fork: PRESETS, hull: HULL_PRESETS }, null, 1));
      return 0;
    }
    const show = (p: { name: string; reproduces: string; spec: object }) =>
      host.print(
        `${p.name}\n  ${p.reproduces}\n  ${
          Object.entries(p.spec).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : v}`).join(' ')
        }\n`,
      );
    PRESETS.forEach(show);
    host.print('run one with: ridgeline fork --preset NAME [--out DIR] [overrides…]\n');
    HULL_PRESETS.forEach(show);
    host.print('run one with: ridgeline hull --preset NAME [--out DIR] [overrides…]');
    return 0;
  },
};
