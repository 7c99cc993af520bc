import { defineConfig } from 'vitest/config';

/**
 * Tests that change the machine (loop devices, mounts, tracefs instances, a lab run): root only,
 * one file at a time, after the others.
 */
const SYSTEM = [
  'test/lab/**/*.test.ts',
  'test/capture/scripts.test.ts',
  'test/image/host-chain-live.test.ts',
  'test/table/batch-spill.test.ts',
];

/**
 * Tests that run the oracle tools (blkparse, btt, qemu-img, debugfs, strace, sfdisk, xz, ...),
 * Jupyter and Chromium, or every command over every fixture. `npm run test:unit` leaves them out.
 */
const TOOLS = [
  'test/same-outputs.test.ts',
  'test/safety/fuzz-campaign.test.ts',
  'test/notebooks/{change-a-question,publish-notebooks,user-notebook,every-capture}.test.ts',
  'test/export/interop.test.ts',
  'test/image/{image-map,qcow2-metadata,qcow2-source,partitions}.test.ts',
  'test/ingest-block-text/{blkparse-text,ingest-command}.test.ts',
  'test/ingest-blktrace/blktrace-binary.test.ts',
  'test/block-requests/untraced-getrq.test.ts',
  'test/metrics-btt/btt.test.ts',
  'test/correlate/{host-causes,fs-offset}.test.ts',
  'test/ingest-strace/live.test.ts',
  'test/fs-ext/live.test.ts',
  'test/io/input-stream.test.ts',
];

export default defineConfig({
  test: {
    expect: { requireAssertions: true },
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: [...SYSTEM, ...TOOLS] } },
      { extends: true, test: { name: 'tools', include: TOOLS } },
      { extends: true, test: { name: 'system', include: SYSTEM, fileParallelism: false, sequence: { groupOrder: 1 } } },
    ],
  },
});
