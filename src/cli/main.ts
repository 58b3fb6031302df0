import { InputError } from '../model/priors.ts';
import { GpuUnavailableError } from '../gpu/device.ts';

/** Exit code for bad input or usage (issue #3/#4: "clear error and exit code 2"). */
export const EXIT_BAD_INPUT = 2;

/** Exit code when `--backend webgpu` finds no WebGPU adapter (the message says how to get one). */
export const EXIT_NO_GPU = 1;

const USAGE = `funnelweb — batched HMC for hierarchical models on WebGPU

Usage:
  funnelweb sample --data FILE [options]     run ChEES-HMC (see 'funnelweb sample --help')
  funnelweb compare --data FILE --param P --param Q ...   run several parameterizations and rank them
  funnelweb reproduce [--out DIR]            run the seed study and write DIR/report.html
  funnelweb diagnose DRAWS.csv [options]     R-hat/ESS/MCSE summary of any sampler's draws
  funnelweb --help
`;

/** CLI entry: dispatches to a subcommand and returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'sample':
        return await (await import('./sample.ts')).runSample(rest);
      case 'compare':
        return await (await import('./compare.ts')).runCompare(rest);
      case 'reproduce':
        return await (await import('./reproduce.ts')).runReproduce(rest);
      case 'diagnose':
        return await (await import('./diagnose.ts')).runDiagnose(rest);
      case undefined:
      case '-h':
      case '--help':
        process.stdout.write(USAGE);
        return cmd === undefined ? EXIT_BAD_INPUT : 0;
      default:
        throw new InputError('command', `unknown command '${cmd}'\n\n${USAGE}`);
    }
  } catch (err) {
    if (err instanceof InputError) {
      process.stderr.write(`funnelweb: error: ${err.message}\n`);
      return EXIT_BAD_INPUT;
    }
    if (err instanceof GpuUnavailableError) {
      process.stderr.write(`funnelweb: error: ${err.message}\n`);
      return EXIT_NO_GPU;
    }
    if (err instanceof TypeError && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`funnelweb: error: ${err.message}\n`);
      return EXIT_BAD_INPUT;
    }
    throw err;
  }
}
