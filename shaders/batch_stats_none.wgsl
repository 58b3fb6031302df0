// FunnelWeb — a batch of a family without a global (shaders/batch_hmc.wgsl): no statistics to load.
fn load_family_stats(ds: u32) {}
