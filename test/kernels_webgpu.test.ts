/**
 * The shared kernel and autograd suites on WebGPU under Node (npm `webgpu`, i.e. Dawn, on
 * SwiftShader when VK_ICD_FILENAMES names its ICD). Skipped, with the reason, when no
 * adapter is usable.
 */
import { autogradSuite } from './suites/autograd.ts';
import { kernelSuite } from './suites/kernels.ts';
import { layerSuite } from './suites/layers.ts';
import { createNodeBackend } from './gpu/node_gpu.ts';
import { startWatchdog } from './gpu/watchdog.ts';

startWatchdog('kernels_webgpu', { seconds: 900, rssBytes: 6 * 2 ** 30 });

// One backend for both suites, named after the adapter it got.
const made = await createNodeBackend();
const name = typeof made === 'string' ? 'webgpu (node)' : `webgpu (node, ${made.description})`;
kernelSuite(name, async () => made);
autogradSuite(name, async () => made);
layerSuite(name, async () => made);
