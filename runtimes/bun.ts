/** Bun adapter: `bun runtimes/bun.ts <command>`. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { runCli } from './cli.ts';
import { createHost } from './host.ts';
import { bunGpu, SWIFTSHADER_ICD } from './webgpu_host.ts';

declare const Bun: { version: string };

// bun-webgpu's Dawn reads VK_ICD_FILENAMES when the process starts, not when process.env
// changes (measured: set in-process it still gets the zero-writing `null-backend`), so
// the driver docs/design.md gives Bun is chosen by running this script again with it.
if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) {
  const r = spawnSync(process.execPath, process.argv.slice(1), {
    stdio: 'inherit',
    env: { ...process.env, VK_ICD_FILENAMES: SWIFTSHADER_ICD },
  });
  process.exit(r.status ?? 1);
}

const interactive = Boolean(process.stderr.isTTY) && !process.env.CI;
process.exitCode = await runCli(process.argv.slice(2), createHost(`bun ${Bun.version}`, interactive, bunGpu));
