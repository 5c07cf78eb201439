/**
 * The kernels name ops by the constants the build generates from core/op_tables.ts
 * (`UNARY_LEAKY_RELU`, …), never by position: every op of every table has a case under its
 * name in the AssemblyScript kernels and in the WGSL kernels, no kernel matches an op by a
 * number, and the generated constants are the tables' positions (the codes CheckedBackend
 * passes). An op added to a table without a kernel on each backend fails here.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { WGSL, WGSL_OP_CONSTANTS } from '../core/gpu/wgsl.gen.ts';
import { OP_TABLES, opConstantName } from '../core/op_tables.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const asmDir = join(root, 'core/cpu/assembly');

const ops = Object.entries(OP_TABLES).flatMap(([prefix, table]) =>
  table.map((op, code) => ({ op, code, name: opConstantName(prefix as keyof typeof OP_TABLES, op) }))
);

/** The hand-written AssemblyScript kernels, comments and imports removed (an import names every op). */
function assemblySources(): Record<string, string> {
  const files = readdirSync(asmDir).filter((f) => f.endsWith('.ts') && !f.endsWith('.gen.ts'));
  assert.ok(files.length >= 5, `only ${files.length} AssemblyScript files in ${asmDir}`);
  return Object.fromEntries(files.map((f) => [
    f,
    readFileSync(join(asmDir, f), 'utf8').replace(/\/\/[^\n]*/g, '').replace(/import\s*\{[^}]*\}\s*from\s*'[^']*';/g, ''),
  ]));
}

const wgslSources = (): Record<string, string> =>
  Object.fromEntries(Object.entries(WGSL).map(([family, src]) => [`${family}.wgsl`, src.replace(/\/\/[^\n]*/g, '')]));

/** The files (of `sources`) with a `case NAME:`. */
const casesOf = (name: string, sources: Record<string, string>) =>
  Object.keys(sources).filter((f) => new RegExp(`\\bcase\\s+${name}\\s*:`).test(sources[f]));

test('constant names: the table prefix and the op in upper snake case', () => {
  assert.equal(opConstantName('UNARY', 'leakyRelu'), 'UNARY_LEAKY_RELU');
  assert.equal(opConstantName('BINARY', 'leakyReluGrad'), 'BINARY_LEAKY_RELU_GRAD');
  assert.equal(opConstantName('REDUCE', 'sum'), 'REDUCE_SUM');
  assert.equal(new Set(ops.map((o) => o.name)).size, ops.length, 'two ops share a constant name');
});

test("the generated constants are the ops' positions in their tables", () => {
  const assembly = readFileSync(join(asmDir, 'ops.gen.ts'), 'utf8');
  for (const { name, code } of ops) {
    assert.match(
      assembly,
      new RegExp(`^@inline export const ${name}: i32 = ${code};$`, 'm'),
      `core/cpu/assembly/ops.gen.ts: ${name} (rebuild: npm run build)`,
    );
    assert.match(
      WGSL_OP_CONSTANTS,
      new RegExp(`^const ${name}: u32 = ${code}u;$`, 'm'),
      `core/gpu/wgsl.gen.ts: ${name} (rebuild: npm run build)`,
    );
  }
  const prefixes = Object.keys(OP_TABLES).join('|');
  const declared = (text: string) => text.match(new RegExp(`\\b(${prefixes})_\\w+(?=: )`, 'g')) ?? [];
  assert.deepEqual(declared(assembly), ops.map((o) => o.name), "ops.gen.ts declares other constants than the tables'");
  assert.deepEqual(declared(WGSL_OP_CONSTANTS), ops.map((o) => o.name), "WGSL_OP_CONSTANTS declares other constants than the tables'");
});

test('every op has a case under its name in the AssemblyScript and the WGSL kernels', () => {
  const assembly = assemblySources();
  const wgsl = wgslSources();
  const missing: string[] = [];
  for (const { name } of ops) {
    if (casesOf(name, assembly).length === 0) missing.push(`${name}: no 'case ${name}:' in core/cpu/assembly`);
    if (casesOf(name, wgsl).length === 0) missing.push(`${name}: no 'case ${name}:' in wgsl/`);
  }
  assert.deepEqual(missing, [], `ops without a kernel:\n${missing.join('\n')}`);
});

test('no kernel matches an op by number', () => {
  const numbered = Object.entries({ ...assemblySources(), ...wgslSources() })
    .flatMap(([file, src]) => [...src.matchAll(/\bcase\s+-?\d+u?\s*:/g)].map((m) => `${file}: ${m[0]}`));
  assert.deepEqual(numbered, [], 'numeric case labels: name the op by its generated constant instead');
  // The op codes the WebGPU backend substitutes default to a named op, not a number.
  for (const [family, constant] of [['elementwise', 'UNARY_OP'], ['elementwise', 'BINARY_OP'], ['reduce', 'REDUCE_OP']] as const) {
    assert.match(WGSL[family], new RegExp(`^const ${constant}: u32 = [A-Z]+_[A-Z_]+;`, 'm'), `wgsl/${family}.wgsl ${constant}`);
  }
});
