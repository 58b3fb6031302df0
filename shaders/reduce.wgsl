// FunnelWeb — reductions over chains of the last transition, for warmup adaptation.
// Barrier-free (workgroup barriers are costly on CPU implementations such as SwiftShader):
// T threads each sum a strided subset of the chains and write their own partial sums,
// which a one-thread-per-block kernel (means) or the host (in float64) then add up.
//
//   ensemble_partial (T threads x (NV+1) grid rows, one block j per row), seven vec4 sums:
//     0: sum_S a_i q'_i   1: sum_V q0_i
//     2: sum (q_i - q_0)  3: sum (q_i - q_0)^2  (current positions, all chains, shifted by chain 0)
//     4: (|V|, sum_S a_i, sum_V 1/a_i, sum a_i)   5: (divergent count, 0, 0, 0)
//     6: the shift (chain 0's position)
//   ensemble_means (one thread per block j): mq' = sum_S a q' / (sum_S a + 1e-20), mq0 = sum_V q0 / |V|;
//     block 0's thread also writes the ensemble totals of fields 4 and 5 (for adapt.wgsl).
//   chees_partial (T threads): sum_S a_i g_i, where (ChEES, Hoffman, Radul & Sountsov 2021,
//     eq. 6 without the jittered length)
//     g_i = (|q'_i - mq'|^2 - |q0_i - mq0|^2) (q'_i - mq') . v'_i,  v' = M^-1 p'.
// V = valid chains (not divergent, finite; info.w), S = {i in V : a_i >= 1e-4}: the masking
// contract of src/adaptation/chees.ts (cheesEnsembleStats is the float64 reference).
//
// Requires: const NV: u32, const WGR: u32 (workgroup size), const MOMENTS: bool (false: fields
// 2, 3 and 6 stay 0 and the current positions are not read; adaptation on the device does
// not use them, only the host's metric windows do).

struct ReduceParams {
  num_chains: u32,
  // Threads T that write partial sums.
  num_threads: u32,
}

const FIELDS: u32 = 7u;
// Partial-sum fields of the scalars (|V|, sum_S a, sum_V 1/a, sum a) and of the divergences.
const F_SCALARS: u32 = 4u;
const F_DIVERGENT: u32 = 5u;
// TFP drops chains with acceptance below this from the ChEES sums.
const MIN_ACCEPT_FOR_GRADIENT: f32 = 1e-4;
// TFP/BlackJAX guard of the acceptance-weighted mean.
const EPS_FLOAT: f32 = 1e-20;

@group(0) @binding(0) var<uniform> rp: ReduceParams;
@group(0) @binding(1) var<storage, read> state: array<vec4f>;
@group(0) @binding(2) var<storage, read> warm: array<vec4f>;
@group(0) @binding(3) var<storage, read> info: array<vec4f>;
// ensemble_partial's output: [(j * T + t) * FIELDS + field].
@group(0) @binding(4) var<storage, read_write> partial1: array<vec4f>;
// chees_partial's output: [t].
@group(0) @binding(5) var<storage, read_write> partial3: array<vec4f>;
// ensemble_means' output: mq' blocks, then mq0 blocks, then the totals of fields 4 and 5.
@group(0) @binding(6) var<storage, read_write> means: array<vec4f>;

@compute @workgroup_size(WGR)
fn ensemble_partial(@builtin(global_invocation_id) gid: vec3u) {
  let B = rp.num_chains;
  let T = rp.num_threads;
  let S = NV + 1u;
  let t = gid.x;
  let j = gid.y;
  if (t >= T) {
    return;
  }
  var shift = vec4f(0.0);
  if (MOMENTS) {
    shift = state[j * B];
  }
  var f0 = vec4f(0.0);
  var f1 = vec4f(0.0);
  var f2 = vec4f(0.0);
  var f3 = vec4f(0.0);
  var f4 = vec4f(0.0);
  var f5 = vec4f(0.0);
  for (var c = t; c < B; c += T) {
    let inf = info[c];
    let a = inf.x;
    if (MOMENTS) {
      let dq = state[j * B + c] - shift;
      f2 += dq;
      f3 += dq * dq;
    }
    f4.w += a;
    f5.x += inf.y;
    if (inf.w > 0.5) {
      f1 += warm[j * B + c];
      f4.x += 1.0;
      f4.z += 1.0 / a;
      if (a >= MIN_ACCEPT_FOR_GRADIENT) {
        f0 += a * warm[(S + j) * B + c];
        f4.y += a;
      }
    }
  }
  let base = (j * T + t) * FIELDS;
  partial1[base] = f0;
  partial1[base + 1u] = f1;
  partial1[base + 2u] = f2;
  partial1[base + 3u] = f3;
  partial1[base + F_SCALARS] = f4;
  partial1[base + F_DIVERGENT] = f5;
  partial1[base + 6u] = shift;
}

@compute @workgroup_size(1)
fn ensemble_means(@builtin(global_invocation_id) gid: vec3u) {
  let T = rp.num_threads;
  let S = NV + 1u;
  let j = gid.x;
  if (j >= S) {
    return;
  }
  var aq = vec4f(0.0);
  var q0 = vec4f(0.0);
  var sc = vec4f(0.0);
  var dv = vec4f(0.0);
  for (var t = 0u; t < T; t++) {
    let base = (j * T + t) * FIELDS;
    aq += partial1[base];
    q0 += partial1[base + 1u];
    sc += partial1[base + F_SCALARS];
    dv += partial1[base + F_DIVERGENT];
  }
  means[j] = aq / (sc.y + EPS_FLOAT);
  means[S + j] = q0 / max(sc.x, 1.0);
  // Every block row holds the same scalar sums (reduced over the same chains).
  if (j == 0u) {
    means[2u * S] = sc;
    means[2u * S + 1u] = dv;
  }
}

@compute @workgroup_size(WGR)
fn chees_partial(@builtin(global_invocation_id) gid: vec3u) {
  let B = rp.num_chains;
  let T = rp.num_threads;
  let S = NV + 1u;
  let t = gid.x;
  if (t >= T) {
    return;
  }
  var acc = 0.0;
  for (var c = t; c < B; c += T) {
    let inf = info[c];
    if (inf.w > 0.5 && inf.x >= MIN_ACCEPT_FOR_GRADIENT) {
      var d_prop = 0.0;
      var d_init = 0.0;
      var dot_v = 0.0;
      for (var j = 0u; j < S; j++) {
        let qp = warm[(S + j) * B + c] - means[j];
        let q0 = warm[j * B + c] - means[S + j];
        d_prop += dot(qp, qp);
        d_init += dot(q0, q0);
        dot_v += dot(qp, warm[(2u * S + j) * B + c]);
      }
      acc += inf.x * (d_prop - d_init) * dot_v;
    }
  }
  partial3[t] = vec4f(acc, 0.0, 0.0, 0.0);
}
