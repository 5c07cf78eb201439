/**
 * A kernel's uniform block by field name: the fields of a WGSL `struct …Params` in order,
 * laid out by WGSL's alignment rules, and a packer from named values to the block's bytes.
 *
 * By name because a positional array of words shifts without any error when a field is
 * reordered in the WGSL or a word is added in the wrong place. A `UniformLayout` states the
 * struct once, in the struct's own terms (its WGSL file, name, and fields with WGSL types);
 * test/kernel_params.test.ts parses every `struct …Params` of wgsl/ and fails when a layout
 * differs from it in a name, type, order or offset.
 */
import { RidgelineError } from '../errors.ts';
import type { KernelFamily } from './shaders.ts';

/** The scalar types a uniform block holds (no bool: WGSL forbids it in host-shareable memory). */
export type WgslScalar = 'u32' | 'i32' | 'f32';
/** Field types: a scalar, a vector of scalars, or a fixed-size array of either. */
export type WgslFieldType =
  | WgslScalar
  | `vec${2 | 3 | 4}<${WgslScalar}>`
  | `array<${WgslScalar | `vec${2 | 3 | 4}<${WgslScalar}>`}, ${number}>`;

/** A field's value: a number for a scalar (true/false as 1/0 for an integer flag), a list for the rest. */
export type WgslValue<T extends WgslFieldType> = T extends 'f32' ? number : T extends WgslScalar ? number | boolean : readonly number[];

export interface UniformField {
  readonly name: string;
  readonly type: WgslFieldType;
  /** Byte offset in the block. */
  readonly offset: number;
}

/** Alignment and size in bytes of a type in the uniform address space. */
export interface TypeLayout {
  readonly align: number;
  readonly size: number;
}

const roundUp = (k: number, n: number) => Math.ceil(n / k) * k;

/**
 * The layout of a WGSL type in the uniform address space (WGSL § "Memory Layout"): scalars
 * are 4-byte aligned; vec2 aligns to 8, vec3 and vec4 to 16; an array element's stride is
 * its size rounded up to its alignment, and in a uniform buffer both the array's alignment
 * and that stride must be multiples of 16.
 */
export function wgslTypeLayout(type: string): TypeLayout {
  const t = type.replace(/\s+/g, '');
  if (/^(u32|i32|f32)$/.test(t)) return { align: 4, size: 4 };
  const vec = /^vec([234])<(u32|i32|f32)>$/.exec(t);
  if (vec) {
    const lanes = Number(vec[1]);
    return { align: lanes === 2 ? 8 : 16, size: 4 * lanes };
  }
  const array = /^array<(.+),(\d+)>$/.exec(t);
  if (array) {
    const element = wgslTypeLayout(array[1]);
    const stride = roundUp(element.align, element.size);
    if (stride % 16 !== 0) {
      throw new RidgelineError(
        'E_BACKEND',
        `wgsl: ${type} has an element stride of ${stride} bytes; a uniform array's stride must be a multiple of 16`,
      );
    }
    return { align: roundUp(16, element.align), size: Number(array[2]) * stride };
  }
  throw new RidgelineError('E_BACKEND', `wgsl: ${type} is not a type a uniform layout handles (scalars, vectors and arrays of them)`);
}

/**
 * Offsets of the members of a struct in order, and the struct's size: each member starts at
 * the first multiple of its alignment after the previous one; the size is the end of the
 * last member rounded up to the struct's alignment (its largest member's).
 */
export function wgslStructLayout(members: readonly (readonly [name: string, type: string])[]): { offsets: number[]; size: number } {
  let end = 0;
  let align = 4;
  const offsets = members.map(([, type]) => {
    const layout = wgslTypeLayout(type);
    const offset = roundUp(layout.align, end);
    end = offset + layout.size;
    align = Math.max(align, layout.align);
    return offset;
  });
  return { offsets, size: roundUp(align, end) };
}

/**
 * The word offsets, from a field's start, that the values of a field fill in order: one for
 * a scalar, one per lane for a vector, and an array's elements one after another, each at
 * its stride.
 */
function valueWords(type: string): number[] {
  const t = type.replace(/\s+/g, '');
  const vec = /^vec([234])</.exec(t);
  if (vec) return Array.from({ length: Number(vec[1]) }, (_, lane) => lane);
  const array = /^array<(.+),(\d+)>$/.exec(t);
  if (array) {
    const count = Number(array[2]);
    const strideWords = wgslTypeLayout(t).size / count / 4;
    const element = valueWords(array[1]);
    return Array.from({ length: count }, (_, i) => element.map((w) => i * strideWords + w)).flat();
  }
  return [0];
}

export class UniformLayout<S extends Readonly<Record<string, WgslFieldType>>> {
  /** The fields in declaration order (the order of `spec`'s keys). */
  readonly fields: readonly UniformField[];
  /** The block's size in bytes (a whole number of 4-byte words). */
  readonly bytes: number;
  /** Per field: the scalar type its words hold, and the words its values go to. */
  private readonly slots: readonly { scalar: WgslScalar; words: readonly number[] }[];

  /**
   * @param family the WGSL file (`wgsl/<family>.wgsl`) that declares the struct
   * @param struct the struct's name there
   * @param spec its fields, in the struct's order, with their WGSL types
   */
  constructor(readonly family: KernelFamily, readonly struct: string, spec: S) {
    const members = Object.entries(spec);
    const { offsets, size } = wgslStructLayout(members);
    this.fields = members.map(([name, type], i) => ({ name, type, offset: offsets[i] }));
    this.bytes = size;
    this.slots = members.map(([, type], i) => ({
      scalar: /u32|i32|f32/.exec(type)![0] as WgslScalar,
      words: valueWords(type).map((w) => offsets[i] / 4 + w),
    }));
  }

  /** The block's words for `values` (a list may be shorter than its field; the rest is zero, as is padding). */
  pack(values: { readonly [K in keyof S]: WgslValue<S[K]> }): Uint32Array<ArrayBuffer> {
    const words = new Uint32Array(this.bytes / 4);
    const views = { u32: words, i32: new Int32Array(words.buffer), f32: new Float32Array(words.buffer) };
    this.fields.forEach((field, f) => {
      const { scalar, words: at } = this.slots[f];
      const value = (values as Readonly<Record<string, number | boolean | readonly number[]>>)[field.name];
      const list = typeof value === 'object' ? value : [Number(value)];
      if (list.length > at.length) {
        throw new RidgelineError(
          'E_BACKEND',
          `wgsl/${this.family}.wgsl ${this.struct}.${field.name}: ${list.length} values for a ${field.type}`,
        );
      }
      list.forEach((v, i) => {
        views[scalar][at[i]] = v;
      });
    });
    return words;
  }
}
