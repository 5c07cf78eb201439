/**
 * The WebGPU backend under Bun (bun-webgpu): without a Vulkan driver bun-webgpu hands out
 * a `null-backend` adapter whose kernels compute nothing, which the start-up known-answer
 * check must refuse (E_NO_ADAPTER); with SwiftShader it must work.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SWIFTSHADER_ICD } from './gpu/node_gpu.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bun = join(root, 'node_modules', '.bin', 'bun');

function runBun(icd: string | undefined): { adapter?: string; exp?: number[]; code?: string; error?: string } {
  const env = { ...process.env };
  if (icd) env.VK_ICD_FILENAMES = icd;
  else delete env.VK_ICD_FILENAMES;
  const r = spawnSync(bun, [join(root, 'test/gpu/bun_entry.ts')], { cwd: root, env, encoding: 'utf8', timeout: 120_000 });
  const line = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  assert.ok(line, `bun printed no result (exit ${r.status ?? r.signal}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(line);
}

const skip = existsSync(bun) ? false : `bun is missing at ${bun} (a devDependency: run npm install)`;

const EXP_IN = [0, 1, 2, -3];
const expIsRight = (got: number[]) => got.every((v, i) => Math.abs(v - Math.exp(EXP_IN[i])) <= 1e-6 * Math.exp(EXP_IN[i]));

test('bun-webgpu without a Vulkan driver: the null-backend adapter is refused by the known-answer check (E_NO_ADAPTER)', { skip }, () => {
  const r = runBun(undefined);
  if (r.exp) {
    // A machine with a real GPU: accepted, so it must compute correctly.
    assert.ok(expIsRight(r.exp), `accepted ${r.adapter} but exp gave ${r.exp}`);
    return;
  }
  assert.equal(r.code, 'E_NO_ADAPTER', JSON.stringify(r));
  assert.match(r.error ?? '', /known-answer check|no adapter/);
});

test('bun-webgpu on SwiftShader: accepted, and exp is right', {
  skip: skip || (existsSync(SWIFTSHADER_ICD) ? false : `no SwiftShader ICD at ${SWIFTSHADER_ICD}`),
}, () => {
  const r = runBun(SWIFTSHADER_ICD);
  assert.ok(r.exp, JSON.stringify(r));
  assert.match(r.adapter ?? '', /swiftshader/i);
  assert.ok(expIsRight(r.exp), `exp gave ${r.exp}`);
});
