#!/usr/bin/env node
/** The `funnelweb` command (built to dist/cli/bin.js; `npm run build`). */
import { main } from './main.ts';

process.exitCode = await main(process.argv.slice(2));
