/**
 * The Disentangling paper's ViT-like model (App. D): patch-4 embedding, a class token and
 * learned position embeddings, ONE attention block without skip connection and without
 * MLP (pre-norm, 8 heads × 48), a final layer norm and a linear classifier on the class
 * token. The paper fixes the heads (8 × 48, so the attention's inner width is 384) and
 * quotes ≈ 1.08 M parameters, but not the embedding width: the width is the one free size,
 * and 648 is the width that gives the quoted count (1 080 730 on CIFAR-10; 1666 parameters
 * per embedding unit + 1162). The common timm-style 384 (embedding = inner width) gives
 * only 640 906; it stays one option away (--width 384). Token order is row-major over
 * patches, as PyTorch's flatten(2).transpose(1, 2) of the patch convolution.
 */
import * as ag from '../autograd/mod.ts';
import type { Tensor } from '../tensor.ts';
import { ModelBuilder, normalInit } from './builder.ts';
import { imageOf, linear } from './functional/basic.ts';
import { selfAttention } from './functional/attention.ts';
import { conv2d } from './functional/conv.ts';
import { layerNorm } from './functional/norm.ts';
import type { Model } from './model.ts';
import { imageShape, spatialAfter } from './shapes.ts';

export const VIT_PATCH = 4;
export const VIT_HEADS = 8;
export const VIT_HEAD_DIM = 48;
/** The embedding width that reproduces the paper's ≈ 1.08 M on CIFAR-10 (see above). */
export const VIT_WIDTH = 648;

export function vitLite(inputShape: readonly number[], classes: number, width = VIT_WIDTH): Model {
  const [c, h, w] = imageShape(inputShape, 'vit-lite');
  const [ph, pw] = spatialAfter([h, w], [[VIT_PATCH, VIT_PATCH, 0]], 'vit-lite');
  const tokens = ph * pw + 1;
  const inner = VIT_HEADS * VIT_HEAD_DIM;
  const b = new ModelBuilder();
  // PyTorch's state_dict lists a module's own parameters before its children's.
  const [cls] = b.module('', [{ key: 'cls_token', shape: [1, 1, width], init: normalInit(0.02) }]);
  const [pos] = b.module('', [{ key: 'pos_embed', shape: [1, tokens, width], init: normalInit(0.02) }]);
  const patch = b.conv('patch_embed', c, width, VIT_PATCH);
  const norm1 = b.layerNorm('norm1', width);
  const qkv = b.linear('attn.qkv', width, 3 * inner);
  const proj = b.linear('attn.proj', inner, width);
  const norm = b.layerNorm('norm', width);
  const head = b.linear('head', width, classes);
  declareVitSymmetry(b, { cls, pos, patch, norm1, qkv, proj, norm, head }, width);
  // The first layer's product; the forward passes the bias too (the product's fused
  // epilogue: the same bits as adding it after, one pass fewer).
  const first = (x: Tensor, wt: Tensor, bias: Tensor | null = null) =>
    conv2d(imageOf(x, inputShape), wt, bias, 'nchw', { kernel: VIT_PATCH, stride: VIT_PATCH });
  const rest = (ps: readonly Tensor[], z1: Tensor) => {
    const n = z1.shape[0];
    // [N, ph, pw, D] as [N, T−1, D], the class token prepended along the token axis: a copy
    // of each image's tokens, where permuting to token-major and back moved the whole
    // activation four times a step (3 % of vit-lite's step, 2026-12-05). The class rows are
    // broadcast as [1, N, D], so their gradient sums over the same [1, N, D] view as before.
    const patches = ag.reshape(z1, [n, tokens - 1, width]);
    const clsRows = ag.reshape(ag.broadcastTo(ag.reshape(ps[cls], [1, 1, width]), [1, n, width]), [n, 1, width]);
    let t = ag.concatAlong([clsRows, patches], 1);
    t = ag.add(t, ps[pos]);
    t = layerNorm(t, ps[norm1.w], ps[norm1.b]);
    t = selfAttention(t, { qkvWeight: ps[qkv.w], qkvBias: ps[qkv.b!], projWeight: ps[proj.w], projBias: ps[proj.b!] }, VIT_HEADS);
    t = layerNorm(t, ps[norm.w], ps[norm.b]);
    const clsOut = ag.reshape(ag.takeAlong(t, 1, 0, 1), [n, width]);
    return linear(clsOut, ps[head.w], ps[head.b!]);
  };
  return b.build({
    name: 'vit-lite',
    description:
      `ViT-lite: patch ${VIT_PATCH} embedding to ${width}, class token, one attention block (${VIT_HEADS} heads × ${VIT_HEAD_DIM}, no skip, no MLP), layer norms, linear → ${classes}`,
    inputShape,
    classes,
    forward: (ps, x) => rest(ps, first(x, ps[patch.w], ps[patch.b!])),
    firstLayer: { weight: patch.w, bias: patch.b, product: first },
    forwardFromFirst: rest,
  });
}

/**
 * ViT-lite's symmetry. The embedding (cls token, position embedding, patch embedding, the
 * first layer norm, qkv's inputs) is one group: layer norm treats every coordinate alike.
 * With no skip connection, the attention output (proj's outputs, the last layer norm, the
 * head's inputs) is a group of its own. Heads are interchangeable: whole blocks of head
 * dimensions in q, k and v (qkv rows are [3, heads, head dim]) and in proj's columns. Within
 * a head, q and k dimensions may be permuted together (q·kᵀ is unchanged), and v dimensions
 * with proj's columns.
 */
function declareVitSymmetry(
  b: ModelBuilder,
  t: {
    cls: number;
    pos: number;
    patch: { w: number; b: number | null };
    norm1: { w: number; b: number };
    qkv: { w: number; b: number | null };
    proj: { w: number; b: number | null };
    norm: { w: number; b: number };
    head: { w: number; b: number | null };
  },
  width: number,
): void {
  const embed = b.hidden('embedding', width);
  for (
    const [param, axis] of [[t.cls, 2], [t.pos, 2], [t.patch.w, 0], [t.patch.b!, 0], [t.norm1.w, 0], [t.norm1.b, 0], [t.qkv.w, 1]] as const
  ) b.acts(embed, param, axis);
  const out = b.hidden('attention-out', width);
  for (const [param, axis] of [[t.proj.w, 0], [t.proj.b!, 0], [t.norm.w, 0], [t.norm.b, 0], [t.head.w, 1]] as const) {
    b.acts(out, param, axis);
  }
  const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
  const inner = VIT_HEADS * VIT_HEAD_DIM;
  for (let h = 0; h < VIT_HEADS; h++) {
    const qk = b.hidden(`head${h}.qk`, VIT_HEAD_DIM);
    const v = b.hidden(`head${h}.v`, VIT_HEAD_DIM);
    for (const param of [t.qkv.w, t.qkv.b!]) {
      b.acts(qk, param, 0, 1, range(h * VIT_HEAD_DIM, VIT_HEAD_DIM));
      b.acts(qk, param, 0, 1, range(inner + h * VIT_HEAD_DIM, VIT_HEAD_DIM));
      b.acts(v, param, 0, 1, range(2 * inner + h * VIT_HEAD_DIM, VIT_HEAD_DIM));
    }
    b.acts(v, t.proj.w, 1, 1, range(h * VIT_HEAD_DIM, VIT_HEAD_DIM));
  }
  // Declared after the per-head groups: a head's dimensions are permuted where the head
  // is, then the heads move as whole blocks.
  const heads = b.hidden('heads', VIT_HEADS);
  for (let part = 0; part < 3; part++) {
    b.acts(heads, t.qkv.w, 0, VIT_HEAD_DIM, range(part * VIT_HEADS, VIT_HEADS));
    b.acts(heads, t.qkv.b!, 0, VIT_HEAD_DIM, range(part * VIT_HEADS, VIT_HEADS));
  }
  b.acts(heads, t.proj.w, 1, VIT_HEAD_DIM);
}
