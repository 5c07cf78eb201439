/**
 * `node:test`'s describe/test for Deno, mapped onto Deno.test steps (via the import map
 * test/gpu/deno_import_map.json). Needed because the shared suites register their tests
 * inside an async `describe` after awaiting the backend, which Deno's own node:test
 * rejects ("Didn't complete before parent"). A skipped test prints
 * `ridgeline-skip: <name>: <reason>` so the Node-side runner can report the reason.
 */
interface StepContext {
  step(
    def: { name: string; ignore?: boolean; fn: () => Promise<void>; sanitizeOps?: boolean; sanitizeResources?: boolean },
  ): Promise<boolean>;
}
declare const Deno: {
  test(def: { name: string; ignore?: boolean; fn: (t: StepContext) => unknown; sanitizeOps?: boolean; sanitizeResources?: boolean }): void;
};

type Body = () => unknown;
interface Registered {
  name: string;
  skip?: string;
  fn?: Body;
}

let collecting: Registered[] | null = null;

export function describe(name: string, fn: Body): void {
  Deno.test({
    name,
    // GPU work outlives single tests by design (pooled buffers, queued submits).
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async (t) => {
      const tests: Registered[] = [];
      collecting = tests;
      try {
        await fn();
      } finally {
        collecting = null;
      }
      for (const c of tests) {
        if (c.skip) console.log(`ridgeline-skip: ${c.name}: ${c.skip}`);
        await t.step({
          name: c.name,
          ignore: c.skip !== undefined,
          sanitizeOps: false,
          sanitizeResources: false,
          fn: async () => {
            await c.fn?.();
          },
        });
      }
    },
  });
}

export function test(name: string, optionsOrFn?: { skip?: boolean | string } | Body, maybeFn?: Body): void {
  const options = typeof optionsOrFn === 'object' ? optionsOrFn : {};
  const fn = typeof optionsOrFn === 'function' ? optionsOrFn : maybeFn;
  const skip = options.skip === true ? 'skipped' : typeof options.skip === 'string' ? options.skip : undefined;
  if (collecting) collecting.push({ name, skip, fn });
  else {Deno.test({
      name,
      ignore: skip !== undefined,
      sanitizeOps: false,
      sanitizeResources: false,
      fn: async () => {
        await fn?.();
      },
    });}
}

export const it = test;
