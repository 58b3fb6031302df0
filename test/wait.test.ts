import { describe, expect, it } from 'vitest';
import { gpuWait } from '../src/gpu/wait.ts';

describe('gpuWait (Dawn polling throttle)', () => {
  it('throttles setImmediate only while waiting, nested waits included, and restores it', async () => {
    const original = globalThis.setImmediate;
    let inner: typeof setImmediate | undefined;
    let during: typeof setImmediate | undefined;
    await gpuWait(async () => {
      during = globalThis.setImmediate;
      await gpuWait(async () => {
        inner = globalThis.setImmediate;
      });
      // Still throttled: the outer wait is pending.
      expect(globalThis.setImmediate).toBe(during);
    });
    expect(during).not.toBe(original);
    expect(inner).toBe(during);
    expect(globalThis.setImmediate).toBe(original);
  });

  it('runs callbacks with their arguments, lets clearImmediate cancel them, and restores after a rejection', async () => {
    const original = globalThis.setImmediate;
    const seen: number[] = [];
    await gpuWait(async () => {
      const cancelled = setImmediate(() => seen.push(-1));
      clearImmediate(cancelled);
      await new Promise<void>((resolve) => setImmediate((x: number) => (seen.push(x), resolve()), 7));
    });
    expect(seen).toEqual([7]);
    await expect(gpuWait(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(globalThis.setImmediate).toBe(original);
    // A normal immediate still clears outside a wait.
    let ran = false;
    clearImmediate(setImmediate(() => (ran = true)));
    await new Promise((r) => setTimeout(r, 5));
    expect(ran).toBe(false);
  });
});
