/**
 * The browser runtime's pieces that need no browser: the in-memory FileStore behaves like
 * the node one (random operation sequences run against both, compared step by step), and
 * the static server sends the cross-origin isolation headers, right MIME types, and
 * nothing outside its directory.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { memoryFileStore } from '../core/io_memory.ts';
import { serveStatic } from '../runtimes/browser/serve.ts';
import { nodeFileStore } from '../runtimes/node_files.ts';
import { RUNS } from './util.ts';

const segment = fc.constantFrom('a', 'b', 'c.json');
const relPath = fc.array(segment, { minLength: 1, maxLength: 3 }).map((s) => s.join('/'));
type Op =
  | { op: 'write'; path: string; text: string }
  | { op: 'mkdir' | 'exists' | 'list' | 'read'; path: string };
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('write' as const), path: relPath, text: fc.string({ maxLength: 8 }) }),
  fc.record({
    op: fc.constantFrom('mkdir' as const, 'exists' as const, 'list' as const, 'read' as const),
    path: fc.oneof(relPath, fc.constant('')),
  }),
);

/**
 * The node store leaves its temporary file behind when the rename fails (writing a file
 * where a directory is): a known difference, the memory store leaves nothing.
 */
const NODE_TEMP = /\.tmp-\d+-\d+$/;

/** What an operation gave: its value, or only that it failed (messages differ by design). */
async function outcome(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    const v = await fn();
    if (Array.isArray(v)) return { value: v.filter((name) => !NODE_TEMP.test(name)) };
    return v instanceof Uint8Array ? { bytes: Array.from(v) } : { value: v ?? null };
  } catch {
    return 'failed';
  }
}

test('memory FileStore: any sequence of writes, mkdirs, reads, lists and exists gives what the node store gives', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { maxLength: 14 }), async (ops) => {
      const dir = mkdtempSync(join(tmpdir(), 'ridgeline-memstore-'));
      const disk = nodeFileStore();
      const memory = memoryFileStore();
      await memory.mkdir('/root'); // as mkdtemp made the disk's root
      for (const o of ops) {
        const run = async (store: typeof disk, base: string) => {
          const path = o.path === '' ? base : join(base, o.path);
          if (o.op === 'write') return store.write(path, o.text);
          if (o.op === 'read') return store.read(path);
          return store[o.op](path);
        };
        // The memory store sees the same paths under a root of its own.
        assert.deepEqual(await outcome(() => run(memory, '/root')), await outcome(() => run(disk, dir)), JSON.stringify(o));
      }
    }),
    { numRuns: RUNS.kernel },
  );
});

test('memory FileStore: reads are copies, text round-trips, paths normalise, packageDir is null', async () => {
  const store = memoryFileStore({ 'seed/x.txt': 'seeded' });
  const data = Uint8Array.of(1, 2, 3);
  await store.write('run//cells/./a.bin', data);
  data[0] = 9; // the caller's buffer is not the stored file
  const read = await store.read('run/cells/a.bin');
  assert.deepEqual(Array.from(read), [1, 2, 3]);
  read[1] = 9;
  assert.deepEqual(Array.from(await store.read('run/cells/a.bin')), [1, 2, 3]);
  assert.equal(await store.readText('seed/x.txt'), 'seeded');
  assert.deepEqual(await store.list('run'), ['cells']);
  assert.deepEqual(store.paths(), ['run/cells/a.bin', 'seed/x.txt']);
  assert.equal(await store.packageDir('mnist'), null);
  await assert.rejects(store.read('run/missing'), /E_DATA_FORMAT: cannot read run\/missing/);
});

test('static server: COOP/COEP headers, MIME types, 404, no escape from its directory, loopback only', async () => {
  const root = mkdtempSync(join(tmpdir(), 'ridgeline-serve-'));
  mkdirSync(join(root, 'sub'));
  writeFileSync(join(root, 'index.html'), '<p>page</p>');
  writeFileSync(join(root, 'sub', 'w.js'), 'export {};');
  writeFileSync(join(root, '..', 'ridgeline-serve-secret.txt'), 'secret');
  const server = await serveStatic(root);
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetch(server.url);
    assert.equal(page.status, 200);
    assert.equal(await page.text(), '<p>page</p>');
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(page.headers.get('cross-origin-opener-policy'), 'same-origin');
    assert.equal(page.headers.get('cross-origin-embedder-policy'), 'require-corp');
    const js = await fetch(new URL('sub/w.js?v=1', server.url));
    assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(js.headers.get('cross-origin-embedder-policy'), 'require-corp');
    assert.equal((await fetch(new URL('nope.js', server.url))).status, 404);
    assert.equal((await fetch(new URL('sub', server.url))).status, 404, 'a directory is not a file');
    // fetch normalises '..' away, so the escape attempts go out percent-encoded.
    for (
      const escape of [
        '%2e%2e/ridgeline-serve-secret.txt',
        'sub/%2e%2e/%2e%2e/ridgeline-serve-secret.txt',
        '%2e%2e%2fridgeline-serve-secret.txt',
      ]
    ) {
      const r = await fetch(server.url + escape);
      assert.ok(r.status === 403 || r.status === 404, `${escape} → ${r.status}`);
      assert.doesNotMatch(await r.text(), /secret/);
    }
    assert.equal((await fetch(server.url, { method: 'POST' })).status, 405);
  } finally {
    await server.close();
  }
});
