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
// The two partial-sum kernels come in two forms, composed after this module:
// reduce_blocks.wgsl (every block of a chain in one thread, unrolled: narrow models) and
// reduce_wide.wgsl (code independent of the number of blocks: wide models).
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
