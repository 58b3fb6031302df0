/**
 * Where jobs run. `JobRunner` is what a coordinator (`sbc`, `sweep`) needs of a queue: run
 * these jobs, say each result as it arrives and how far each job is. The default,
 * `localRunner`, runs them one after another in this process on one device; `redis.ts` hands
 * them to `funnelweb worker` processes through BullMQ.
 */
import { requestGpu, type Gpu } from '../gpu/device.ts';
import { runJob, type Job } from './jobs.ts';

export interface RunHooks {
  /** A job's result (called once per job, in any order; awaited before the job counts as done). From a queue it is untrusted data: the coordinator checks it. */
  onDone(index: number, result: unknown): Promise<void> | void;
  /** A job's progress: iterations done of its total. */
  onProgress?(index: number, done: number, total: number): void;
  readonly signal?: AbortSignal;
}

export interface JobRunner {
  /** Where the jobs run, for messages and reports. */
  readonly where: string;
  run(jobs: readonly Job[], hooks: RunHooks): Promise<void>;
  close(): Promise<void>;
}

/** The backend a process asks for: auto (WebGPU, else the CPU), webgpu, or cpu. */
export type BackendChoice = 'auto' | 'webgpu' | 'cpu';

/** The device for `choice`: a GPU, or none (the CPU backend) with the reason when auto fell back. */
export async function deviceFor(choice: BackendChoice): Promise<{ gpu?: Gpu; fallbackReason?: string }> {
  if (choice === 'cpu') return {};
  try {
    return { gpu: await requestGpu() };
  } catch (err) {
    if (choice !== 'auto' || (err as Error).name !== 'GpuUnavailableError') throw err;
    const reason = (err as { reason?: unknown }).reason;
    return { fallbackReason: typeof reason === 'string' ? reason : (err as Error).message };
  }
}

/** Runs jobs one after another in this process, on one device acquired once. */
export async function localRunner(choice: BackendChoice, gpu?: Gpu): Promise<JobRunner & { readonly fallbackReason?: string; readonly gpu?: Gpu }> {
  const dev = gpu ? { gpu } : await deviceFor(choice);
  const backend = dev.gpu ? 'webgpu' : 'cpu';
  return {
    where: `in-process, ${backend}${dev.gpu ? ` [${dev.gpu.adapter.label}]` : ''}`,
    ...(dev.fallbackReason !== undefined && { fallbackReason: dev.fallbackReason }),
    ...(dev.gpu && { gpu: dev.gpu }),
    async run(jobs, hooks) {
      for (const [i, job] of jobs.entries()) {
        hooks.signal?.throwIfAborted();
        const result = await runJob(job, {
          backend,
          ...(dev.gpu && { gpu: dev.gpu }),
          onProgress: (d, t) => hooks.onProgress?.(i, d, t),
          ...(hooks.signal && { signal: hooks.signal }),
        });
        await hooks.onDone(i, result);
      }
    },
    async close() {
      if (dev.gpu && !gpu) dev.gpu.device.destroy();
    },
  };
}
