/**
 * What the headless-Chromium tests share: Debian's chromium and the flags measured for it
 * (docs/design.md), a launch with a memory bound on Chromium's processes, and a JSON diff that
 * names the first differing leaf.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const QUIET = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
/** docs/design.md's measured flags for WebGPU on SwiftShader in headless Debian chromium (as root). */
export const WEBGPU_ARGS = ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--enable-features=Vulkan', ...QUIET];
/** No WebGPU adapter, whatever GPU the machine has (SwiftShader for WebGPU needs opting in). */
export const NO_WEBGPU_ARGS = ['--disable-gpu', ...QUIET];
/** Chromium's processes together; a SwiftShader hang elsewhere grew by ~65 MB/s (docs/design.md). */
const CHROMIUM_RSS_BOUND = 4 * 2 ** 30;

/** Why these tests cannot run here (no Chromium), or null. */
export const chromiumMissing: string | null = existsSync(CHROMIUM) ? null : `${CHROMIUM} is missing (apt-get install chromium)`;
/** The browser page test's `skip` option: skipped only when Chromium is missing. */
export const chromiumSkip: string | false = chromiumMissing ?? false;

/** Resident memory of `pid`'s descendants (Linux /proc; 0 elsewhere). */
function descendantsRss(pid: number): number {
  const children = new Map<number, number[]>();
  let rss = 0;
  const rssOf = new Map<number, number>();
  for (const name of existsSync('/proc') ? readdirSync('/proc') : []) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ppid = Number(fields[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
      rssOf.set(Number(name), Number(fields[21]) * 4096);
    } catch {
      // the process ended while we looked
    }
  }
  const stack = [...(children.get(pid) ?? [])];
  while (stack.length) {
    const p = stack.pop()!;
    rss += rssOf.get(p) ?? 0;
    stack.push(...(children.get(p) ?? []));
  }
  return rss;
}

/** Launches Chromium with a memory bound: over it, the browser is closed and `why()` says so. */
export async function launch(args: string[]): Promise<{ browser: Browser; why(): string | null; stop(): Promise<void> }> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args, headless: true, timeout: 60_000 });
  let over: string | null = null;
  const timer = setInterval(() => {
    const rss = descendantsRss(process.pid);
    if (rss > CHROMIUM_RSS_BOUND && !over) {
      over = `Chromium's processes use ${(rss / 2 ** 20).toFixed(0)} MiB, over the bound of ${CHROMIUM_RSS_BOUND / 2 ** 20} MiB`;
      void browser.close();
    }
  }, 1000);
  timer.unref();
  return {
    browser,
    why: () => over,
    stop: async () => {
      clearInterval(timer);
      await browser.close();
    },
  };
}

/** The first leaf where two JSON values differ, as `path: a vs b`, or null if equal. */
export function firstDifference(a: unknown, b: unknown, path: string): string | null {
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = firstDifference((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${path}.${key}`);
      if (d) return d;
    }
    return null;
  }
  return Object.is(a, b) ? null : `${path}: page ${String(a)} vs node ${String(b)}`;
}
