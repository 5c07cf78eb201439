/**
 * FileStore over node:fs, which Node, Deno and Bun all implement. Writes go to a temporary
 * file in the same directory and are renamed into place, so a killed run never leaves a
 * truncated result or checkpoint behind.
 */
import { access, mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { RidgelineError } from '../core/errors.ts';
import type { FileStore } from '../core/io.ts';

let tempCounter = 0;

export function nodeFileStore(): FileStore {
  return {
    async read(path) {
      try {
        return new Uint8Array(await readFile(path));
      } catch (e) {
        throw new RidgelineError('E_DATA_FORMAT', `cannot read ${path}: ${(e as Error).message}`);
      }
    },
    async readText(path) {
      return new TextDecoder().decode(await this.read(path));
    },
    async write(path, data) {
      await mkdir(dirname(path), { recursive: true });
      const temp = `${path}.tmp-${process.pid}-${tempCounter++}`;
      await writeFile(temp, data);
      try {
        await rename(temp, path);
      } catch (e) {
        await rm(temp, { force: true });
        throw new RidgelineError('E_DATA_FORMAT', `cannot write ${path}: ${(e as Error).message}`);
      }
    },
    async exists(path) {
      try {
        await access(path);
        return true;
      } catch {
        return false;
      }
    },
    async mkdir(path) {
      await mkdir(path, { recursive: true });
    },
    async list(path) {
      try {
        return (await readdir(path)).sort();
      } catch {
        return [];
      }
    },
    async packageDir(name) {
      try {
        return dirname(createRequire(join(process.cwd(), 'noop.js')).resolve(`${name}/package.json`));
      } catch {
        try {
          return dirname(createRequire(import.meta.url).resolve(`${name}/package.json`));
        } catch {
          return null;
        }
      }
    },
  };
}
