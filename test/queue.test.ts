/**
 * SBC across machines on BullMQ, against a real Redis (Debian's redis-server, started here on
 * a free port): three `funnelweb worker` processes take the batches, one is SIGKILLed while it
 * runs a batch, and the run still has every batch exactly once, equal to the in-process run;
 * a coordinator restarted on the same queue takes finished results from Redis; a password in
 * the URL works and a wrong one is a clear error; rediss:// (TLS) works with the server's CA
 * trusted; a malformed job is failed by the worker,
 * naming the field, without running.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, funnelweb, ROOT } from './cli_helpers.ts';
import { freePort, REDIS_SERVER, startRedis } from './redis_helpers.ts';

const REDIS = REDIS_SERVER;
const REQUIRED = process.env.FUNNELWEB_REQUIRE_GPU === '1';

interface Worker {
  proc: ChildProcess;
  log: string;
  exit: Promise<number | null>;
}

function startWorker(url: string, env: NodeJS.ProcessEnv = process.env): Promise<Worker> {
  const proc = spawn(process.execPath, ['--import', 'tsx', BIN, 'worker', '--queue', url], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const w: Worker = { proc, log: '', exit: new Promise((res) => proc.on('exit', (code, sig) => res(code ?? (sig ? -1 : null)))) };
  proc.stderr!.on('data', (d) => (w.log += d));
  return new Promise((res, rej) => {
    const t0 = Date.now();
    const poll = setInterval(() => {
      if (w.log.includes('listening')) {
        clearInterval(poll);
        res(w);
      } else if (Date.now() - t0 > 60_000) {
        clearInterval(poll);
        rej(new Error(`worker did not start: ${w.log}`));
      }
    }, 50);
  });
}

/** `funnelweb ARGS` with another environment. */
function funnelwebEnv(args: string[], env: NodeJS.ProcessEnv, timeout = 120_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', BIN, ...args], { cwd: ROOT, env, timeout }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: unknown }).code as number | null) : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
}

const read = (dir: string) => JSON.parse(readFileSync(join(dir, 'sbc.json'), 'utf8'));

describe.skipIf(!existsSync(REDIS) && !REQUIRED)('sbc on BullMQ workers (real redis-server)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'funnelweb-queue-'));
  let redis: Awaited<ReturnType<typeof startRedis>>;
  beforeAll(async () => {
    redis = await startRedis(dir);
  });
  afterAll(() => {
    redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const ARGS = ['sbc', '--data', 'demo/data/weak.json', '--sims', '256', '--chains', '64', '--warmup', '100', '--draws', '50', '--param', 'noncentered', '--param', 'centered', '--quiet'];

  it('three workers, one SIGKILLed mid-batch: every batch once, equal to the in-process run; a restarted coordinator takes the results from Redis', async () => {
    const local = await funnelweb([...ARGS, '--out', join(dir, 'local')], 200_000);
    expect(local.code, local.stderr).toBe(0);

    const workers = await Promise.all([0, 1, 2].map(() => startWorker(redis.url)));
    const coord = funnelweb([...ARGS, '--queue', redis.url, '--out', join(dir, 'queued')], 200_000);
    // Kill the first worker seen running a batch, while it runs it.
    let victim: Worker | undefined;
    let victimJob = '';
    const t0 = Date.now();
    while (!victim) {
      victim = workers.find((w) => /started/.test(w.log));
      if (Date.now() - t0 > 60_000) throw new Error('no worker started a batch');
      if (!victim) await new Promise((r) => setTimeout(r, 20));
    }
    victimJob = /job (\S+): started/.exec(victim.log)![1];
    expect(victim.log).not.toMatch(new RegExp(`job ${victimJob.replace(/\./g, '\\.')}: done`));
    victim.proc.kill('SIGKILL');
    expect(await victim.exit).toBe(-1);

    const run = await coord;
    expect(run.code, run.stderr).toBe(0);
    // Its batch was run again by another worker (the stalled-job check put it back).
    const others = workers.filter((w) => w !== victim);
    expect(others.some((w) => w.log.includes(`job ${victimJob}: done`))).toBe(true);
    // 8 batches (2 parameterizations x 4 of 64 simulations), each kept once.
    const shards = readdirSync(join(dir, 'queued', 'shards'));
    expect(shards.length).toBe(8);
    expect(new Set(shards).size).toBe(8);
    const q = read(join(dir, 'queued'));
    const l = read(join(dir, 'local'));
    expect(q.fits.length).toBe(512);
    expect(new Set(q.fits.map((f: { param: string; sim: number }) => `${f.param}:${f.sim}`)).size).toBe(512);
    expect(q.results).toEqual(l.results);
    expect(q.fits).toEqual(l.fits);
    expect(q.sbc.runner).toMatch(/BullMQ workers at redis:\/\/127\.0\.0\.1/);

    // A second coordinator of the same run (another --out): every result is already in Redis.
    const again = await funnelweb([...ARGS, '--queue', redis.url, '--out', join(dir, 'again')], 60_000);
    expect(again.code, again.stderr).toBe(0);
    expect(read(join(dir, 'again')).results).toEqual(l.results);
    for (const w of others) expect(w.log.match(/: started/g)!.length).toBeGreaterThan(0);

    // SIGTERM: a worker finishes (here: has no) batch and exits with 128 + 15.
    for (const w of others) w.proc.kill('SIGTERM');
    for (const w of others) expect(await w.exit).toBe(143);
  }, 300_000);

  it('a malformed job is failed by the worker, naming the field, and never run; a job of unknown kind too', async () => {
    const w = await startWorker(redis.url);
    const queue = new Queue('funnelweb-jobs', { connection: { host: '127.0.0.1', port: redis.port } });
    const events = new QueueEvents('funnelweb-jobs', { connection: { host: '127.0.0.1', port: redis.port } });
    await events.waitUntilReady();
    try {
      const spec = { design: { name: 'x.json', format: 'json', text: '{"y":[1,2],"idx":[0,1],"sigma":1}' }, params: ['noncentered'], sims: 4, chains: 64, warmup: 10, draws: 10, seed: 1, muPrior: 'normal:0,5', tauPrior: 'halfnormal:5', simMuPrior: 'normal:0,5', simTauPrior: 'halfnormal:5' };
      const bad = await queue.add('sbc-shard', { kind: 'sbc-shard', spec: { ...spec, chains: 'lots' }, shard: { param: 'noncentered', first: 0, count: 4 } }, { attempts: 3 });
      await expect(bad.waitUntilFinished(events, 30_000)).rejects.toThrow(/job\.spec\.chains/);
      const evil = await queue.add('x', { kind: 'eval', code: 'process.exit(1)' }, { attempts: 3 });
      await expect(evil.waitUntilFinished(events, 30_000)).rejects.toThrow(/job\.kind/);
      // Failed at once: no retries of data that cannot get better.
      expect((await queue.getJob(bad.id!))!.attemptsMade).toBe(1);
      expect(w.log).not.toMatch(/started/);
    } finally {
      await events.close();
      await queue.close();
      w.proc.kill('SIGTERM');
      await w.exit;
    }
  }, 120_000);

  it('a password in the URL is used; a wrong one, or no server, is a clear error (exit 1), nothing written', async () => {
    const secured = await startRedis(dir, ['--requirepass', 's3cret']);
    try {
      const w = await startWorker(`redis://:s3cret@127.0.0.1:${secured.port}`);
      expect(w.log).not.toContain('s3cret');
      const ok = await funnelweb(['sbc', '--data', 'demo/data/weak.json', '--sims', '64', '--chains', '16', '--warmup', '50', '--draws', '50', '--quiet', '--queue', `redis://:s3cret@127.0.0.1:${secured.port}`, '--out', join(dir, 'pw')], 120_000);
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toContain('redis://:***@127.0.0.1');
      expect(ok.stdout).not.toContain('s3cret');
      w.proc.kill('SIGTERM');
      await w.exit;
      const wrong = await funnelweb(['sbc', '--data', 'demo/data/weak.json', '--sims', '64', '--queue', `redis://:nope@127.0.0.1:${secured.port}`, '--out', join(dir, 'pw-wrong')], 60_000);
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toMatch(/cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1.*(WRONGPASS|invalid|NOAUTH)/i);
      expect(existsSync(join(dir, 'pw-wrong', 'sbc.json'))).toBe(false);
    } finally {
      secured.stop();
    }
    const port = await freePort();
    const none = await funnelweb(['worker', '--queue', `redis://127.0.0.1:${port}`], 60_000);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/cannot reach Redis at redis:\/\/127\.0\.0\.1/);
    const bad = await funnelweb(['sbc', '--data', 'demo/data/weak.json', '--queue', 'http://example.org'], 30_000);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--queue/);
  }, 200_000);

  it('rediss:// (TLS): works with the server\'s CA trusted (NODE_EXTRA_CA_CERTS), and an untrusted certificate is a clear error', async () => {
    const cert = join(dir, 'tls.crt');
    const key = join(dir, 'tls.key');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const tls = await startRedis(dir, [], { cert, key });
    const url = tls.url;
    const env = { ...process.env, NODE_EXTRA_CA_CERTS: cert };
    try {
      const w = await startWorker(url, env);
      const ok = await funnelwebEnv(['sbc', '--data', 'demo/data/weak.json', '--sims', '64', '--chains', '16', '--warmup', '50', '--draws', '50', '--quiet', '--queue', url, '--out', join(dir, 'tls')], env);
      expect(ok.code, ok.stderr).toBe(0);
      expect(w.log).toMatch(/done in/);
      w.proc.kill('SIGTERM');
      await w.exit;
      const untrusted = await funnelweb(['sbc', '--data', 'demo/data/weak.json', '--queue', url, '--out', join(dir, 'tls-untrusted')], 60_000);
      expect(untrusted.code).toBe(1);
      expect(untrusted.stderr).toMatch(/cannot reach Redis at rediss:\/\/127\.0\.0\.1.*(certificate|self.signed)/i);
    } finally {
      tls.stop();
    }
  }, 200_000);
});
