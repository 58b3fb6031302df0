/**
 * Jobs across machines on BullMQ (Redis): `redisRunner` is a coordinator's `JobRunner` that
 * adds a run's jobs as one BullMQ flow (a parent job whose children are the jobs, added
 * atomically) and gathers each child's result as it completes; `startWorker` is what
 * `funnelweb worker` runs: it takes jobs from the queue, one at a time, on its own device.
 *
 * - A job's id is its run's spec key and its shard: a coordinator restarted while workers
 *   still hold a job does not queue it again, and a result already in Redis is taken as is.
 * - A worker killed mid-job: its lock (LOCK_DURATION_MS) expires, BullMQ's stalled-job check
 *   (every STALLED_INTERVAL_MS, by any live worker) puts the job back, and another worker
 *   runs it; the coordinator keeps each shard's first result only.
 * - Payloads are data (`jobs.ts`): a worker validates every job as the CLI validates input
 *   and fails a malformed one at once (no retry), naming the field.
 */
import { FlowProducer, Queue, QueueEvents, UnrecoverableError, Worker, type ConnectionOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { RunError, clip } from '../errors.ts';
import type { Gpu } from '../gpu/device.ts';
import { jobLabel, parseJob, runJob, specKey, type Job } from './jobs.ts';
import { safeUrl } from './url.ts';
import type { JobRunner } from './runner.ts';

/** The queue the jobs go through, and the one their flows' parents wait in. */
export const JOBS_QUEUE = 'funnelweb-jobs';
export const RUNS_QUEUE = 'funnelweb-runs';
/** A worker holds its job's lock this long and renews it at half of it; a killed worker's job is free again after it. */
export const LOCK_DURATION_MS = 10_000;
/** How often workers look for stalled jobs (whose lock expired). */
export const STALLED_INTERVAL_MS = 3_000;
/** Times a job may stall (its worker lost) before it fails. */
export const MAX_STALLED = 3;
/** Attempts of a job that throws (a device lost on one machine may run on another). */
export const JOB_ATTEMPTS = 3;
/** How long Redis keeps a finished job and its result (a coordinator restarted within it takes the result instead of a rerun). */
export const RESULT_TTL_S = 7 * 24 * 3600;
/** Least interval between a worker's progress reports. */
const PROGRESS_EVERY_MS = 500;
/** How long a command waits to reach Redis before it says it cannot. */
export const CONNECT_TIMEOUT_MS = 5_000;

/** A connection to `url` (TLS for rediss://), checked with a PING within CONNECT_TIMEOUT_MS. */
export async function connect(url: URL): Promise<Redis> {
  const client = new Redis(url.href, { maxRetriesPerRequest: null, lazyConnect: true, connectTimeout: CONNECT_TIMEOUT_MS, retryStrategy: (n) => Math.min(1000, 50 * n) });
  let lastError: unknown;
  client.on('error', (e) => (lastError = e));
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timed out')), CONNECT_TIMEOUT_MS).unref());
  try {
    await Promise.race([client.connect().then(() => client.ping()), timeout]);
  } catch (err) {
    client.disconnect();
    const why = (lastError as Error | undefined)?.message ?? (err as Error).message;
    throw new RunError(`cannot reach Redis at ${safeUrl(url)}: ${clip(why, 200)}`);
  }
  return client;
}

/** `connection` options for BullMQ classes: a fresh client per class (workers need their own blocking connections). */
function bullConnection(client: Redis): ConnectionOptions {
  return client;
}

/** The id of a job in the queue: its run's key and its shard. */
export function jobId(job: Job): string {
  const key = specKey(job.spec).slice(0, 24);
  return job.kind === 'sweep-cell' ? `${key}.cell.${job.cell}` : `${key}.${job.shard.param.replace(/[^A-Za-z0-9]+/g, '_')}.${job.shard.first}.${job.shard.count}`;
}

/** A coordinator's runner on the queue at `url`. */
export async function redisRunner(url: URL): Promise<JobRunner> {
  const client = await connect(url);
  const events = new QueueEvents(JOBS_QUEUE, { connection: bullConnection(client.duplicate()) });
  const runs = new Queue(RUNS_QUEUE, { connection: bullConnection(client) });
  const flows = new FlowProducer({ connection: bullConnection(client) });
  await events.waitUntilReady();
  return {
    where: `on BullMQ workers at ${safeUrl(url)}`,
    async run(jobs, hooks) {
      if (jobs.length === 0) return;
      const ids = jobs.map(jobId);
      const index = new Map(ids.map((id, i) => [id, i]));
      const onProgress = ({ jobId: id, data }: { jobId: string; data: unknown }) => {
        const i = index.get(id);
        const p = data as { done?: unknown; total?: unknown };
        if (i !== undefined && typeof p?.done === 'number' && typeof p?.total === 'number') hooks.onProgress?.(i, p.done, p.total);
      };
      events.on('progress', onProgress);
      const parentId = `run.${specKey(jobs[0].spec)}.${process.pid}.${Date.now()}`;
      try {
        const flow = await flows.add({
          name: jobs[0].kind === 'sweep-cell' ? 'sweep' : 'sbc',
          queueName: RUNS_QUEUE,
          data: { key: specKey(jobs[0].spec), jobs: ids.length },
          opts: { jobId: parentId },
          children: jobs.map((job, i) => ({
            name: job.kind,
            queueName: JOBS_QUEUE,
            data: job,
            opts: { jobId: ids[i], attempts: JOB_ATTEMPTS, backoff: { type: 'fixed', delay: 1000 }, removeOnComplete: { age: RESULT_TTL_S }, removeOnFail: { age: RESULT_TTL_S }, ignoreDependencyOnFailure: true },
          })),
        });
        const aborted = new Promise<never>((_, reject) => {
          if (hooks.signal?.aborted) reject(hooks.signal.reason);
          hooks.signal?.addEventListener('abort', () => reject(hooks.signal!.reason), { once: true });
        });
        aborted.catch(() => {});
        await Promise.race([
          aborted,
          Promise.all(
            (flow.children ?? []).map(async (node, i) => {
              // A child already in Redis (an earlier coordinator's) is the node's job too.
              const result: unknown = await node.job.waitUntilFinished(events).catch((err: Error) => {
                throw new RunError(`job ${ids[i]} failed on the workers: ${clip(err.message, 300)}`);
              });
              await hooks.onDone(i, result);
            }),
          ),
        ]);
      } finally {
        events.off('progress', onProgress);
        // The run's parent has done its part (the atomic add); its children and their results stay.
        await runs.remove(parentId, { removeChildren: false }).catch(() => 0);
      }
    },
    async close() {
      await Promise.allSettled([events.close(), flows.close(), runs.close()]);
      client.disconnect();
    },
  };
}

export interface WorkerOptions {
  readonly backend: 'webgpu' | 'cpu';
  readonly gpu?: Gpu;
  /** A line per job started and finished. */
  readonly log?: (line: string) => void;
}

/** Starts a worker on the queue at `url`: jobs one at a time on this process's device. Resolves once it is listening. */
export async function startWorker(url: URL, o: WorkerOptions): Promise<{ close(): Promise<void>; readonly worker: Worker }> {
  const client = await connect(url);
  const worker = new Worker(
    JOBS_QUEUE,
    async (bj) => {
      let job: Job;
      try {
        job = parseJob(bj.data);
      } catch (err) {
        // Malformed data never gets better: fail it now, naming the field.
        throw new UnrecoverableError(err instanceof Error ? err.message : String(err));
      }
      o.log?.(`job ${bj.id}: started (attempt ${bj.attemptsMade + 1}), ${jobLabel(job)}`);
      const t0 = performance.now();
      let last = 0;
      const result = await runJob(job, {
        backend: o.backend,
        ...(o.gpu && { gpu: o.gpu }),
        onProgress: (done, total) => {
          const t = performance.now();
          if (t - last < PROGRESS_EVERY_MS && done < total) return;
          last = t;
          bj.updateProgress({ done, total }).catch(() => {});
        },
      });
      o.log?.(`job ${bj.id}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      return result;
    },
    { connection: bullConnection(client), concurrency: 1, lockDuration: LOCK_DURATION_MS, stalledInterval: STALLED_INTERVAL_MS, maxStalledCount: MAX_STALLED, autorun: true },
  );
  worker.on('failed', (bj, err) => o.log?.(`job ${bj?.id}: failed: ${clip(err.message, 300)}`));
  await worker.waitUntilReady();
  return {
    worker,
    async close() {
      await worker.close();
      client.disconnect();
    },
  };
}
