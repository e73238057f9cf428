import type { CleanupReport } from '../../functions/cleanup/document-contract.ts';

/** A report line as docker-cleanup.sh prints it after a real run. */
export function reportLine(overrides: Partial<CleanupReport> = {}): string {
  const report: CleanupReport = {
    v: 1,
    instance: 'i-00000000000000001',
    driver: 'overlay2',
    dryRun: false,
    exitCode: 0,
    status: 'ok',
    freeBytesBefore: 40_000_000_000,
    freeBytesAfter: 52_000_000_000,
    reclaimedBytes: 12_000_000_000,
    trimmedBytes: 0,
    freePercentBefore: 40,
    freePercentAfter: 52,
    minFreePercent: 10,
    freeInodesBefore: 5_000_000,
    freeInodesAfter: 5_100_000,
    metadataFreeBytesBefore: null,
    metadataFreeBytesAfter: null,
    containers: { removed: 37, wouldRemove: 0, skipped: 12, protected: 9, failed: 0 },
    volumes: { removed: 5, wouldRemove: 0, skipped: 1, failed: 0 },
    trim: { enabled: false, runs: 0, wouldRun: 0, skipped: 0, failed: 0, budgetExhausted: false },
    dockerDf: { before: null, after: null },
    errorCount: 0,
    errors: [],
    durationSeconds: 14,
    ...overrides,
  };
  return JSON.stringify(report);
}
