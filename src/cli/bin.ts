#!/usr/bin/env node
/** The `funnelweb` command (built to dist/cli/bin.js; `npm run build`). */
import { main } from './main.ts';

// A reader that goes away (`funnelweb sample ... | head`) closes the pipe: what it would have
// printed is dropped, and the run goes on to write its files (an unhandled EPIPE would end
// the process with a stack trace before them).
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
}

process.exitCode = await main(process.argv.slice(2));
