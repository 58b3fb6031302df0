// FunnelWeb — chain_sum for one thread per chain (TPC = 1): the thread's own sum. A separate
// module, not a branch, so that the kernel holds no barrier (on SwiftShader a barrier
// anywhere in a kernel makes every invocation a coroutine).

fn chain_sum(part: vec4f, li: u32, cw: u32, t: u32, half: u32) -> vec4f {
  return part;
}
