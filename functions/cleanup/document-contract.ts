/**
 * The contract between the cleanup function and the SSM document that runs
 * infra/ssm/docker-cleanup.sh on the instances: the document's parameters
 * (what plan.ts sends), the script's exit codes and the JSON report line it
 * prints (what report.ts reads). The function owns it; infra/ssm-document.ts
 * builds the document from it.
 */

import { cleanupDeadlineSeconds } from './deadline.ts';

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
  deadline: 15,
  spaceUnmeasured: 16,
} as const;

export type CleanupStatus =
  | 'ok'
  | 'usage'
  | 'docker-unresponsive'
  | 'introspection-unavailable'
  | 'cleanup-errors'
  | 'low-space'
  | 'locked'
  | 'deadline'
  | 'space-unmeasured'
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
  // Fields marked optional are new in this script version: a report from an
  // instance still running the previous document version lacks them.
  /** ecs: only containers with the ECS agent's labels were candidates; all: any container. */
  scope?: string;
  deadlineSeconds?: number | null;
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
  /** notEcs: exited/dead containers kept because they carry no ECS labels (scope ecs); also counted in skipped. */
  containers: { removed: number; wouldRemove: number; skipped: number; protected: number; notEcs?: number; failed: number };
  /** removed includes withContainers: anonymous volumes removed by `docker rm -v` with their only container. */
  volumes: { removed: number; withContainers?: number; wouldRemove: number; skipped: number; failed: number };
  trim: { enabled: boolean; runs: number; wouldRun: number; skipped: number; failed: number; budgetExhausted: boolean };
  dockerDf: { before: DockerDfSizes | null; after: DockerDfSizes | null };
  /** A dry run's names (container names, then volume names) as far as the line has room; omitted counts the rest. null on a real run. */
  dryRunNames?: { containers: string[]; volumes: string[]; omitted: number } | null;
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
// Each pattern ends in `$(?![\s\S])`: a regex `$` may also match before a
// final newline (Java's does), and the script refuses "true\n". The
// lookahead leaves no such gap, so a pattern accepts exactly what the script
// does (test/cleanup/contract.test.ts feeds both the same hostile values).
// Numbers have one spelling, without leading zeros, in both.
const END = '$(?![\\s\\S])';

export const cleanupDocumentParameters = {
  DryRun: {
    type: 'String',
    description: 'true: report what would be removed and trimmed (with names), change nothing.',
    default: 'false',
    allowedValues: ['true', 'false'],
    allowedPattern: `^(true|false)${END}`,
  },
  Scope: {
    type: 'String',
    description: 'ecs: only containers that carry the ECS agent labels (task ARN, container name, cluster) may be removed; all: any exited or dead container.',
    default: 'ecs',
    allowedValues: ['ecs', 'all'],
    allowedPattern: `^(ecs|all)${END}`,
  },
  DeadlineSeconds: {
    type: 'String',
    description:
      'After this many seconds (30 to 86400) the script starts nothing more, kills what runs and reports status deadline (exit 15); below the step timeout.',
    // For the default 600-second step; cleanupDocumentContent sets it from its own timeout.
    default: String(cleanupDeadlineSeconds(600)),
    // 30 to 86400.
    allowedPattern: `^(3[0-9]|[4-9][0-9]|[1-9][0-9]{2,3}|[1-7][0-9]{4}|8[0-5][0-9]{3}|86[0-3][0-9]{2}|86400)${END}`,
  },
  GraceSeconds: {
    type: 'String',
    description: 'Keep exited and dead containers that finished less than this many seconds ago (0 to 2592000).',
    default: '3600',
    // 0 to 2592000 (30 days), the range config.cleanup.graceSeconds accepts.
    allowedPattern: `^(0|[1-9][0-9]{0,5}|1[0-9]{6}|2[0-4][0-9]{5}|25[0-8][0-9]{4}|259[01][0-9]{3}|2592000)${END}`,
  },
  Fstrim: {
    type: 'String',
    description: 'auto: fstrim running containers only on the devicemapper storage driver; off: never; force: whatever the driver.',
    default: 'auto',
    allowedValues: ['auto', 'off', 'force'],
    allowedPattern: `^(auto|off|force)${END}`,
  },
  MinFreePercent: {
    type: 'String',
    description: 'The command fails (exit 13) when less than this percentage of the Docker disk or thin pool is free after cleanup (0 to 99).',
    default: '10',
    allowedPattern: `^(0|[1-9][0-9]?)${END}`,
  },
} satisfies Record<string, DocumentParameter>;

export type CleanupDocumentParameterName = keyof typeof cleanupDocumentParameters;

/**
 * Where Run Command writes the document's output in CloudWatch Logs. The
 * function names the group on every command instead of leaving it to SSM's
 * default, so that it is the group the stack creates with a retention (infra/resources.ts).
 */
export const runCommandLogGroupName = (documentName: string): string => `/aws/ssm/${documentName}`;
