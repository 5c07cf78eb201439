/**
 * Bun entry (run by test/webgpu_bun.test.ts): creates the WebGPU backend on bun-webgpu and
 * prints one JSON line: the adapter it accepted and exp of four numbers, or the error.
 */
import { setupGlobals } from 'bun-webgpu';
import { RidgelineError } from '../../core/errors.ts';
import { createWebGpuBackend } from '../../core/gpu/create_backend.ts';

declare const process: { exit(code: number): never };

setupGlobals();
try {
  const be = await createWebGpuBackend(navigator.gpu);
  const x = be.alloc(4);
  const y = be.alloc(4);
  be.upload(x, new Float32Array([0, 1, 2, -3])); // EXP_IN of the test
  be.unary('exp', x, y, 4);
  console.log(JSON.stringify({ adapter: be.description, exp: Array.from(await be.download(y)) }));
  be.destroy();
} catch (e) {
  console.log(JSON.stringify({ code: e instanceof RidgelineError ? e.code : 'other', error: String(e) }));
}
process.exit(0);
