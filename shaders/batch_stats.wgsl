// FunnelWeb — a batch's family global statistics (shaders/batch_hmc.wgsl): lik_global.wgsl's
// FAMILY_STATS, a constant in the single-set kernels, is here the invocation's data set's
// (SetParams.stats), set once at the start of main.
var<private> FAMILY_STATS: vec4f;

fn load_family_stats(ds: u32) {
  FAMILY_STATS = sets[ds].stats;
}
