/**
 * A static server for the browser page (dist/browser and nothing else) on loopback with
 * an ephemeral port. It sends the cross-origin isolation headers that SharedArrayBuffer —
 * and so the CPU backend's WebAssembly memory — needs, and no-store so a rebuilt bundle is
 * never served stale. Run by hand: `node dist/runtimes/browser/serve.js` prints the URL.
 */
import { readFile, stat } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
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

export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

/** The file under `root` that a request path names, or null if it escapes `root`. */
function resolveInside(root: string, urlPath: string): string | null {
  let path: string;
  try {
    path = decodeURIComponent(urlPath.split('?')[0]);
  } catch {
    return null;
  }
  if (path.includes('\0')) return null;
  const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
  return file === root || file.startsWith(root.endsWith(sep) ? root : root + sep) ? file : null;
}

/** Serves `root` on 127.0.0.1 at a port the system picks; resolves once listening. */
export async function serveStatic(root = DEFAULT_ROOT): Promise<StaticServer> {
  const base = normalize(root);
  const server: Server = createServer(async (req, res) => {
    const send = (status: number, body: string | Uint8Array, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { ...HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'only GET and HEAD\n');
    const file = resolveInside(base, req.url ?? '/');
    if (!file) return send(403, 'outside the served directory\n');
    try {
      if (!(await stat(file)).isFile()) return send(404, 'not found\n');
      send(200, await readFile(file), MIME[extname(file)] ?? 'application/octet-stream');
    } catch {
      send(404, 'not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve); // loopback only: the page is for this machine
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { url } = await serveStatic(process.argv[2] ?? DEFAULT_ROOT);
  console.log(`ridgeline page: ${url}  (Ctrl-C stops the server)`);
}
