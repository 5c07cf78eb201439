// Optimizer updates with PyTorch semantics, in the order PyTorch applies them (each step
// rounds to f32 as a float32 tensor op would). PyTorch's vectorised CPU kernels may fuse a
// multiply-add, so agreement with PyTorch is to rounding, not bit for bit.

export function sgd(
  p: usize, g: usize, buf: usize, n: i32,
  lr: f32, momentum: f32, dampening: f32, wd: f32, nesterov: i32, firstStep: i32,
): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    const w = load<f32>(p + o);
    let d = load<f32>(g + o);
    if (wd != 0) d = d + wd * w;
    if (momentum != 0) {
      // torch: buf = clone(d) on the first step, else buf·momentum + (1 − dampening)·d.
      const b = firstStep ? d : load<f32>(buf + o) * momentum + (<f32>1 - dampening) * d;
      store<f32>(buf + o, b);
      d = nesterov ? d + momentum * b : b;
    }
    store<f32>(p + o, w - lr * d);
  }
}

export function adam(
  p: usize, g: usize, m: usize, v: usize, n: i32,
  lr: f32, beta1: f32, beta2: f32, eps: f32, wd: f32, decoupled: i32,
  stepSize: f32, bias2Sqrt: f32,
): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    let w = load<f32>(p + o);
    let d = load<f32>(g + o);
    if (wd != 0) {
      if (decoupled) w = w * (<f32>1 - lr * wd);
      else d = d + wd * w;
    }
    // torch: m.lerp_(d, 1 − β1) is m + (1 − β1)(d − m); v.mul_(β2).addcmul_(d, d, 1 − β2).
    const mi = load<f32>(m + o) + (<f32>1 - beta1) * (d - load<f32>(m + o));
    const vi = load<f32>(v + o) * beta2 + (<f32>1 - beta2) * (d * d);
    store<f32>(m + o, mi);
    store<f32>(v + o, vi);
    // torch: denom = sqrt(v) / sqrt(bias_correction2) + eps; p.addcdiv_(m, denom, −step_size).
    const denom = Mathf.sqrt(vi) / bias2Sqrt + eps;
    store<f32>(p + o, w - stepSize * (mi / denom));
  }
}
