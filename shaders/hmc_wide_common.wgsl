// FunnelWeb — what the two wide-model transition kernels share (hmc_wide.wgsl, groups over
// threads in registers; hmc_stream.wgsl, one thread per chain streaming through memory):
// hmc.wgsl's constants and step parameters, finiteness tests, the diagonal metric's
// momentum scale and inverse mass, and the lane sums of a block.
//
// Requires: const DIAG_METRIC: bool; block.wgsl (BlockTerms); the including kernel binds
// `inv_mass`.

const MAX_ENERGY_ERROR: f32 = 1000.0;
const FLAG_RECORD: u32 = 2u;
// Matches MAX_BATCH in hmc.wgsl and src/sampler/gpu_backend.ts.
const MAX_BATCH: u32 = 32u;

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

struct WarmupStep {
  step_size: f32,
  trajectory_length: f32,
  num_steps: u32,
  iteration: u32,
}

fn is_finite(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7F800000u) != 0x7F800000u;
}

fn all_finite(v: vec4f) -> bool {
  return all((bitcast<vec4u>(v) & vec4u(0x7F800000u)) != vec4u(0x7F800000u));
}

fn momentum_scale(im: vec4f) -> vec4f {
  if (DIAG_METRIC) {
    return inverseSqrt(im);
  }
  return vec4f(1.0);
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
