import { defineConfig } from 'vitest/config';

// The JSON report is what .ci/run reads to print its `N passed, N failed` line,
// so it is written on every run of the README's `npm test`.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Vitest runs count - 1 workers by default: one on a 2-core machine, which serialises the
    // E2E files and the script tests (much of their time is spent waiting on child processes).
    maxWorkers: '100%',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default', ['json', { outputFile: 'reports/vitest.json' }]],
    env: {
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      POWERTOOLS_DEV: 'false',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_TRACE_ENABLED: 'false',
      POWERTOOLS_METRICS_NAMESPACE: 'EcsCaretaker',
      // EMF lines would flood the test output; the tests watch addMetric instead.
      POWERTOOLS_METRICS_DISABLED: 'true',
    },
  },
});
