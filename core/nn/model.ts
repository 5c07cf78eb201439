/**
 * Models as plain descriptions: an ordered list of layers whose parameters form one flat
 * vector in the canonical order of SPEC.md (layers in forward order; weight then bias;
 * row-major), named and shaped as PyTorch's `nn.Sequential` would name them, so a
 * safetensors file round-trips with PyTorch.
 */
import type { Tensor } from '../tensor.ts';

/** One parameter tensor: its PyTorch name, shape and place in the flat vector. */
export interface ParamInfo {
  name: string;
  shape: number[];
  offset: number;
  size: number;
}

/** A layer's slice of the flat vector (SPEC: `name, offset, length`). */
export interface LayerSlice {
  name: string;
  offset: number;
  length: number;
  /** Indices into `Model.params` of this layer's tensors. */
  params: number[];
}

export interface Model {
  /** Registry name and options, e.g. `mlp-2 (width 512, slope 0)`. */
  readonly name: string;
  readonly description: string;
  readonly inputSize: number;
  readonly classes: number;
  readonly params: readonly ParamInfo[];
  readonly layers: readonly LayerSlice[];
  readonly parameterCount: number;
  /** Logits [N, classes] for inputs [N, inputSize]; differentiable in `params`. */
  forward(params: readonly Tensor[], x: Tensor): Tensor;
  /**
   * When the first layer is linear in its weights (X·W(α)ᵀ is the α-mix of X·W_Aᵀ and
   * X·W_Bᵀ), the path evaluator computes X·Wᵀ once per endpoint and finishes each α with
   * `forwardFromFirst`. Null when the model cannot share its first layer.
   */
  readonly firstLayer: { weight: number; bias: number | null } | null;
  /** Logits from the first layer's pre-activation (bias included) z1 = X·W1ᵀ + b1. */
  forwardFromFirst(params: readonly Tensor[], z1: Tensor): Tensor;
  /** PyTorch's default initialisation of every parameter, from the init seed. */
  init(seed: number): Float32Array[];
}

/** Lays out parameter tensors consecutively in the flat vector. */
export function layoutParams(list: { name: string; shape: number[] }[]): ParamInfo[] {
  let offset = 0;
  return list.map(({ name, shape }) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const info = { name, shape, offset, size };
    offset += size;
    return info;
  });
}
