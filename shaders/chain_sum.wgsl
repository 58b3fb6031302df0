// FunnelWeb — sums over the TPC threads of one chain (shaders/hmc_wide.wgsl): a tree in
// workgroup memory, log2(TPC) + 1 barriers. Threads of a workgroup are (t, cw) at local
// index t * CPW + cw (thread t of chain cw), so the threads of one block index are the
// workgroup's chains, side by side in memory. Two halves of `chain_red` alternate between
// consecutive sums (`half` 0 or 1), so one sum's reads finish before the next but one writes.
// Every thread of a chain gets the same bits. Requires const TPC, CPW, WG: u32 (WG = TPC CPW).

var<workgroup> chain_red: array<vec4f, 2u * WG>;

fn chain_sum(part: vec4f, li: u32, cw: u32, t: u32, half: u32) -> vec4f {
  let base = half * WG;
  chain_red[base + li] = part;
  workgroupBarrier();
  for (var w = TPC / 2u; w > 0u; w = w / 2u) {
    if (t < w) {
      chain_red[base + li] += chain_red[base + li + w * CPW];
    }
    workgroupBarrier();
  }
  return chain_red[base + cw];
}
