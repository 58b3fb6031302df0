/**
 * Waiting on the GPU without stealing its CPU.
 *
 * Dawn's Node bindings (the `webgpu` package, `AsyncRunner`) resolve `mapAsync` and
 * `onSubmittedWorkDone` by re-queueing a `setImmediate` callback that calls
 * `ProcessEvents` for as long as any such promise is pending: a busy loop holding one CPU
 * core. On a software adapter (SwiftShader) that core is taken from the GPU work itself;
 * on a 2-core machine every FunnelWeb iteration ran about 1.8x slower because of it.
 * The binding looks `setImmediate` up on the global object at every tick, so while
 * FunnelWeb waits on the GPU, {@link gpuWait} makes `setImmediate` a 0 ms timer (Node
 * clamps it to 1 ms): the binding then polls about once a millisecond. Other callers see
 * their immediates delayed by at most a millisecond during such waits; `clearImmediate`
 * keeps working on both kinds of handle. In the browser this is a plain `await`.
 */

type Immediate = (callback: (...args: unknown[]) => void, ...args: unknown[]) => unknown;

let depth = 0;
let saved: { setImmediate: Immediate; clearImmediate: (handle: unknown) => void } | undefined;
const timers = new WeakSet<object>();

const throttledSetImmediate: Immediate = (callback, ...args) => {
  const handle = setTimeout(callback, 0, ...args);
  timers.add(handle);
  return handle;
};

const throttledClearImmediate = (handle: unknown): void => {
  if (typeof handle === 'object' && handle !== null && timers.has(handle)) clearTimeout(handle as ReturnType<typeof setTimeout>);
  else saved?.clearImmediate(handle);
};

function inNode(): boolean {
  return typeof process !== 'undefined' && !!process.versions?.node && typeof globalThis.setImmediate === 'function';
}

/** Awaits a GPU operation (`mapAsync`, `onSubmittedWorkDone`, ...) with Dawn's polling throttled. */
export async function gpuWait<T>(op: () => Promise<T>): Promise<T> {
  if (!inNode()) return op();
  const g = globalThis as unknown as { setImmediate: Immediate; clearImmediate: (handle: unknown) => void };
  if (depth++ === 0) {
    saved = { setImmediate: g.setImmediate, clearImmediate: g.clearImmediate };
    g.setImmediate = throttledSetImmediate;
    g.clearImmediate = throttledClearImmediate;
  }
  try {
    return await op();
  } finally {
    if (--depth === 0 && saved) {
      // Restore only what is still ours (someone else may have replaced it meanwhile).
      if (g.setImmediate === throttledSetImmediate) g.setImmediate = saved.setImmediate;
      if (g.clearImmediate === throttledClearImmediate) g.clearImmediate = saved.clearImmediate;
      saved = undefined;
    }
  }
}
