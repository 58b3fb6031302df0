import { readFileSync } from 'node:fs';
import { EXIT_BAD_INPUT, EXIT_RUN_FAILED, InputError, OutputError, RunError, clip } from '../errors.ts';
import { GpuUnavailableError } from '../gpu/device.ts';
import { EXIT_CODES_HELP } from './options.ts';
import { FAMILIES } from '../model/families/index.ts';

export { EXIT_BAD_INPUT } from '../errors.ts';

/** Exit code when `--backend webgpu` finds no WebGPU adapter (the message says how to get one). */
export const EXIT_NO_GPU = EXIT_RUN_FAILED;


const USAGE = `funnelweb — batched HMC for hierarchical models on WebGPU

Usage:
  funnelweb sample --data FILE [options]     run ChEES-HMC (see 'funnelweb help sample'; --likelihood ${FAMILIES.map((f) => f.id).join('|')})
  funnelweb compare --data FILE --param P --param Q ...   run several parameterizations and rank them
  funnelweb reproduce [--out DIR]            run the seed study and write DIR/report.html
  funnelweb diagnose DRAWS.csv [options]     R-hat/ESS/MCSE summary of any sampler's draws
  funnelweb sbc --data DESIGN [options]      simulation-based calibration, many data sets per batch
  funnelweb sweep --grid SPEC --param P ...  which parameterization wins where, over a grid of data sets
  funnelweb worker --queue redis://HOST      run queued jobs (sbc and sweep --queue) on this machine
  funnelweb help [COMMAND]                   this text, or a command's options
  funnelweb --version

${EXIT_CODES_HELP}`;

/** The subcommands and their entry points (loaded on demand). */
const COMMANDS: Record<string, () => Promise<(argv: string[]) => Promise<number>>> = {
  sample: async () => (await import('./sample.ts')).runSample,
  compare: async () => (await import('./compare.ts')).runCompare,
  reproduce: async () => (await import('./reproduce.ts')).runReproduce,
  diagnose: async () => (await import('./diagnose.ts')).runDiagnose,
  sbc: async () => (await import('./sbc.ts')).runSbcCommand,
  sweep: async () => (await import('./sweep.ts')).runSweepCommand,
  worker: async () => (await import('./worker.ts')).runWorker,
};

/** The package's version, from its package.json (two levels above src/cli and dist/cli). */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** CLI entry: dispatches to a subcommand and returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case undefined:
        process.stderr.write(USAGE);
        return EXIT_BAD_INPUT;
      case '-h':
      case '--help':
        process.stdout.write(USAGE);
        return 0;
      case '-V':
      case '--version':
        process.stdout.write(`funnelweb ${packageVersion()}\n`);
        return 0;
      case 'help': {
        if (rest.length === 0) {
          process.stdout.write(USAGE);
          return 0;
        }
        const run = COMMANDS[rest[0]];
        if (!run) throw new InputError('help', `unknown command '${clip(rest[0])}' (commands: ${Object.keys(COMMANDS).join(', ')})`);
        return await (await run())(['--help']);
      }
      default: {
        const run = COMMANDS[cmd];
        if (!run) throw new InputError('command', `unknown command '${clip(cmd)}' (commands: ${Object.keys(COMMANDS).join(', ')}; see 'funnelweb --help')`);
        return await (await run())(rest);
      }
    }
  } catch (err) {
    return reportError(err, argv.includes('--verbose'));
  }
}

/**
 * One line on stderr for an error that ends a command, and its exit code: 2 for bad input,
 * 1 for a failed run (an output not written, a lost device, no adapter). An unexpected error
 * is one line too; its stack only with --verbose.
 */
export function reportError(err: unknown, verbose = false): number {
  const say = (text: string) => process.stderr.write(`funnelweb: error: ${text}\n`);
  if (err instanceof InputError) {
    say(err.message);
    return EXIT_BAD_INPUT;
  }
  if (err instanceof TypeError && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    say(clip(err.message, 200));
    return EXIT_BAD_INPUT;
  }
  if (err instanceof OutputError || err instanceof RunError || err instanceof GpuUnavailableError) {
    say(err.message);
    return EXIT_RUN_FAILED;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  say(`${clip(e.message, 300)} (an internal error: please report it${verbose ? '' : '; --verbose shows where it arose'})`);
  if (verbose && e.stack) process.stderr.write(e.stack + '\n');
  return EXIT_RUN_FAILED;
}
