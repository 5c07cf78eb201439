/**
 * Models as plain descriptions: an ordered list of layers whose tensors form one flat
 * vector in the canonical order of docs/models.md (layers in forward order; weight then bias;
 * row-major), named and shaped as PyTorch's `state_dict` names them, so a safetensors
 * file round-trips with PyTorch.
 *
 * Besides trainable parameters a model may hold buffers (batch-norm running statistics,
 * `trainable: false`). They travel with the weights: saved in checkpoints, forked, and
 * interpolated like weights on a path (docs/models.md; `--reset-bn` recomputes them instead),
 * but they get no gradient and no optimizer update, and parameter counts exclude them.
 */
import type { RunningUpdate } from './functional/norm.ts';
import type { Tensor } from '../tensor.ts';

/** One tensor of the model state: its PyTorch name, shape and place in the flat vector. */
export interface ParamInfo {
  name: string;
  shape: number[];
  offset: number;
  size: number;
  /** false for buffers (batch-norm running statistics). */
  trainable: boolean;
}

/** How a forward pass runs; the default is evaluation mode. */
export interface ForwardOptions {
  /** Training mode: batch statistics in batch norm (running statistics updated), dropout on. */
  train?: boolean;
  /** Dropout masks are a pure function of (noiseSeed, layer, step). */
  noiseSeed?: number;
  step?: number;
  /** How batch norm updates its running statistics in training mode (default: PyTorch's EMA). */
  bnUpdate?: RunningUpdate;
  /**
   * Receives the hidden activations each permutation relabels ([N, units] or NHWC maps), by
   * the permutation's name, as the forward pass computes them (activation matching).
   */
  capture?: (permutation: string, activation: Tensor) => void;
  /**
   * Receives the same units before their nonlinearity: the output of the layer producing
   * them, bias included (REPAIR rescales these and folds the correction into that layer).
   */
  capturePre?: (permutation: string, preActivation: Tensor) => void;
}

/**
 * Axis `axis` of state tensor `param`, seen as `size` consecutive blocks of `block` entries,
 * is relabelled by a hidden permutation (block > 1: a flattened C×H×W input, one block per
 * channel).
 */
export interface PermutedAxis {
  param: number;
  axis: number;
  block: number;
  /**
   * The blocks of the axis the group's units occupy, in unit order, when the group covers
   * only part of it (ResNet-20's option-A shortcuts place a stage's channels in the middle
   * of the next stage's); absent: all of it, unit i at block i.
   */
  positions?: number[];
}

/** One group of interchangeable hidden units and every tensor axis it acts on. */
export interface HiddenPermutation {
  name: string;
  size: number;
  axes: PermutedAxis[];
}

/**
 * The model's permutation symmetry, declared by its builder calls layer by layer: permuting
 * every axis of a group consistently leaves the function unchanged. A model whose symmetry
 * is not (yet) derived says why instead.
 */
export type Symmetry = { permutations: HiddenPermutation[] } | { unsupported: string };

export type Task = 'classification' | 'regression';

/** A layer's slice of the flat vector (docs/models.md: `name, offset, length`). */
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
  /** Shape of one example ([C, H, W] for images, [d] for vectors). */
  readonly inputShape: readonly number[];
  /** Features per example: the product of `inputShape`. */
  readonly inputSize: number;
  /** Outputs per example: classes, or regression targets (1). */
  readonly classes: number;
  /** Softmax cross-entropy on class labels, or mean squared error on targets. */
  readonly task: Task;
  /** Every state tensor (parameters and buffers) in state_dict order. */
  readonly params: readonly ParamInfo[];
  readonly layers: readonly LayerSlice[];
  /** Trainable parameters (what PyTorch's `sum(p.numel() for p in model.parameters())` counts). */
  readonly parameterCount: number;
  /** Floats in the whole state (parameters and buffers): the length of the flat vector. */
  readonly stateSize: number;
  /** Logits [N, classes] for inputs [N, inputSize]; differentiable in `params`. */
  forward(params: readonly Tensor[], x: Tensor, options?: ForwardOptions): Tensor;
  /**
   * When the first layer is linear in its weights (X·W(α)ᵀ is the α-mix of X·W_Aᵀ and
   * X·W_Bᵀ), the path evaluator computes X·Wᵀ once per endpoint and finishes each α with
   * `forwardFromFirst`. Null when the model cannot share its first layer.
   */
  readonly firstLayer: {
    weight: number;
    bias: number | null;
    /** The first layer without its bias, linear in `w` (default x·wᵀ; a convolution for CNNs). */
    product?: (x: Tensor, w: Tensor) => Tensor;
  } | null;
  /** Logits from the first layer's pre-activation (bias included) z1 = X·W1ᵀ + b1. */
  forwardFromFirst(params: readonly Tensor[], z1: Tensor): Tensor;
  /** PyTorch's default initialisation of every parameter, from the init seed. */
  init(seed: number): Float32Array[];
  /** The hidden-unit permutations that leave the function unchanged (alignment). */
  readonly symmetry: Symmetry;
}

/** Lays out state tensors consecutively in the flat vector (trainable unless said). */
export function layoutParams(list: { name: string; shape: number[]; trainable?: boolean }[]): ParamInfo[] {
  let offset = 0;
  return list.map(({ name, shape, trainable }) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const info = { name, shape, offset, size, trainable: trainable ?? true };
    offset += size;
    return info;
  });
}

/** Indices into `model.params` of the trainable parameters. */
export function trainableIndices(model: Model): number[] {
  return model.params.flatMap((p, i) => (p.trainable ? [i] : []));
}

/** Whether the model carries buffers (batch-norm statistics). */
export function hasBuffers(model: Model): boolean {
  return model.params.some((p) => !p.trainable);
}
