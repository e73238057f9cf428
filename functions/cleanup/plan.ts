import { createHash } from 'node:crypto';
import type { CleanupDocumentParameterName } from './document-contract.ts';
import { cleanupDeadlineSeconds } from './deadline.ts';
import type { TriggerKind } from './input.ts';
import type { CleanupSection } from './settings.ts';

/**
 * Pure pieces of a cleanup run: how instances are batched, what each
 * SendCommand carries, and how the report collector finds the cluster again.
 */

/** SendCommand InstanceIds: "you can specify up to 50 IDs" (SSM API reference, SendCommand). */
export const SEND_COMMAND_MAX_INSTANCES = 50;
/** containerInstances: "A list of up to 100 container instance IDs or full ARN entries" (ECS API reference, DescribeContainerInstances). */
export const DESCRIBE_CONTAINER_INSTANCES_MAX = 100;
/** maxResults "can be between 1 and 100" (ECS API reference, ListContainerInstances). */
export const LIST_CONTAINER_INSTANCES_MAX = 100;
/**
 * DescribeInstanceInformation returns at most 50 items a call (MaxResults 5-50,
 * SSM API reference), while an InstanceIds filter takes up to 100 values: 50
 * ids a call fill exactly one page.
 */
export const DESCRIBE_INSTANCE_INFORMATION_MAX = 50;
/** Comment: "Maximum length of 100" (SSM API reference, Command). */
export const COMMENT_MAX = 100;
/** SendCommand TimeoutSeconds: 30 to 2592000 (SSM API reference). */
export const SEND_TIMEOUT_RANGE = [30, 2_592_000] as const;

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * The MaxConcurrency or MaxErrors value for each command of a run split into
 * `batches` commands. SSM applies the value to each command on its own
 * (SendCommand MaxConcurrency/MaxErrors). A percentage therefore keeps its
 * meaning fleet-wide; a count is shared out between the commands so that the
 * whole run stays near it (never below `min` per command: 1 for concurrency,
 * 0 for errors).
 */
export function perCommandRate(value: string, batches: number, min: number): string {
  if (value.endsWith('%') || batches <= 1) return value;
  return String(Math.max(min, Math.floor(Number(value) / batches)));
}

/** How many invocations of a `targets`-instance command run at once under `maxConcurrency` (rounded down, at least 1). */
export function concurrentInvocations(maxConcurrency: string, targets: number): number {
  if (maxConcurrency.endsWith('%')) return Math.max(1, Math.floor((Number(maxConcurrency.slice(0, -1)) * targets) / 100));
  return Math.max(1, Math.min(targets, Number(maxConcurrency)));
}

/**
 * SendCommand's TimeoutSeconds is a delivery deadline counted from the
 * request: an invocation still Pending when it passes (plus the execution
 * timeout) ends DeliveryTimedOut (SSM user guide, "Understanding command
 * statuses"). Under MaxConcurrency the last wave of a batch starts only after
 * the earlier waves ran, each up to the document's execution timeout, so the
 * deadline must cover every wave.
 */
export function deliveryTimeoutSeconds(targets: number, maxConcurrency: string, executionTimeoutSeconds: number): number {
  const waves = Math.ceil(targets / concurrentInvocations(maxConcurrency, targets));
  return Math.min(SEND_TIMEOUT_RANGE[1], Math.max(SEND_TIMEOUT_RANGE[0], waves * executionTimeoutSeconds));
}

/** The document's parameters (document-contract.ts), from the configuration and the trigger's dryRun. */
export function documentParameters(cleanup: CleanupSection, dryRun: boolean): Record<CleanupDocumentParameterName, string[]> {
  return {
    DryRun: [String(dryRun)],
    Scope: [cleanup.scope],
    // The script's own deadline, a margin inside the step timeout, so that it always reports.
    DeadlineSeconds: [String(cleanupDeadlineSeconds(cleanup.timeoutSeconds))],
    GraceSeconds: [String(cleanup.graceSeconds)],
    Fstrim: [cleanup.fstrim],
    MinFreePercent: [String(cleanup.minFreePercent)],
  };
}

/** A short token that ties a command to the batch that sent it, for finding it again after an ambiguous SendCommand failure. */
export const batchToken = (owner: string, cluster: string, batch: number): string =>
  createHash('sha256').update(`${owner}\n${cluster}\n${batch}`).digest('hex').slice(0, 8);

const COMMENT_HEAD = 'ecs-caretaker cleanup';
const COMMENT_CLUSTER = /, c=(\S+) #[0-9a-f]{8}$/;

/**
 * The command's Comment (at most 100 characters): who triggered it, the
 * cluster when its name fits whole, and the batch token last. Operators see
 * it in the Run Command console; the collector reads the cluster back from it
 * only when the command's table record is missing.
 */
export function commandComment(trigger: TriggerKind, cluster: string, dryRun: boolean, token: string): string {
  const head = `${COMMENT_HEAD}, ${trigger}${dryRun ? ' (dry run)' : ''}`;
  const tail = ` #${token}`;
  const withCluster = `${head}, c=${cluster}${tail}`;
  // A cluster name may have 255 characters; a cut name would name another cluster, so it is left out instead.
  return withCluster.length <= COMMENT_MAX && !/\s/.test(cluster) ? withCluster : `${head}${tail}`;
}

export const commentToken = (comment: string | undefined): string | undefined => /#([0-9a-f]{8})$/.exec(comment ?? '')?.[1];
export const commentCluster = (comment: string | undefined): string | undefined => COMMENT_CLUSTER.exec(comment ?? '')?.[1];

/** One dedup mark per instance: dry runs have their own, so a dry run never holds back a real one. */
export const dedupId = (instanceId: string, dryRun: boolean): string => `cleanup#${instanceId}${dryRun ? '#dry' : ''}`;
/** What the collector reads to know the cluster and trigger of a command. */
export const commandRecordId = (commandId: string): string => `cleanup-command#${commandId}`;
/** Marks a report as published, so that a duplicated status event publishes nothing twice. */
export const reportMarkId = (commandId: string, instanceId: string): string => `cleanup-report#${commandId}#${instanceId}`;
