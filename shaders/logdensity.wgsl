// FunnelWeb — batched log-density and gradient: one invocation per chain.
// Positions and gradients are block-major vec4 arrays: block j of chain c at j * B + c,
// blocks 0..NV-1 hold z (four groups each) and block NV holds (mu, s, x, 0), x the family
// global (0 without one). Output block NV of `grads` holds (d/dmu, d/ds, d/dx, log p).
//
// Requires: const NV: u32, const WG: u32 (workgroup size); model.wgsl.

struct BatchParams {
  num_chains: u32,
  // Invocations per row of the 2-D dispatch grid (x-groups * WG).
  row_stride: u32,
}

@group(0) @binding(2) var<uniform> batch: BatchParams;
@group(0) @binding(3) var<storage, read> positions: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> grads: array<vec4f>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let chain = gid.y * batch.row_stride + gid.x;
  let B = batch.num_chains;
  if (chain >= B) {
    return;
  }
  var z: array<vec4f, NV>;
  for (var j = 0u; j < NV; j++) { // @unroll
    z[j] = positions[j * B + chain];
  }
  let ms = positions[NV * B + chain];
  let out = log_density_grad(ms.x, ms.y, ms.z, z);
  for (var j = 0u; j < NV; j++) { // @unroll
    grads[j * B + chain] = out.g_z[j];
  }
  grads[NV * B + chain] = vec4f(out.g_mu, out.g_s, out.g_x, out.lp);
}
