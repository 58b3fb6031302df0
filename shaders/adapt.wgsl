// FunnelWeb — ChEES and dual-averaging adaptation on the device, one invocation, after each
// warmup transition and its reductions (reduce.wgsl). It adds the reduction's partial sums,
// updates the step size and trajectory length, and writes the next iteration's leapfrog
// steps, so that warmup iterations run back to back with no readback in between.
// Float32 twin of `update` in src/adaptation/chees.ts and src/adaptation/dual_averaging.ts
// (the float64 reference, which documents the algorithm and cites its sources):
//
//   h = numValid / sum_V 1/a (0 if not finite);  dual averaging with gradient target - h:
//     Hbar = (1 - 1/(t + t0)) Hbar + (target - h)/(t + t0),  log x = mu - sqrt(t)/gamma Hbar
//   g = u T cheesGradient;  Adam (b1 = 0): v = b2 v + (1 - b2) g^2,
//     log T += clip(lr g / (sqrt(v / (1 - b2^k)) + eps), +-0.35)
//   averages with w = n^-decay in log space;  T clipped to [eps, maxSteps eps];
//   L = clamp(ceil(u_next T / eps), 1, maxSteps).
// Non-finite updates are skipped (last good value kept), as in the reference.
//
// Composed after reduce.wgsl (uses its ReduceParams, the ensemble totals that ensemble_means
// writes after the means, and partial3).

struct AdaptState {
  // Used by the next transition (shaders/hmc.wgsl reads the first four).
  step_size: f32,
  trajectory_length: f32,
  num_steps: u32,
  iteration: u32,
  log_step_size_avg: f32,
  log_trajectory_length_avg: f32,
  adam_v: f32,
  adam_step: u32,
  step: u32,
  num_skipped: u32,
  da_log_x: f32,
  da_log_x_avg: f32,
  da_step: u32,
  da_avg_error: f32,
  da_mu: f32,
  da_num_skipped: u32,
}

struct AdaptParams {
  first_iteration: u32,
  count: u32,
  max_steps: u32,
  _pad: u32,
  target_accept: f32,
  learning_rate: f32,
  b2: f32,
  adam_eps: f32,
  decay_rate: f32,
  t0: f32,
  gamma: f32,
  kappa: f32,
  // Jitter u of iterations first .. first + count (count + 1 values): jitter[i / 4][i % 4].
  jitter: array<vec4f, 9>,
}

// Log-space update clip (LOG_UPDATE_CLIP in src/adaptation/chees.ts).
const LOG_UPDATE_CLIP: f32 = 0.35;
// One history row per iteration: step size, T, L, mean acceptance, harmonic mean,
// divergences, valid chains, ChEES gradient.
const HISTORY_FIELDS: u32 = 8u;

@group(0) @binding(7) var<storage, read_write> ad: AdaptState;
@group(0) @binding(8) var<uniform> ap: AdaptParams;
@group(0) @binding(9) var<storage, read_write> history: array<f32>;

fn finite(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7F800000u) != 0x7F800000u;
}

fn jitter_of(iteration: u32) -> f32 {
  let i = iteration - ap.first_iteration;
  return ap.jitter[i / 4u][i % 4u];
}

@compute @workgroup_size(1)
fn adapt() {
  let T = rp.num_threads;
  let sc = means[2u * NB];
  let divergent = means[2u * NB + 1u].x;
  var grad_sum = 0.0;
  for (var t = 0u; t < T; t++) {
    grad_sum += partial3[t].x;
  }
  let num_valid = sc.x;
  var harmonic = num_valid / sc.z;
  if (!finite(harmonic) || num_valid == 0.0) {
    harmonic = 0.0;
  }
  let chees_gradient = grad_sum / (sc.y + 1e-20);
  let it = ad.iteration;
  let u = jitter_of(it);
  let n_chains = f32(rp.num_chains);

  let row = (it - ap.first_iteration) * HISTORY_FIELDS;
  history[row] = ad.step_size;
  history[row + 1u] = ad.trajectory_length;
  history[row + 2u] = f32(ad.num_steps);
  history[row + 3u] = sc.w / n_chains;
  history[row + 4u] = harmonic;
  history[row + 5u] = divergent;
  history[row + 6u] = num_valid;
  history[row + 7u] = chees_gradient;

  // 1. Step size: dual averaging on the harmonic-mean acceptance.
  var step_size = ad.step_size;
  let t = f32(ad.da_step);
  let reg = t + ap.t0;
  let avg_error = (1.0 - 1.0 / reg) * ad.da_avg_error + (ap.target_accept - harmonic) / reg;
  let log_x = ad.da_mu - sqrt(t) / ap.gamma * avg_error;
  let eta = pow(t, -ap.kappa);
  let log_x_avg = eta * log_x + (1.0 - eta) * ad.da_log_x_avg;
  let eps_candidate = exp(log_x);
  if (finite(log_x) && finite(log_x_avg) && finite(avg_error) && finite(eps_candidate) && eps_candidate > 0.0) {
    ad.da_avg_error = avg_error;
    ad.da_log_x = log_x;
    ad.da_log_x_avg = log_x_avg;
    ad.da_step += 1u;
    step_size = eps_candidate;
  } else {
    if (!(finite(log_x) && finite(log_x_avg) && finite(avg_error))) {
      ad.da_num_skipped += 1u;
    }
    ad.num_skipped += 1u;
  }

  // 2. Trajectory length: Adam (b1 = 0) ascent on d ChEES / d log T.
  let log_t = log(ad.trajectory_length);
  var g = 0.0;
  if (num_valid > 0.0) {
    g = u * ad.trajectory_length * chees_gradient;
  }
  let adam_step = ad.adam_step + 1u;
  let adam_v = ap.b2 * ad.adam_v + (1.0 - ap.b2) * g * g;
  let v_hat = adam_v / (1.0 - pow(ap.b2, f32(adam_step)));
  let raw = ap.learning_rate * g / (sqrt(v_hat) + ap.adam_eps);
  var new_log_t = log_t + clamp(raw, -LOG_UPDATE_CLIP, LOG_UPDATE_CLIP);
  if (finite(new_log_t) && finite(adam_v) && finite(raw)) {
    ad.adam_v = adam_v;
    ad.adam_step = adam_step;
  } else {
    new_log_t = log_t;
    ad.num_skipped += 1u;
  }

  // 3. Iterate averaging in log space.
  let w = pow(f32(ad.step), -ap.decay_rate);
  ad.log_step_size_avg = (1.0 - w) * ad.log_step_size_avg + w * log(step_size);
  ad.log_trajectory_length_avg = (1.0 - w) * ad.log_trajectory_length_avg + w * new_log_t;
  ad.step += 1u;

  // 4. Between one step and max_steps steps; the next iteration's leapfrog steps.
  let max_steps = f32(ap.max_steps);
  let traj = clamp(exp(new_log_t), step_size, max_steps * step_size);
  ad.step_size = step_size;
  ad.trajectory_length = traj;
  ad.num_steps = u32(clamp(ceil(jitter_of(it + 1u) * traj / step_size), 1.0, max_steps));
  ad.iteration = it + 1u;
}
