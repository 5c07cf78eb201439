/**
 * FileStore over node:fs, which Node, Deno and Bun all implement. Writes go to a temporary
 * file in the same directory and are renamed into place, so a killed run never leaves a
 * truncated result or checkpoint behind; a failed write removes its temporary file, and a
 * run sweeps those of killed processes (sweepTemp). Every write failure is one E_IO line
 * naming the path and the cause in words (fs_errors.ts).
 */
import { mkdir, open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { RidgelineError } from '../core/errors.ts';
import { type FileStore, joinPath, tempOwner, tempPath } from '../core/io.ts';
import { causeInWords, ioError } from './fs_errors.ts';

let tempCounter = 0;

/** True if process `pid` is running (signal 0 probes without signalling; EPERM = alive). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function nodeFileStore(): FileStore {
  return {
    async read(path, limit) {
      const refuse = (detail: string): never => {
        throw new RidgelineError('E_DATA_FORMAT', `cannot read ${path}: ${detail}`);
      };
      try {
        // stat before open: opening a FIFO would block, and a device has no size to check.
        const info = await stat(path);
        if (!info.isFile()) {
          const kind = info.isDirectory()
            ? 'a directory'
            : info.isCharacterDevice()
            ? 'a character device'
            : info.isBlockDevice()
            ? 'a block device'
            : info.isFIFO()
            ? 'a pipe'
            : 'not a regular file';
          refuse(`it is ${kind}, not a regular file`);
        }
        if (limit && info.size > limit.bytes) {
          refuse(`${info.size} bytes is more than ${limit.bytes}, the most ${limit.what} can hold`);
        }
        // Read exactly the size stat gave, in one buffer; a file that grows meanwhile is
        // refused rather than followed.
        const handle = await open(path, 'r');
        try {
          const out = new Uint8Array(info.size);
          let at = 0;
          while (at < out.length) {
            const { bytesRead } = await handle.read(out, at, out.length - at, at);
            if (bytesRead === 0) refuse(`it shrank from ${info.size} to ${at} bytes while being read`);
            at += bytesRead;
          }
          const { bytesRead } = await handle.read(new Uint8Array(1), 0, 1, at);
          if (bytesRead !== 0) refuse(`it grew past ${info.size} bytes while being read`);
          return out;
        } finally {
          await handle.close();
        }
      } catch (e) {
        if (e instanceof RidgelineError) throw e;
        return refuse(causeInWords(e));
      }
    },
    async readText(path) {
      return new TextDecoder().decode(await this.read(path));
    },
    async write(path, data) {
      const dir = dirname(path);
      try {
        await mkdir(dir, { recursive: true });
      } catch (e) {
        throw ioError(dir, e);
      }
      const temp = tempPath(path, process.pid, tempCounter++);
      try {
        await writeFile(temp, data);
        await rename(temp, path);
      } catch (e) {
        // A full disk or a failed rename must not leave the partial temporary file behind.
        await rm(temp, { force: true }).catch(() => {});
        throw ioError(path, e);
      }
    },
    async exists(path) {
      try {
        await stat(path);
        return true;
      } catch {
        return false;
      }
    },
    async mkdir(path) {
      try {
        await mkdir(path, { recursive: true });
      } catch (e) {
        throw ioError(path, e);
      }
    },
    async probeWritable(dir) {
      try {
        const info = await stat(dir);
        if (!info.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
      } catch (e) {
        throw ioError(dir, e);
      }
      const probe = joinPath(dir, `.ridgeline-probe${tempPath('', process.pid, tempCounter++)}`);
      try {
        await writeFile(probe, 'probe');
      } catch (e) {
        await rm(probe, { force: true }).catch(() => {});
        throw ioError(dir, e);
      }
      await rm(probe, { force: true });
    },
    async sweepTemp(dir) {
      const removed: string[] = [];
      const walk = async (d: string): Promise<void> => {
        let entries;
        try {
          entries = await readdir(d, { withFileTypes: true });
        } catch {
          return; // a missing directory holds nothing to sweep
        }
        for (const e of entries) {
          const p = join(d, e.name);
          if (e.isDirectory()) await walk(p);
          else {
            const owner = tempOwner(e.name);
            if (owner !== null && owner !== process.pid && !isAlive(owner)) {
              try {
                await rm(p, { force: true });
              } catch (err) {
                throw ioError(p, err);
              }
              removed.push(p);
            }
          }
        }
      };
      await walk(dir);
      return removed;
    },
    async createExclusive(path, text) {
      // Another process may remove the directory between our mkdir and open (a store
      // tidying a published node's claims): make it again, a few times, before giving up.
      for (let attempt = 0;; attempt++) {
        try {
          await mkdir(dirname(path), { recursive: true });
          await writeFile(path, text, { flag: 'wx' });
          return true;
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code === 'EEXIST') return false;
          if (code === 'ENOENT' && attempt < 5) continue;
          throw ioError(path, e);
        }
      }
    },
    async remove(path) {
      try {
        await rm(path, { recursive: true, force: true });
      } catch (e) {
        throw ioError(path, e);
      }
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
