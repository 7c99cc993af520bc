import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    expect: { requireAssertions: true },
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // tests that use loop devices and tracefs instances must not run two at once
    fileParallelism: true,
  },
});
