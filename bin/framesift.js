#!/usr/bin/env node
// Entry point of the CLI: the compiled TypeScript lives in dist/ (built by scripts/setup.sh).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'src', 'cli', 'index.js');
if (!existsSync(cli)) {
  console.error('framesift is not built yet: run `bash scripts/setup.sh` (or `npm run build`) in the framesift folder.');
  process.exit(1);
}
const { main } = await import(cli);
process.exitCode = await main(process.argv.slice(2));
