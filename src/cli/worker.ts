import { parseArgs } from 'node:util';
import { InputError, clip } from '../errors.ts';
import { EXIT_CODES_HELP } from './options.ts';
import { AGAIN_TO_QUIT, handleStopSignals } from './signals.ts';
import { deviceFor, type BackendChoice } from '../queue/runner.ts';
import { parseQueueUrl, safeUrl } from '../queue/url.ts';
import { VERBOSE_ENV } from '../gpu/native_env.ts';

const HELP = `funnelweb worker — take jobs (SBC batches) from a BullMQ queue on Redis and run them

Usage: funnelweb worker --queue redis://[user:password@]host[:port][/db] [options]

Runs one job at a time on this machine's device until stopped (Ctrl-C or SIGTERM: the job under
way finishes first; a second signal quits at once, and the queue gives that job to another
worker once its lock expires). Start any number, on any machines that reach the Redis server;
'funnelweb sbc ... --queue URL' hands them the work.

Options:
  --queue URL            redis:// or rediss:// (TLS); a password in the URL is used, never printed
  --backend B            auto | webgpu | cpu (default auto)
  --verbose              let native warnings through to stderr
`;

/** \`funnelweb worker\`: returns the exit code once stopped. */
export async function runWorker(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: { queue: { type: 'string' }, backend: { type: 'string' }, verbose: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n${EXIT_CODES_HELP}`);
    return 0;
  }
  if (values.queue === undefined) throw new InputError('--queue', 'is required (redis://host:port)');
  const url = parseQueueUrl(values.queue);
  const choice = (values.backend ?? 'auto') as BackendChoice;
  if (!['auto', 'webgpu', 'cpu'].includes(choice)) throw new InputError('--backend', `must be auto, webgpu or cpu, got '${clip(String(values.backend))}'`);
  if (values.verbose) process.env[VERBOSE_ENV] = '1';
  const log = (line: string) => process.stderr.write(`funnelweb worker ${process.pid}: ${line}\n`);
  const dev = await deviceFor(choice);
  if (dev.fallbackReason !== undefined) log(`no WebGPU adapter (${dev.fallbackReason}): running on the CPU backend`);
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));
  const stop = handleStopSignals(() => `finishing the job under way, then stopping; ${AGAIN_TO_QUIT}`);
  stop.signal.addEventListener('abort', () => resolveStopped(), { once: true });
  try {
    const { startWorker } = await import('../queue/redis.ts');
    const w = await startWorker(url, { backend: dev.gpu ? 'webgpu' : 'cpu', ...(dev.gpu && { gpu: dev.gpu }), log });
    log(`listening on ${safeUrl(url)} (${dev.gpu ? `webgpu [${dev.gpu.adapter.label}]` : 'cpu'})`);
    await stopped;
    await w.close();
    log('stopped');
    return stop.exitCode;
  } finally {
    stop.dispose();
    dev.gpu?.device.destroy();
  }
}
