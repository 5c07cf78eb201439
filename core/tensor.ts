/**
 * Tensors: an f32 device buffer plus a shape, and the bookkeeping that frees buffers.
 *
 * Device memory is not garbage-collected (WASM linear memory, GPU buffers), so tensors are
 * freed explicitly. `tidy(fn)` frees every tensor created inside `fn` except those it
 * returns (moved to the enclosing scope); `keep(t)` exempts a tensor from its scope.
 * Storage is reference-counted so that reshapes share a buffer without copying.
 */
import type { Backend, Buf } from './backend.ts';
import type { GradNode } from './autograd/record.ts';
import { argError, RidgelineError, shapeError } from './errors.ts';
import { type Shape, sizeOf } from './shape.ts';

class Storage {
  refs = 1;
  constructor(readonly backend: Backend, readonly buf: Buf) {}
  release(): void {
    if (--this.refs === 0) this.backend.free(this.buf);
  }
}

type Scope = Set<Tensor>;
const scopes: Scope[] = [];

export class Tensor {
  readonly shape: Shape;
  readonly size: number;
  /** Set by ops while gradients are being recorded: how this tensor was made. */
  node: GradNode | null = null;
  /** Leaves (parameters) for which gradients are wanted. */
  requiresGrad = false;
  private storage: Storage | null;

  /** @internal Use the creation functions below or the ops. */
  constructor(storage: Storage, shape: Shape) {
    this.storage = storage;
    this.shape = shape;
    this.size = sizeOf(shape);
    scopes[scopes.length - 1]?.add(this);
  }

  get backend(): Backend {
    return this.live().backend;
  }

  get buf(): Buf {
    return this.live().buf;
  }

  get disposed(): boolean {
    return this.storage === null;
  }

  private live(): Storage {
    if (!this.storage) throw new RidgelineError('E_STATE', `tensor [${this.shape.join(', ')}] used after dispose`);
    return this.storage;
  }

  /** A tensor of another shape over the same buffer (no copy). */
  withShape(shape: Shape): Tensor {
    if (sizeOf(shape) !== this.size) shapeError('reshape', `cannot reshape ${this.size} elements`, this.shape, shape);
    const s = this.live();
    s.refs++;
    return new Tensor(s, shape);
  }

  /** Reads the values back (waits for queued kernels on WebGPU). */
  async data(): Promise<Float32Array> {
    const all = await this.backend.download(this.buf);
    return all.length === this.size ? all : all.subarray(0, this.size);
  }

  dispose(): void {
    if (!this.storage) return;
    this.storage.release();
    this.storage = null;
    this.node = null;
  }
}

/** Allocation statistics gathered by `measureAllocations`, or null when nobody asks. */
let allocationProbe: { largest: number; total: number } | null = null;

/** Allocates an uninitialised tensor (kernels write every element before it is read). */
export function empty(backend: Backend, shape: Shape): Tensor {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) argError('tensor', `invalid shape [${shape.join(', ')}]`);
  }
  const size = sizeOf(shape);
  if (allocationProbe) {
    allocationProbe.largest = Math.max(allocationProbe.largest, size);
    allocationProbe.total += size;
  }
  return new Tensor(new Storage(backend, backend.alloc(size)), [...shape]);
}

/** The largest single tensor and the sum of all tensors (in floats) that `fn` allocates. */
export function measureAllocations(fn: () => void): { largest: number; total: number } {
  const saved = allocationProbe;
  const probe = { largest: 0, total: 0 };
  allocationProbe = probe;
  try {
    fn();
  } finally {
    allocationProbe = saved;
  }
  return probe;
}

export function fromArray(backend: Backend, data: ArrayLike<number>, shape: Shape): Tensor {
  if (data.length !== sizeOf(shape)) {
    shapeError('tensor', `${data.length} values do not fill the shape`, [data.length], shape);
  }
  const t = empty(backend, shape);
  backend.upload(t.buf, data instanceof Float32Array ? data : Float32Array.from(data));
  return t;
}

export function full(backend: Backend, shape: Shape, value: number): Tensor {
  const t = empty(backend, shape);
  backend.fill(t.buf, value);
  return t;
}

export function zeros(backend: Backend, shape: Shape): Tensor {
  return full(backend, shape, 0);
}

/** Values that can hold tensors: what `tidy` inspects to decide what survives. */
export type TensorContainer =
  | Tensor
  | readonly TensorContainer[]
  | { readonly [k: string]: TensorContainer }
  | number
  | string
  | boolean
  | null
  | undefined
  | void;

function collect(value: unknown, into: Set<Tensor>): void {
  if (value instanceof Tensor) into.add(value);
  else if (Array.isArray(value)) { for (const v of value) collect(v, into); }
  else if (value && typeof value === 'object' && !ArrayBuffer.isView(value)) {
    for (const v of Object.values(value)) collect(v, into);
  }
}

/**
 * Runs `fn` in a scope: tensors it creates are disposed when it returns, except those in
 * its result (which move to the enclosing scope) and those passed to `keep`.
 * Async functions are not supported: a scope must not span an `await`.
 */
export function tidy<T>(fn: () => T): T {
  const scope: Scope = new Set();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    for (const t of scope) t.dispose();
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise) argError('tidy', 'the function must be synchronous');
  const survivors = new Set<Tensor>();
  collect(result, survivors);
  const parent = scopes[scopes.length - 1];
  for (const t of scope) {
    if (survivors.has(t)) parent?.add(t);
    else t.dispose();
  }
  return result;
}

/** Exempts `t` from every enclosing scope; the caller disposes it. */
export function keep<T extends Tensor>(t: T): T {
  for (const s of scopes) s.delete(t);
  return t;
}
