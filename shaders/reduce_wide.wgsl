// FunnelWeb — the partial sums of reduce.wgsl for wide models, with code independent of the
// number of blocks (composed after reduce.wgsl; the same outputs as reduce_blocks.wgsl):
//   ensemble_partial: a 2-D grid, x over the T threads (each a strided subset of chains),
//     y over the NB blocks; block 0's threads also sum the per-chain scalars;
//   chees_partial: one thread per strided subset of chains, a loop over each chain's blocks.

@compute @workgroup_size(WGR)
fn ensemble_partial(@builtin(global_invocation_id) gid: vec3u) {
  let B = rp.num_chains;
  let T = rp.num_threads;
  let t = gid.x;
  let j = gid.y;
  if (t >= T || j >= NB) {
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
    let valid = inf.w > 0.5;
    let in_s = valid && a >= MIN_ACCEPT_FOR_GRADIENT;
    f4.w += a;
    f5.x += inf.y;
    f4.x += select(0.0, 1.0, valid);
    f4.z += select(0.0, 1.0 / a, valid);
    f4.y += select(0.0, a, in_s);
    if (MOMENTS) {
      let dq = state[j * B + c] - shift;
      f2 += dq;
      f3 += dq * dq;
    }
    f1 += select(vec4f(0.0), warm[j * B + c], valid);
    f0 += select(vec4f(0.0), a * warm[(NB + j) * B + c], in_s);
  }
  let base = (j * T + t) * FIELDS;
  partial1[base] = f0;
  partial1[base + 1u] = f1;
  partial1[base + 2u] = f2;
  partial1[base + 3u] = f3;
  if (j == 0u) {
    partial1[base + F_SCALARS] = f4;
    partial1[base + F_DIVERGENT] = f5;
  }
  partial1[base + 6u] = shift;
}

@compute @workgroup_size(WGR)
fn chees_partial(@builtin(global_invocation_id) gid: vec3u) {
  let B = rp.num_chains;
  let T = rp.num_threads;
  let t = gid.x;
  if (t >= T) {
    return;
  }
  var acc = 0.0;
  for (var c = t; c < B; c += T) {
    let inf = info[c];
    var d_prop = vec4f(0.0);
    var d_init = vec4f(0.0);
    var dot_v = vec4f(0.0);
    for (var j = 0u; j < NB; j++) {
      let qp = warm[(NB + j) * B + c] - means[j];
      let q0 = warm[j * B + c] - means[NB + j];
      d_prop += qp * qp;
      d_init += q0 * q0;
      dot_v += qp * warm[(2u * NB + j) * B + c];
    }
    let ones = vec4f(1.0);
    let g = inf.x * (dot(d_prop, ones) - dot(d_init, ones)) * dot(dot_v, ones);
    acc += select(0.0, g, inf.w > 0.5 && inf.x >= MIN_ACCEPT_FOR_GRADIENT);
  }
  partial3[t] = vec4f(acc, 0.0, 0.0, 0.0);
}
