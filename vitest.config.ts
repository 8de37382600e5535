import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Rebuilds dist/ and prebuilds/: its own CI step (scripts/ci-package.sh).
    exclude: ['test/package/**', '**/node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Native work uses the libuv pool and OpenCV threads; two forks keep a 2-core machine busy
    // without oversubscribing it.
    pool: 'forks',
    maxWorkers: 2,
  },
});
