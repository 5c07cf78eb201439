/**
 * The f64 oracle of the neural-network layers (core/nn/functional): each layer written
 * from its definition (PyTorch's documentation) with direct loops over output positions
 * and window offsets — not through im2col, matmul or any of the ops it checks — so a
 * shared mistake in the window machinery cannot hide in both sides. Test-only.
 *
 * Conventions: feature maps are flat row-major arrays. Convolution inputs are read in
 * either layout (`nchw` or `nhwc`, the two our ops accept); every spatial output is NHWC
 * [N, outH, outW, C], the layout our layers return, so results compare element by element.
 */
export type Vec = Float64Array;
export type Layout = 'nchw' | 'nhwc';

/** A window sweep over an [n, c, h, w] input: kernel, stride and zero padding per axis. */
export interface Geometry {
  n: number;
  c: number;
  h: number;
  w: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
}

/** Positions a window of `k` takes along an axis of `size` padded by `p` on both sides. */
export function outExtent(size: number, k: number, s: number, p: number): number {
  // The last start must leave room for the window inside the padded axis: start ≤ size + 2p − k.
  let count = 0;
  for (let start = 0; start + k <= size + 2 * p; start += s) count++;
  return count;
}

export function outDims(g: Geometry): [number, number] {
  return [outExtent(g.h, g.kh, g.sh, g.ph), outExtent(g.w, g.kw, g.sw, g.pw)];
}

/** Flat index of element (b, ch, y, x) of an input in `layout`. */
export function indexOf(layout: Layout, g: Geometry, b: number, ch: number, y: number, x: number): number {
  return layout === 'nchw' ? ((b * g.c + ch) * g.h + y) * g.w + x : ((b * g.h + y) * g.w + x) * g.c + ch;
}

/** The input value under window offset (i, j) of output position (oy, ox), 0 in the padding. */
function tap(
  x: ArrayLike<number>,
  layout: Layout,
  g: Geometry,
  b: number,
  ch: number,
  oy: number,
  ox: number,
  i: number,
  j: number,
): number {
  const y = oy * g.sh - g.ph + i;
  const xx = ox * g.sw - g.pw + j;
  return y < 0 || y >= g.h || xx < 0 || xx >= g.w ? 0 : x[indexOf(layout, g, b, ch, y, xx)];
}

/**
 * nn.Conv2d: out[b, oy, ox, o] = bias[o] + Σ_{ch,i,j} weight[o, ch, i, j] · x(b, ch, oy·s + i − p, ox·s + j − p).
 * weight is [outC, C, kh, kw] (PyTorch's layout); the result is NHWC.
 */
export function conv2d(
  x: ArrayLike<number>,
  layout: Layout,
  g: Geometry,
  weight: ArrayLike<number>,
  outC: number,
  bias: ArrayLike<number> | null,
): Vec {
  const [oh, ow] = outDims(g);
  const out = new Float64Array(g.n * oh * ow * outC);
  for (let b = 0; b < g.n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let o = 0; o < outC; o++) {
          let s = bias ? bias[o] : 0;
          for (let ch = 0; ch < g.c; ch++) {
            for (let i = 0; i < g.kh; i++) {
              for (let j = 0; j < g.kw; j++) {
                s += weight[((o * g.c + ch) * g.kh + i) * g.kw + j] * tap(x, layout, g, b, ch, oy, ox, i, j);
              }
            }
          }
          out[((b * oh + oy) * ow + ox) * outC + o] = s;
        }
      }
    }
  }
  return out;
}

/**
 * A locally connected layer: a convolution with its own kernel at every output position.
 * weight [outC, outH, outW, C, kh, kw], bias [outC, outH, outW]; the result is NHWC.
 */
export function locallyConnected2d(
  x: ArrayLike<number>,
  layout: Layout,
  g: Geometry,
  weight: ArrayLike<number>,
  outC: number,
  bias: ArrayLike<number> | null,
): Vec {
  const [oh, ow] = outDims(g);
  const out = new Float64Array(g.n * oh * ow * outC);
  for (let b = 0; b < g.n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let o = 0; o < outC; o++) {
          const pos = (o * oh + oy) * ow + ox;
          let s = bias ? bias[pos] : 0;
          for (let ch = 0; ch < g.c; ch++) {
            for (let i = 0; i < g.kh; i++) {
              for (let j = 0; j < g.kw; j++) {
                s += weight[((pos * g.c + ch) * g.kh + i) * g.kw + j] * tap(x, layout, g, b, ch, oy, ox, i, j);
              }
            }
          }
          out[((b * oh + oy) * ow + ox) * outC + o] = s;
        }
      }
    }
  }
  return out;
}

/** nn.AvgPool2d on NHWC with count_include_pad (PyTorch's default): window sum / (kh·kw). */
export function avgPool2d(x: ArrayLike<number>, g: Geometry): Vec {
  const [oh, ow] = outDims(g);
  const out = new Float64Array(g.n * oh * ow * g.c);
  for (let b = 0; b < g.n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let ch = 0; ch < g.c; ch++) {
          let s = 0;
          for (let i = 0; i < g.kh; i++) for (let j = 0; j < g.kw; j++) s += tap(x, 'nhwc', g, b, ch, oy, ox, i, j);
          out[((b * oh + oy) * ow + ox) * g.c + ch] = s / (g.kh * g.kw);
        }
      }
    }
  }
  return out;
}

/** nn.MaxPool2d on NHWC: the maximum over the window's positions inside the input (padding never wins, as in PyTorch). */
export function maxPool2d(x: ArrayLike<number>, g: Geometry): Vec {
  const [oh, ow] = outDims(g);
  const out = new Float64Array(g.n * oh * ow * g.c);
  for (let b = 0; b < g.n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let ch = 0; ch < g.c; ch++) {
          let m = -Infinity;
          for (let i = 0; i < g.kh; i++) {
            for (let j = 0; j < g.kw; j++) {
              const y = oy * g.sh - g.ph + i;
              const xx = ox * g.sw - g.pw + j;
              if (y >= 0 && y < g.h && xx >= 0 && xx < g.w) m = Math.max(m, x[indexOf('nhwc', g, b, ch, y, xx)]);
            }
          }
          out[((b * oh + oy) * ow + ox) * g.c + ch] = m;
        }
      }
    }
  }
  return out;
}

/** PyTorch's normalization epsilon and batch-norm momentum. */
export const EPS = 1e-5;
export const MOMENTUM = 0.1;

/** Per-channel statistics of x [..., C] (channels last): mean, biased and unbiased variance. */
export function channelStats(x: ArrayLike<number>, channels: number): { mean: Vec; biasedVar: Vec; unbiasedVar: Vec; count: number } {
  const count = x.length / channels;
  const mean = new Float64Array(channels);
  const biasedVar = new Float64Array(channels);
  const unbiasedVar = new Float64Array(channels);
  for (let ch = 0; ch < channels; ch++) {
    let s = 0;
    for (let r = 0; r < count; r++) s += x[r * channels + ch];
    const mu = s / count;
    let q = 0;
    for (let r = 0; r < count; r++) q += (x[r * channels + ch] - mu) ** 2;
    mean[ch] = mu;
    biasedVar[ch] = q / count;
    unbiasedVar[ch] = q / (count - 1);
  }
  return { mean, biasedVar, unbiasedVar, count };
}

/** y = γ·(x − μ)/√(σ² + ε) + β per channel (channels last), with the given μ and σ². */
function normalizeChannels(
  x: ArrayLike<number>,
  channels: number,
  mean: ArrayLike<number>,
  variance: ArrayLike<number>,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
): Vec {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const ch = i % channels;
    out[i] = (gamma[ch] * (x[i] - mean[ch])) / Math.sqrt(variance[ch] + EPS) + beta[ch];
  }
  return out;
}

/** nn.BatchNorm in training mode: the batch's mean and biased variance normalize. */
export function batchNormTrain(x: ArrayLike<number>, channels: number, gamma: ArrayLike<number>, beta: ArrayLike<number>): Vec {
  const s = channelStats(x, channels);
  return normalizeChannels(x, channels, s.mean, s.biasedVar, gamma, beta);
}

/** nn.BatchNorm in evaluation mode: the running statistics normalize. */
export function batchNormEval(
  x: ArrayLike<number>,
  channels: number,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  runningMean: ArrayLike<number>,
  runningVar: ArrayLike<number>,
): Vec {
  return normalizeChannels(x, channels, runningMean, runningVar, gamma, beta);
}

/**
 * PyTorch's running-statistics update after a training batch:
 * running ← (1 − momentum)·running + momentum·batch, with the unbiased batch variance.
 */
export function runningUpdate(
  runningMean: ArrayLike<number>,
  runningVar: ArrayLike<number>,
  x: ArrayLike<number>,
  channels: number,
  momentum = MOMENTUM,
): { mean: Vec; variance: Vec } {
  const s = channelStats(x, channels);
  const mix = (old: ArrayLike<number>, fresh: Vec) => fresh.map((f, ch) => (1 - momentum) * old[ch] + momentum * f);
  return { mean: mix(runningMean, s.mean), variance: mix(runningVar, s.unbiasedVar) };
}

/** nn.LayerNorm over the last axis (`features` wide), elementwise affine. */
export function layerNorm(x: ArrayLike<number>, features: number, gamma: ArrayLike<number>, beta: ArrayLike<number>): Vec {
  const out = new Float64Array(x.length);
  for (let r = 0; r * features < x.length; r++) {
    let s = 0;
    for (let f = 0; f < features; f++) s += x[r * features + f];
    const mu = s / features;
    let q = 0;
    for (let f = 0; f < features; f++) q += (x[r * features + f] - mu) ** 2;
    const inv = 1 / Math.sqrt(q / features + EPS);
    for (let f = 0; f < features; f++) out[r * features + f] = gamma[f] * (x[r * features + f] - mu) * inv + beta[f];
  }
  return out;
}

export interface AttentionDims {
  n: number;
  t: number;
  d: number;
  heads: number;
  headDim: number;
}

/**
 * timm's Attention: qkv = x·Wᵀ + b viewed as [N, T, 3, heads, headDim] (so feature
 * j = s·heads·headDim + h·headDim + e holds part s ∈ {q, k, v} of head h);
 * per head softmax(q·kᵀ/√headDim)·v, heads concatenated at feature h·headDim + e, then
 * projected: out = merged·projWᵀ + projB. x is [N, T, D]; qkvW [3·heads·headDim, D];
 * projW [D, heads·headDim]. Returns the output and the merged heads (for error bounds).
 */
export function selfAttention(
  x: ArrayLike<number>,
  dims: AttentionDims,
  qkvW: ArrayLike<number>,
  qkvB: ArrayLike<number>,
  projW: ArrayLike<number>,
  projB: ArrayLike<number>,
): { out: Vec; merged: Vec } {
  const { n, t, d, heads, headDim } = dims;
  const inner = heads * headDim;
  const qkvAt = (b: number, tok: number, part: number, h: number, e: number): number => {
    const row = part * inner + h * headDim + e;
    let s = qkvB[row];
    for (let k = 0; k < d; k++) s += qkvW[row * d + k] * x[(b * t + tok) * d + k];
    return s;
  };
  const merged = new Float64Array(n * t * inner);
  const scale = 1 / Math.sqrt(headDim);
  for (let b = 0; b < n; b++) {
    for (let h = 0; h < heads; h++) {
      const q = (tok: number, e: number) => qkvAt(b, tok, 0, h, e);
      const k = (tok: number, e: number) => qkvAt(b, tok, 1, h, e);
      const v = (tok: number, e: number) => qkvAt(b, tok, 2, h, e);
      for (let i = 0; i < t; i++) {
        const scores = Array.from({ length: t }, (_, j) => {
          let s = 0;
          for (let e = 0; e < headDim; e++) s += q(i, e) * k(j, e);
          return s * scale;
        });
        const top = Math.max(...scores);
        const weights = scores.map((s) => Math.exp(s - top));
        const total = weights.reduce((a, c) => a + c, 0);
        for (let e = 0; e < headDim; e++) {
          let s = 0;
          for (let j = 0; j < t; j++) s += (weights[j] / total) * v(j, e);
          merged[(b * t + i) * inner + h * headDim + e] = s;
        }
      }
    }
  }
  const out = new Float64Array(n * t * d);
  for (let r = 0; r < n * t; r++) {
    for (let o = 0; o < d; o++) {
      let s = projB[o];
      for (let j = 0; j < inner; j++) s += projW[o * inner + j] * merged[r * inner + j];
      out[r * d + o] = s;
    }
  }
  return { out, merged };
}

/** Dropout with a given (already scaled) mask: x ⊙ mask. */
export function dropout(x: ArrayLike<number>, mask: ArrayLike<number>): Vec {
  return Float64Array.from(x, (v, i) => v * mask[i]);
}

/** SIREN's activation sin(ω0·x). */
export function sine(x: ArrayLike<number>, omega0 = 30): Vec {
  return Float64Array.from(x, (v) => Math.sin(omega0 * v));
}
