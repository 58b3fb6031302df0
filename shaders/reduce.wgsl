// FunnelWeb — reductions over chains of the last transition, for warmup adaptation.
// Barrier-free (workgroup barriers are costly on CPU implementations such as SwiftShader):
// T threads each sum a strided subset of the chains and write their own partial sums,
// which a one-thread-per-block kernel (means) or the host (in float64) then add up.
//
//   ensemble_partial (T threads, every block of their chains), seven vec4 sums per block j:
//     0: sum_S a_i q'_i   1: sum_V q0_i
//     2: sum (q_i - q_0)  3: sum (q_i - q_0)^2  (current positions, all chains, shifted by chain 0)
//     4: (|V|, sum_S a_i, sum_V 1/a_i, sum a_i)   5: (divergent count, 0, 0, 0)
//        (per chain, not per block: written in block 0's rows only, 0 in the others)
//     6: the shift (chain 0's position)
//   ensemble_means (one thread per block j): mq' = sum_S a q' / (sum_S a + 1e-20), mq0 = sum_V q0 / |V|
//     (the scalars from block 0's rows); block 0's thread also writes the ensemble totals of
//     fields 4 and 5 (for adapt.wgsl).
//   chees_partial (T threads): sum_S a_i g_i, where (ChEES, Hoffman, Radul & Sountsov 2021,
//     eq. 6 without the jittered length)
//     g_i = (|q'_i - mq'|^2 - |q0_i - mq0|^2) (q'_i - mq') . v'_i,  v' = M^-1 p'.
// V = valid chains (not divergent, finite; info.w), S = {i in V : a_i >= 1e-4}: the masking
// contract of src/adaptation/chees.ts (cheesEnsembleStats is the float64 reference).
//
// Requires: const NV: u32, const NB: u32 = NV + 1 (blocks per chain, with the (mu, s) block),
// const WGR: u32 (workgroup size), const MOMENTS: bool (false: fields
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
  let t = gid.x;
  if (t >= T) {
    return;
  }
  // Every block of a chain in one thread (unrolled: the sums stay in registers), so each
  // chain's info is read once.
  var shift: array<vec4f, NB>;
  var f0: array<vec4f, NB>;
  var f1: array<vec4f, NB>;
  var f2: array<vec4f, NB>;
  var f3: array<vec4f, NB>;
  for (var j = 0u; j < NB; j++) { // @unroll
    shift[j] = vec4f(0.0);
    if (MOMENTS) {
      shift[j] = state[j * B];
    }
    f0[j] = vec4f(0.0);
    f1[j] = vec4f(0.0);
    f2[j] = vec4f(0.0);
    f3[j] = vec4f(0.0);
  }
  var f4 = vec4f(0.0);
  var f5 = vec4f(0.0);
  for (var c = t; c < B; c += T) {
    let inf = info[c];
    let a = inf.x;
    f4.w += a;
    f5.x += inf.y;
    // Selects instead of branches (SwiftShader runs both sides of a branch anyway); a
    // select, not a product with 0, so that an invalid chain's non-finite values stay out.
    let valid = inf.w > 0.5;
    let in_s = valid && a >= MIN_ACCEPT_FOR_GRADIENT;
    f4.x += select(0.0, 1.0, valid);
    f4.z += select(0.0, 1.0 / a, valid);
    f4.y += select(0.0, a, in_s);
    for (var j = 0u; j < NB; j++) { // @unroll
      if (MOMENTS) {
        let dq = state[j * B + c] - shift[j];
        f2[j] += dq;
        f3[j] += dq * dq;
      }
      f1[j] += select(vec4f(0.0), warm[j * B + c], valid);
      f0[j] += select(vec4f(0.0), a * warm[(NB + j) * B + c], in_s);
    }
  }
  for (var j = 0u; j < NB; j++) { // @unroll
    let base = (j * T + t) * FIELDS;
    partial1[base] = f0[j];
    partial1[base + 1u] = f1[j];
    partial1[base + 2u] = f2[j];
    partial1[base + 3u] = f3[j];
    if (j == 0u) {
      partial1[base + F_SCALARS] = f4;
      partial1[base + F_DIVERGENT] = f5;
    }
    partial1[base + 6u] = shift[j];
  }
}

@compute @workgroup_size(1)
fn ensemble_means(@builtin(global_invocation_id) gid: vec3u) {
  let T = rp.num_threads;
  let j = gid.x;
  if (j >= NB) {
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
    sc += partial1[t * FIELDS + F_SCALARS];
    dv += partial1[t * FIELDS + F_DIVERGENT];
  }
  means[j] = aq / (sc.y + EPS_FLOAT);
  means[NB + j] = q0 / max(sc.x, 1.0);
  if (j == 0u) {
    means[2u * NB] = sc;
    means[2u * NB + 1u] = dv;
  }
}

@compute @workgroup_size(WGR)
fn chees_partial(@builtin(global_invocation_id) gid: vec3u) {
  let B = rp.num_chains;
  let T = rp.num_threads;
  let t = gid.x;
  if (t >= T) {
    return;
  }
  // The means, read once into registers.
  var mp: array<vec4f, NB>;
  var m0: array<vec4f, NB>;
  for (var j = 0u; j < NB; j++) { // @unroll
    mp[j] = means[j];
    m0[j] = means[NB + j];
  }
  var acc = 0.0;
  for (var c = t; c < B; c += T) {
    let inf = info[c];
    var d_prop = vec4f(0.0);
    var d_init = vec4f(0.0);
    var dot_v = vec4f(0.0);
    for (var j = 0u; j < NB; j++) { // @unroll
      let qp = warm[(NB + j) * B + c] - mp[j];
      let q0 = warm[j * B + c] - m0[j];
      d_prop += qp * qp;
      d_init += q0 * q0;
      dot_v += qp * warm[(2u * NB + j) * B + c];
    }
    // Chains outside S (invalid, or a < 1e-4) add an exact 0 (a select, not a product, so
    // that their non-finite values cannot leak in).
    let ones = vec4f(1.0);
    let g = inf.x * (dot(d_prop, ones) - dot(d_init, ones)) * dot(dot_v, ones);
    acc += select(0.0, g, inf.w > 0.5 && inf.x >= MIN_ACCEPT_FOR_GRADIENT);
  }
  partial3[t] = vec4f(acc, 0.0, 0.0, 0.0);
}
