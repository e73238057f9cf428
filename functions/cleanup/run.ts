import type { ECSClient } from '@aws-sdk/client-ecs';
import { ListCommandsCommand, SendCommandCommand, type SendCommandCommandInput, type SSMClient } from '@aws-sdk/client-ssm';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { ttlAfter, type Store } from '../shared/store.ts';
import { createDedup, type MarkContext } from './dedup.ts';
import { SendCommandFailedError } from './errors.ts';
import { runCommandLogGroupName } from './document-contract.ts';
import type { RunInput } from './input.ts';
import { mapLimit } from './limit.ts';
import { emit, type MetricRecord } from './metrics.ts';
import {
  batchToken,
  chunk,
  commandComment,
  commandRecordId,
  commentToken,
  deliveryTimeoutSeconds,
  documentParameters,
  perCommandRate,
  SEND_COMMAND_MAX_INSTANCES,
} from './plan.ts';
import type { CleanupSettings } from './settings.ts';
import { resolveScope, type ClusterTargets } from './targets.ts';

export interface CleanupDeps {
  ecs: ECSClient;
  /** Reads: DescribeInstanceInformation, ListCommands, GetCommandInvocation. */
  ssm: SSMClient;
  /** SendCommand only, with a retry strategy that retries throttling alone (retry.ts). */
  ssmSend: SSMClient;
  store: Store;
  logger: Logger;
  metrics: Metrics;
  now: () => number;
  /** This invocation, for dedup marks and batch tokens. */
  owner: string;
  settings: CleanupSettings;
}

export interface SentCommand {
  commandId: string;
  instanceIds: string[];
}

export interface ClusterRun {
  cluster: string;
  commands: SentCommand[];
  /** Taken by another trigger within dedupSeconds. */
  deduplicated: string[];
  notManaged: string[];
  offline: string[];
  unsupported: string[];
  /** Batches SendCommand refused; their marks were released for the retry. */
  failed: string[];
}

export interface RunResult {
  trigger: RunInput['trigger'];
  dryRun: boolean;
  clusters: ClusterRun[];
  notActive: string[];
}

// A few commands in flight: SendCommand is throttled per account, and the batches of one run are independent.
const SEND_CONCURRENCY = 4;
// Lambda's clock and SSM's may differ; ListCommands is asked from a little before the first attempt.
const CLOCK_SKEW_MS = 60_000;

// A log line holds at most 256 KB in CloudWatch Logs; the counts are in the metrics, a sample of ids is enough here.
const LOGGED_IDS = 100;
const sample = (ids: string[]): string[] => (ids.length > LOGGED_IDS ? [...ids.slice(0, LOGGED_IDS), `(${ids.length - LOGGED_IDS} more)`] : ids);

interface Batch {
  cluster: string;
  index: number;
  instanceIds: string[];
  token: string;
}

/**
 * After a SendCommand that failed for any reason but throttling: was the
 * command created all the same? The batch token at the end of its Comment
 * finds it among the recent commands of our document.
 */
async function findSent(deps: CleanupDeps, batch: Batch, since: number): Promise<string | undefined> {
  let nextToken: string | undefined;
  do {
    const out = await deps.ssm.send(
      new ListCommandsCommand({
        Filters: [
          { key: 'DocumentName', value: deps.settings.documentName },
          { key: 'InvokedAfter', value: new Date(since - CLOCK_SKEW_MS).toISOString() },
        ],
        MaxResults: 50,
        NextToken: nextToken,
      }),
    );
    const found = out.Commands?.find((c) => commentToken(c.Comment) === batch.token);
    if (found?.CommandId) return found.CommandId;
    nextToken = out.NextToken;
  } while (nextToken);
  return undefined;
}

function sendInput(deps: CleanupDeps, input: RunInput, batch: Batch, batches: number): SendCommandCommandInput {
  const { cleanup, documentName } = deps.settings;
  const maxConcurrency = perCommandRate(cleanup.maxConcurrency, batches, 1);
  return {
    DocumentName: documentName,
    InstanceIds: batch.instanceIds,
    Parameters: documentParameters(cleanup, input.dryRun),
    Comment: commandComment(input.trigger.kind, batch.cluster, input.dryRun, batch.token),
    MaxConcurrency: maxConcurrency,
    MaxErrors: perCommandRate(cleanup.maxErrors, batches, 0),
    TimeoutSeconds: deliveryTimeoutSeconds(batch.instanceIds.length, maxConcurrency, cleanup.timeoutSeconds),
    // Output also goes to CloudWatch Logs, where operators read stderr beyond the API's limits.
    CloudWatchOutputConfig: { CloudWatchOutputEnabled: true, CloudWatchLogGroupName: runCommandLogGroupName(documentName) },
  };
}

async function runCluster(deps: CleanupDeps, input: RunInput, targets: ClusterTargets): Promise<ClusterRun> {
  const { logger, store, settings } = deps;
  const dedup = createDedup(store, settings.cleanup.dedupSeconds, deps.now);
  const result: ClusterRun = {
    cluster: targets.cluster,
    commands: [],
    deduplicated: [],
    notManaged: targets.notManaged,
    offline: targets.offline,
    unsupported: targets.unsupported,
    failed: [],
  };
  const groups = chunk(targets.eligible, SEND_COMMAND_MAX_INSTANCES);
  const context: MarkContext = { owner: deps.owner, dryRun: input.dryRun, cluster: targets.cluster, trigger: input.trigger.kind };
  const errors: unknown[] = [];

  // Marks are taken batch by batch, right before sending: if this invocation dies,
  // at most one batch's instances wait out the dedup window.
  await mapLimit(groups, SEND_CONCURRENCY, async (group, index) => {
    let claim: Awaited<ReturnType<typeof dedup.claim>>;
    try {
      claim = await dedup.claim(group, context);
    } catch (error) {
      // Nothing of this batch is claimed or sent; the other batches go on, and the retry takes this one.
      result.failed.push(...group);
      errors.push(error);
      logger.error('Could not take the dedup marks of a batch: not sent', { cluster: targets.cluster, instances: group.length, error: error as Error });
      return;
    }
    const { claimed, duplicates } = claim;
    result.deduplicated.push(...duplicates);
    if (claimed.length === 0) return;
    const batch: Batch = { cluster: targets.cluster, index, instanceIds: claimed, token: batchToken(deps.owner, targets.cluster, index) };
    const request = sendInput(deps, input, batch, groups.length);
    const since = deps.now();
    let commandId: string | undefined;
    try {
      const out = await deps.ssmSend.send(new SendCommandCommand(request));
      commandId = out.Command?.CommandId;
      if (!commandId) throw new Error('SendCommand answered without a CommandId');
    } catch (error) {
      const throttled = (error as { name?: string }).name === 'ThrottlingException';
      // A throttled call was refused for sure; anything else may have gone through. When even
      // ListCommands fails the batch is released: a second cleanup of a disk is harmless (the
      // script holds a lock and removes only what is still there), a missed one on a full disk is not.
      commandId = throttled ? undefined : await findSent(deps, batch, since).catch(() => undefined);
      if (!commandId) {
        await dedup.release(batch.instanceIds, context);
        result.failed.push(...batch.instanceIds);
        errors.push(error);
        logger.error('SendCommand failed: dedup marks released so that the retry sends this batch', {
          cluster: targets.cluster,
          batch: batch.token,
          instances: batch.instanceIds.length,
          error: error as Error,
        });
        return;
      }
      logger.warn('SendCommand failed but the command exists: kept as sent', {
        cluster: targets.cluster,
        batch: batch.token,
        commandId,
        error: error as Error,
      });
    }
    result.commands.push({ commandId, instanceIds: batch.instanceIds });
    // The collector learns the cluster from here; the Comment holds it too, unless the name is too long.
    await store
      .put({
        id: commandRecordId(commandId),
        cluster: targets.cluster,
        trigger: input.trigger.kind,
        dryRun: input.dryRun,
        // Reports arrive until the delivery deadline plus one execution; a day more covers late event retries.
        expiration: ttlAfter(deps.now(), (request.TimeoutSeconds ?? 0) + settings.cleanup.timeoutSeconds + 86_400),
      })
      .catch((error: unknown) =>
        logger.warn('Could not record the command; the collector will read the cluster from its Comment', { commandId, error: error as Error }),
      );
  });

  emit(deps.metrics, clusterMetrics(result, targets.eligible.length));
  logger.info('Cleanup commands sent', {
    cluster: targets.cluster,
    trigger: input.trigger,
    dryRun: input.dryRun,
    commandIds: result.commands.map((c) => c.commandId),
    instances: result.commands.reduce((n, c) => n + c.instanceIds.length, 0),
    deduplicated: result.deduplicated.length,
    notManaged: sample(result.notManaged),
    offline: sample(result.offline),
    unsupported: sample(result.unsupported),
    failed: sample(result.failed),
  });
  if (errors.length) {
    throw new SendCommandFailedError(
      `SendCommand failed for ${result.failed.length} instances of cluster ${targets.cluster} (${errors.length} of ${groups.length} batches): ${(errors[0] as Error)?.message ?? String(errors[0])}`,
    );
  }
  return result;
}

export function clusterMetrics(run: ClusterRun, eligible: number): MetricRecord {
  const sent = run.commands.reduce((n, c) => n + c.instanceIds.length, 0);
  return {
    dimensionSets: [{ Cluster: run.cluster }],
    values: [
      { name: 'InstancesEligible', unit: 'Count', value: eligible },
      { name: 'InstancesSent', unit: 'Count', value: sent },
      { name: 'CommandsSent', unit: 'Count', value: run.commands.length },
      { name: 'InstancesDeduplicated', unit: 'Count', value: run.deduplicated.length },
      { name: 'InstancesNotManaged', unit: 'Count', value: run.notManaged.length },
      { name: 'InstancesOffline', unit: 'Count', value: run.offline.length },
      { name: 'InstancesUnsupportedPlatform', unit: 'Count', value: run.unsupported.length },
      { name: 'SendCommandFailed', unit: 'Count', value: run.failed.length },
    ],
  };
}

/** One trigger: resolve its instances, then one command per batch of 50, each instance at most once per dedup window. */
export async function runCleanup(deps: CleanupDeps, input: RunInput): Promise<RunResult> {
  const result: RunResult = { trigger: input.trigger, dryRun: input.dryRun, clusters: [], notActive: [] };
  const failures: Error[] = [];
  for (const scope of input.scopes) {
    const resolution = await resolveScope({ ecs: deps.ecs, ssm: deps.ssm, clusters: deps.settings.clusters }, scope);
    if (resolution.notActive.ids.length) {
      result.notActive.push(...resolution.notActive.ids);
      deps.logger.info('Named instances are not ACTIVE container instances of a configured cluster: skipped', {
        trigger: input.trigger,
        instances: sample(resolution.notActive.ids),
      });
      emit(deps.metrics, {
        dimensionSets: resolution.notActive.cluster ? [{ Cluster: resolution.notActive.cluster }] : [],
        values: [{ name: 'InstancesNotActive', unit: 'Count', value: resolution.notActive.ids.length }],
      });
    }
    for (const targets of resolution.clusters) {
      try {
        result.clusters.push(await runCluster(deps, input, targets));
      } catch (error) {
        if (!(error instanceof SendCommandFailedError)) throw error;
        failures.push(error);
      }
    }
  }
  // Thrown last, after every cluster had its chance: Lambda's retry then finds the sent batches deduplicated.
  if (failures.length) throw new SendCommandFailedError(failures.map((f) => f.message).join('; '));
  return result;
}
