/**
 * A watchdog for each test process: a test whose code never yields (a synchronous loop, a
 * native call that never returns) blocks the runner's own timeouts, and the suite would
 * wait for ever. A worker thread watches a heartbeat that the test thread beats every
 * second; when it has not beaten for FUNNELWEB_WATCHDOG_S (default 420 s, longer than any
 * test's timeout in vitest.config.ts), the worker names the test that was running on
 * stderr and kills the process: that file fails, and the suite goes on.
 */
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, expect } from 'vitest';

const BLOCKED_MS = 1000 * (Number(process.env.FUNNELWEB_WATCHDOG_S) || 420);
const NAME_BYTES = 1024;

interface Watchdog {
  /** [0]: last beat (ms after `start`); [1]: bytes of the running test's name. */
  readonly state: Int32Array;
  readonly name: Uint8Array;
}

/** The watcher's code: it writes straight to fd 2, since a blocked thread relays no worker output. */
const WATCHER = `
const { writeSync } = require('node:fs');
const { workerData } = require('node:worker_threads');
const { state, name, start, blockedMs } = workerData;
setInterval(() => {
  const since = Date.now() - start - Atomics.load(state, 0);
  if (since < blockedMs) return;
  const test = Buffer.from(name.slice(0, Atomics.load(state, 1))).toString('utf8') || '(between tests)';
  writeSync(2, 'watchdog: the test process was blocked for ' + Math.round(since / 1000) + ' s in ' + test + '; killing it\\n');
  process.kill(process.pid, 'SIGKILL');
}, 1000);
`;

/** One watchdog per process, however many test files the process runs. */
function watchdog(): Watchdog {
  const g = globalThis as { __funnelwebWatchdog?: Watchdog };
  if (g.__funnelwebWatchdog) return g.__funnelwebWatchdog;
  const dog: Watchdog = { state: new Int32Array(new SharedArrayBuffer(8)), name: new Uint8Array(new SharedArrayBuffer(NAME_BYTES)) };
  const start = Date.now();
  setInterval(() => Atomics.store(dog.state, 0, Date.now() - start), 1_000).unref();
  new Worker(WATCHER, { eval: true, workerData: { state: dog.state, name: dog.name, start, blockedMs: BLOCKED_MS } }).unref();
  g.__funnelwebWatchdog = dog;
  return dog;
}

const dog = watchdog();

function running(text: string): void {
  const bytes = new TextEncoder().encode(text).subarray(0, NAME_BYTES);
  dog.name.set(bytes);
  Atomics.store(dog.state, 1, bytes.length);
}

beforeEach(() => running(`${expect.getState().testPath ?? ''} > ${expect.getState().currentTestName ?? ''}`));
afterEach(() => running(''));
