/// <reference types="@webgpu/types" />
/**
 * WGSL sources (embedded by the build from wgsl/*.wgsl) specialised by substituting
 * module constants, and a cache of compiled pipelines keyed by family, entry point and
 * constants (so a tile choice is part of the key).
 */
import { RidgelineError } from '../errors.ts';
import { WGSL, WGSL_OP_CONSTANTS } from './wgsl.gen.ts';

export type KernelFamily = 'matmul' | 'matmul_direct' | 'elementwise' | 'reduce' | 'softmax' | 'optim' | 'window';
export type Constants = Readonly<Record<string, number | boolean>>;

/** Families that call math.wgsl: its portable transcendental functions or its maxF. */
const NEEDS_MATH: ReadonlySet<KernelFamily> = new Set(['elementwise', 'reduce', 'softmax']);

/**
 * Replaces `const NAME: type = …;` declarations of `source` with the given values. Every
 * name must be declared (a typo would otherwise silently keep the default).
 */
export function specialize(source: string, constants: Constants): string {
  let out = source;
  for (const [name, value] of Object.entries(constants)) {
    const decl = new RegExp(`^const ${name}: (u32|bool|i32|f32) = [^;]*;`, 'm');
    const match = decl.exec(out);
    if (!match) throw new RidgelineError('E_BACKEND', `wgsl: constant ${name} is not declared in the kernel source`);
    const type = match[1];
    if ((type === 'bool') !== (typeof value === 'boolean')) {
      throw new RidgelineError('E_BACKEND', `wgsl: constant ${name} is ${type}, got ${JSON.stringify(value)}`);
    }
    const literal = typeof value === 'boolean' ? String(value) : type === 'u32' ? `${value}u` : type === 'i32' ? `${value}i` : `${value}f`;
    out = out.replace(decl, `const ${name}: ${type} = ${literal};`);
  }
  return out;
}

/**
 * The full WGSL of a family with its constants substituted, after the op constants
 * (UNARY_NEG, …, generated from core/op_tables.ts) that kernels name their cases by. Every
 * family gets them: an unused module constant costs nothing, and a family that starts
 * switching on an op needs no list updated here.
 */
export function kernelSource(family: KernelFamily, constants: Constants): string {
  const body = specialize(WGSL[family], constants);
  return `${WGSL_OP_CONSTANTS}\n${NEEDS_MATH.has(family) ? `${WGSL.math}\n` : ''}${body}`;
}

export interface Kernel {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

export class PipelineCache {
  private readonly kernels = new Map<string, Kernel>();

  constructor(private readonly device: GPUDevice) {}

  get size(): number {
    return this.kernels.size;
  }

  get(family: KernelFamily, entryPoint: string, constants: Constants): Kernel {
    const key = `${family}.${entryPoint}${JSON.stringify(constants)}`;
    let kernel = this.kernels.get(key);
    if (!kernel) {
      const module = this.device.createShaderModule({ label: key, code: kernelSource(family, constants) });
      const pipeline = this.device.createComputePipeline({ label: key, layout: 'auto', compute: { module, entryPoint } });
      kernel = { pipeline, layout: pipeline.getBindGroupLayout(0) };
      this.kernels.set(key, kernel);
    }
    return kernel;
  }
}
