import { defineConfig } from 'vitest/config';

// The pack/install test (scripts/ci-package.sh): it rebuilds dist/ and prebuilds/ of this
// checkout, so it runs alone, never beside the main suite (vitest.config.ts leaves it out).
export default defineConfig({
  test: {
    include: ['test/package/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 600_000,
    pool: 'forks',
    maxWorkers: 1,
  },
});
