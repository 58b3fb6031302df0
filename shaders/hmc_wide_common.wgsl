// FunnelWeb — what the two wide-model transition kernels share (hmc_wide.wgsl, groups over
// threads in registers; hmc_stream.wgsl, one thread per chain streaming through memory),
// beyond hmc_common.wgsl: their step parameters, the diagonal metric's inverse mass, and the
// lane sums of a block.
//
// Requires: const DIAG_METRIC: bool; block.wgsl (BlockTerms); hmc_common.wgsl; the including
// kernel binds `inv_mass`.

// hmc.wgsl's StepParams header; `row_stride` counts workgroups per row of the grid, and the
// word after `slots` holds K (NV = ceil(K / 4) blocks).
struct StepParams {
  iteration: u32,
  num_iterations: u32,
  num_chains: u32,
  row_stride: u32,
  step_size: f32,
  flags: u32,
  record_slot: u32,
  retained: u32,
  key: vec2u,
  slots: u32,
  num_groups: u32,
  num_steps: array<vec4u, MAX_BATCH / 4u>,
}

fn block_inv_mass(j: u32) -> vec4f {
  if (DIAG_METRIC) {
    return inv_mass[j];
  }
  return vec4f(1.0);
}

// (lp, d/dmu, d/ds, kinetic) partial sums of a block: lanes added.
fn lane_sums(bt: BlockTerms, kin: vec4f) -> vec4f {
  let ones = vec4f(1.0);
  return vec4f(dot(bt.lp, ones), dot(bt.g_mu, ones), dot(bt.g_s, ones), dot(kin, ones));
}
