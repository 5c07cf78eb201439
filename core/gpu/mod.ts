/** The WebGPU backend's public entry point. */
export { createWebGpuBackend } from './create_backend.ts';
export { WebGpuBackend, type WebGpuBackendOptions, type WebGpuLimits } from './webgpu_backend.ts';
export { chooseTiles, type MatmulTiles, type TileLimits } from './tiles.ts';
