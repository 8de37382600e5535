#!/usr/bin/env node
// Entry point of the CLI: the compiled TypeScript lives in dist/ (built by scripts/setup.sh).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'src', 'cli', 'index.js');
if (!existsSync(cli)) {
  console.error('framesift is not built yet: run `bash scripts/setup.sh` (or `npm run build`) in the framesift folder.');
  process.exit(1);
}

// glibc gives each allocating thread an arena (8 per core) and keeps freed memory in it: with
// decode, SIFT, sharp and libuv threads a 60 s 1080p extract peaked at 1.06 GB, 0.44 GB with 2
// arenas, at no measured cost in time. The limit must be in the environment when the process
// starts (Node's own threads have made their arenas before any module runs), so the CLI
// starts itself again with it. A MALLOC_ARENA_MAX of the user's is left alone.
const glibc = process.platform === 'linux' && Boolean(process.report?.getReport().header.glibcVersionRuntime);
if (glibc && process.env.MALLOC_ARENA_MAX === undefined) {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, MALLOC_ARENA_MAX: '2' },
  });
  // Signals sent to this process (Ctrl-C from a terminal reaches both) go to the worker, which
  // stops cleanly; this one only waits for it and exits with its status.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? 128 + ({ SIGINT: 2, SIGTERM: 15, SIGHUP: 1 }[signal] ?? 1)));
  child.on('error', (err) => {
    console.error(`framesift: cannot start: ${err.message}`);
    process.exit(1);
  });
} else {
  const { main } = await import(cli);
  process.exitCode = await main(process.argv.slice(2));
}
