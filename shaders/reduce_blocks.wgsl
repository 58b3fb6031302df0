// FunnelWeb — the partial sums of reduce.wgsl for narrow models: every block of a chain in
// one thread, the loops over blocks unrolled (NB <= MAX_UNROLL), so the sums stay in
// registers and each chain's info is read once. Composed after reduce.wgsl.

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
