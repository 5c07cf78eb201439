// The naive baseline: one thread per element of C = A·B (row-major N×N), summing k in
// order straight from global memory. Kept as the benchmark reference for wgsl/matmul.wgsl.

struct Params {
  n: u32,
}

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> u: Params;

@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let n = u.n;
  let row = g.y;
  let col = g.x;
  if (row >= n || col >= n) { return; }
  var acc = 0.0;
  for (var k = 0u; k < n; k++) {
    acc += a[row * n + k] * b[k * n + col];
  }
  c[row * n + col] = acc;
}
