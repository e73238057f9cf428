/**
 * The contract between the cleanup function and the SSM document that runs
 * infra/ssm/docker-cleanup.sh on the instances: the document's parameters
 * (what plan.ts sends), the script's exit codes and the JSON report line it
 * prints (what report.ts reads). The function owns it; infra/ssm-document.ts
 * builds the document from it.
 */

/** The exit codes documented in the script's header. */
export const CLEANUP_EXIT_CODES = {
  ok: 0,
  internalError: 1,
  usage: 2,
  dockerUnresponsive: 10,
  introspectionUnavailable: 11,
  cleanupErrors: 12,
  lowSpace: 13,
  locked: 14,
} as const;

export type CleanupStatus =
  | 'ok'
  | 'usage'
  | 'docker-unresponsive'
  | 'introspection-unavailable'
  | 'cleanup-errors'
  | 'low-space'
  | 'locked'
  | 'terminated'
  | 'internal-error';

export interface DockerDfSizes {
  images: number | null;
  containers: number | null;
  volumes: number | null;
  buildCache: number | null;
}

/**
 * The one JSON line the script prints. Fields it could not measure are null.
 * Should the line ever exceed 2,000 characters with no error message left to
 * drop, the script prints only `{v, instance, exitCode, status, errorCount,
 * truncated: true}` instead.
 */
export interface CleanupReport {
  v: 1;
  instance: string;
  driver: string;
  dryRun: boolean;
  exitCode: number;
  status: CleanupStatus;
  freeBytesBefore: number | null;
  freeBytesAfter: number | null;
  /** Never negative: tasks that write while we clean do not count against us. */
  reclaimedBytes: number | null;
  trimmedBytes: number | null;
  /** The lowest of the measured dimensions: data and metadata (devicemapper), bytes and inodes (others). */
  freePercentBefore: number | null;
  freePercentAfter: number | null;
  minFreePercent: number | null;
  freeInodesBefore: number | null;
  freeInodesAfter: number | null;
  metadataFreeBytesBefore: number | null;
  metadataFreeBytesAfter: number | null;
  containers: { removed: number; wouldRemove: number; skipped: number; protected: number; failed: number };
  volumes: { removed: number; wouldRemove: number; skipped: number; failed: number };
  trim: { enabled: boolean; runs: number; wouldRun: number; skipped: number; failed: number; budgetExhausted: boolean };
  dockerDf: { before: DockerDfSizes | null; after: DockerDfSizes | null };
  errorCount: number;
  /** The first messages (at most 5, of at most 200 characters each) that fit in the line; errorCount says how many errors there were. */
  errors: string[];
  durationSeconds: number;
}

interface DocumentParameter {
  type: 'String';
  description: string;
  default: string;
  allowedPattern: string;
  allowedValues?: string[];
}

/**
 * Every pattern admits neither quotes nor whitespace nor shell syntax, which is
 * what makes the single-quoted `export` lines of infra/ssm-document.ts safe.
 * The script checks the values again and exits 2 on anything else.
 */
export const cleanupDocumentParameters = {
  DryRun: {
    type: 'String',
    description: 'true: report what would be removed and trimmed, change nothing.',
    default: 'false',
    allowedValues: ['true', 'false'],
    allowedPattern: '^(true|false)$',
  },
  GraceSeconds: {
    type: 'String',
    description: 'Keep exited and dead containers that finished less than this many seconds ago (0 to 2592000).',
    default: '3600',
    // 0 to 2592000 (30 days), the range config.cleanup.graceSeconds accepts.
    allowedPattern: '^([0-9]{1,6}|1[0-9]{6}|2[0-4][0-9]{5}|25[0-8][0-9]{4}|259[01][0-9]{3}|2592000)$',
  },
  Fstrim: {
    type: 'String',
    description: 'auto: fstrim running containers only on the devicemapper storage driver; off: never; force: whatever the driver.',
    default: 'auto',
    allowedValues: ['auto', 'off', 'force'],
    allowedPattern: '^(auto|off|force)$',
  },
  MinFreePercent: {
    type: 'String',
    description: 'The command fails (exit 13) when less than this percentage of the Docker disk or thin pool is free after cleanup (0 to 99).',
    default: '10',
    allowedPattern: '^[0-9]{1,2}$',
  },
} satisfies Record<string, DocumentParameter>;

export type CleanupDocumentParameterName = keyof typeof cleanupDocumentParameters;
