// FunnelWeb — what every transition kernel shares (hmc.wgsl, the baked kernel; hmc_wide.wgsl
// and hmc_stream.wgsl, the wide ones): the divergence threshold, the record flag, the batch
// size, the warmup step the device adaptation writes, finiteness tests and the momentum
// scale of the diagonal metric.
//
// Requires: const DIAG_METRIC: bool.

// Divergence (Stan's rule): non-finite energy, or energy error H - H0 above this.
const MAX_ENERGY_ERROR: f32 = 1000.0;
const FLAG_RECORD: u32 = 2u;

// Most transitions per chain in one dispatch (sampling batches iterations; warmup runs one,
// since adaptation needs its statistics). The host reads it from StepParams.num_steps (src/sampler/gpu/params.ts).
const MAX_BATCH: u32 = 32u;

// Warmup only: the iteration, step size and leapfrog steps of the transition, written by
// the host (`step`) or by the device adaptation (shaders/adapt.wgsl, the prefix of its
// AdaptState), so that adapted warmup iterations need no host round trip.
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

// Momentum p ~ Normal(0, M) from standard normals: scale 1 / sqrt(im), im the diagonal
// inverse mass of a block.
fn momentum_scale(im: vec4f) -> vec4f {
  if (DIAG_METRIC) {
    return inverseSqrt(im);
  }
  return vec4f(1.0);
}
