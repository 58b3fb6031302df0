/** A real Redis for the queue tests and benchmarks: Debian's redis-server on a free port, no persistence. */
import { spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';

export const REDIS_SERVER = '/usr/bin/redis-server';

/** A TCP port nothing listens on now (127.0.0.1). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

/** Waits until something accepts connections on `port` (at most `ms`). */
async function listening(port: number, ms = 10_000): Promise<void> {
  for (const t0 = Date.now(); ; ) {
    const up = await new Promise<boolean>((res) => {
      const c = connect(port, '127.0.0.1', () => (c.end(), res(true)));
      c.on('error', () => res(false));
    });
    if (up) return;
    if (Date.now() - t0 > ms) throw new Error(`nothing listens on port ${port} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A redis-server on a free port of 127.0.0.1, its files in `dir`, started with `extra`
 * arguments; with `tls`, TLS only (that certificate and key; clients need not authenticate).
 * `stop` kills it.
 */
export async function startRedis(dir: string, extra: readonly string[] = [], tls?: { cert: string; key: string }): Promise<{ url: string; port: number; stop(): void }> {
  const port = await freePort();
  const ports = tls ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', tls.cert, '--tls-key-file', tls.key, '--tls-ca-cert-file', tls.cert, '--tls-auth-clients', 'no'] : ['--port', String(port)];
  const p = spawn(REDIS_SERVER, [...ports, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extra], { stdio: 'ignore' });
  try {
    await listening(port);
  } catch (err) {
    p.kill('SIGKILL');
    throw err;
  }
  return { url: `${tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`, port, stop: () => p.kill('SIGKILL') };
}
