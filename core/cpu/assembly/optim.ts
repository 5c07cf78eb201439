// Optimizer updates with PyTorch semantics, in the order PyTorch applies them (each step
// rounds to f32 as a float32 tensor op would). Every scalar (1 − β, 1 − dampening, bias
// corrections, AdamW's decay factor) arrives formed in f64 on the host
// (core/optim_scalars.ts): none is computed here from an f32-rounded hyperparameter.
// PyTorch's vectorised CPU kernels may fuse a multiply-add, so agreement with PyTorch is
// to rounding, not bit for bit.

export function sgd(
  p: usize, g: usize, buf: usize, n: i32,
  lr: f32, momentum: f32, oneMinusDampening: f32, wd: f32, nesterov: i32, firstStep: i32,
): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    const w = load<f32>(p + o);
    let d = load<f32>(g + o);
    if (wd != 0) d = d + wd * w;
    if (momentum != 0) {
      // torch: buf = clone(d) on the first step, else buf·momentum + (1 − dampening)·d.
      const b = firstStep ? d : load<f32>(buf + o) * momentum + oneMinusDampening * d;
      store<f32>(buf + o, b);
      d = nesterov ? d + momentum * b : b;
    }
    store<f32>(p + o, w - lr * d);
  }
}

export function adam(
  p: usize, g: usize, m: usize, v: usize, n: i32,
  coupledDecay: f32, decoupledFactor: f32, oneMinusBeta1: f32, beta2: f32, oneMinusBeta2: f32, eps: f32,
  stepSize: f32, bias2Sqrt: f32,
): void {
  // torch's lerp(m, d, w) takes the other form for w ≥ 0.5: d − (d − m)(1 − w).
  const lowWeight = oneMinusBeta1 < <f32>0.5;
  const beta1f = <f32>1 - oneMinusBeta1;
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    let w = load<f32>(p + o);
    let d = load<f32>(g + o);
    // AdamW: p.mul_(1 − lr·wd); Adam: g = g + wd·p.
    if (decoupledFactor != 1) w = w * decoupledFactor;
    if (coupledDecay != 0) d = d + coupledDecay * w;
    // torch 2: m.lerp_(d, 1 − β1); v.mul_(β2).addcmul_(d, d, value=1 − β2), i.e. v·β2 + ((1 − β2)·d)·d.
    const m0 = load<f32>(m + o);
    const mi = lowWeight ? m0 + oneMinusBeta1 * (d - m0) : d - (d - m0) * beta1f;
    const vi = load<f32>(v + o) * beta2 + (oneMinusBeta2 * d) * d;
    store<f32>(m + o, mi);
    store<f32>(v + o, vi);
    // torch: denom = sqrt(v) / sqrt(bias_correction2) + eps; p.addcdiv_(m, denom, −step_size).
    const denom = Mathf.sqrt(vi) / bias2Sqrt + eps;
    store<f32>(p + o, w - stepSize * (mi / denom));
  }
}
