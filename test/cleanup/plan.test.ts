/** The pure parts of a cleanup run: batches, rate controls, timeouts, parameters, the Comment. */
import { describe, expect, it } from 'vitest';
import { cleanupSchema } from '../../functions/shared/config.ts';
import {
  batchToken,
  chunk,
  commandComment,
  commentCluster,
  commentToken,
  commandRecordId,
  concurrentInvocations,
  dedupId,
  deliveryTimeoutSeconds,
  documentParameters,
  perCommandRate,
  reportMarkId,
} from '../../functions/cleanup/plan.ts';
import { throttlingOnlyRetryStrategy } from '../../functions/cleanup/retry.ts';
import { cleanupDocumentParameters, type CleanupDocumentParameterName } from '../../functions/cleanup/document-contract.ts';

describe('cleanup plan', () => {
  it('cuts instances into batches of at most 50, keeping every one once', () => {
    const ids = Array.from({ length: 951 }, (_, i) => `i-${i}`);
    const batches = chunk(ids, 50);
    expect(batches.map((b) => b.length)).toEqual([...Array(19).fill(50), 1]);
    expect(batches.flat()).toEqual(ids);
    expect(chunk([], 50)).toEqual([]);
  });

  it('keeps percentages per command and shares counts out between the commands of a run', () => {
    expect(perCommandRate('10%', 20, 1)).toBe('10%');
    expect(perCommandRate('100', 20, 1)).toBe('5');
    expect(perCommandRate('5', 20, 1)).toBe('1');
    expect(perCommandRate('3', 5, 0)).toBe('0');
    expect(perCommandRate('7', 1, 0)).toBe('7');
  });

  it('gives the delivery deadline room for every wave the concurrency allows', () => {
    expect(concurrentInvocations('10%', 50)).toBe(5);
    expect(concurrentInvocations('10%', 7)).toBe(1);
    expect(concurrentInvocations('80', 20)).toBe(20);
    expect(deliveryTimeoutSeconds(50, '10%', 600)).toBe(6000);
    expect(deliveryTimeoutSeconds(1, '10%', 600)).toBe(600);
    expect(deliveryTimeoutSeconds(50, '100%', 60)).toBe(60);
    expect(deliveryTimeoutSeconds(50, '1', 3600)).toBe(180_000);
    // SendCommand TimeoutSeconds is 30 to 2592000 (SSM API reference).
    expect(deliveryTimeoutSeconds(50, '1', 100_000)).toBe(2_592_000);
    expect(deliveryTimeoutSeconds(1, '1', 10)).toBe(30);
  });

  it('passes parameter values the document accepts, at the edges of the configuration', () => {
    const edges = [
      cleanupSchema.parse({}),
      cleanupSchema.parse({ graceSeconds: 0, minFreePercent: 0, fstrim: 'off' }),
      cleanupSchema.parse({ graceSeconds: 30 * 86_400, minFreePercent: 99, fstrim: 'force' }),
    ];
    for (const cleanup of edges) {
      for (const dryRun of [true, false]) {
        const parameters = documentParameters(cleanup, dryRun);
        expect(Object.keys(parameters).sort()).toEqual(Object.keys(cleanupDocumentParameters).sort());
        for (const [name, [value]] of Object.entries(parameters) as Array<[CleanupDocumentParameterName, string[]]>) {
          expect(value, name).toMatch(new RegExp(cleanupDocumentParameters[name].allowedPattern));
        }
        expect(parameters.DryRun).toEqual([String(dryRun)]);
      }
    }
  });

  it('writes a Comment of at most 100 characters that names the trigger, and the cluster only when it fits whole', () => {
    const token = batchToken('owner-1', 'prod', 3);
    expect(token).toMatch(/^[0-9a-f]{8}$/);
    expect(batchToken('owner-1', 'prod', 4)).not.toBe(token);
    const short = commandComment('alarm', 'prod', false, token);
    expect(short).toBe(`ecs-caretaker cleanup, alarm, c=prod #${token}`);
    expect(commentCluster(short)).toBe('prod');
    expect(commentToken(short)).toBe(token);
    const dry = commandComment('schedule', 'prod', true, token);
    expect(dry).toBe(`ecs-caretaker cleanup, schedule (dry run), c=prod #${token}`);
    for (const length of [44, 45, 46, 100, 255]) {
      const cluster = 'c'.repeat(length);
      const comment = commandComment('schedule', cluster, true, token);
      expect(comment.length, `cluster of ${length}`).toBeLessThanOrEqual(100);
      expect(commentToken(comment)).toBe(token);
      // Either the whole name, or none: a cut name would be another cluster's.
      expect([cluster, undefined]).toContain(commentCluster(comment));
    }
    expect(commentCluster(commandComment('manual', 'c'.repeat(255), false, token))).toBeUndefined();
    expect(commentCluster('cleanup by hand')).toBeUndefined();
  });

  it('keeps the cluster in a Comment of exactly 100 characters, the most SSM takes', () => {
    const token = batchToken('owner-1', 'prod', 1);
    const head = `ecs-caretaker cleanup, schedule (dry run), c=`;
    const cluster = 'c'.repeat(100 - head.length - ` #${token}`.length);
    const comment = commandComment('schedule', cluster, true, token);
    expect(comment).toHaveLength(100);
    expect(commentCluster(comment)).toBe(cluster);
  });

  it('reads a batch token and a cluster only from a Comment this tool wrote: none, or one edited by hand, yields nothing', () => {
    const token = batchToken('owner-1', 'prod', 2);
    expect(commentToken(undefined)).toBeUndefined();
    expect(commentCluster(undefined)).toBeUndefined();
    const edited = `${commandComment('manual', 'prod', false, token)} resent by hand`;
    expect(commentToken(edited)).toBeUndefined();
    expect(commentCluster(edited)).toBeUndefined();
    // Ten hex digits are no token of ours, even where ours would end the Comment.
    expect(commentToken(`ecs-caretaker cleanup, manual, c=prod #${token}ff`)).toBeUndefined();
  });

  it('keeps the table keys of its records across versions, one key space per kind', () => {
    // Records outlive a deployment (TTL): a new version must find the marks the previous one wrote.
    expect(dedupId('i-0123456789abcdef0', false)).toBe('cleanup#i-0123456789abcdef0');
    // A dry run has its own mark, so it never holds back a real cleanup.
    expect(dedupId('i-0123456789abcdef0', true)).toBe('cleanup#i-0123456789abcdef0#dry');
    expect(commandRecordId('0a1b2c3d-4e5f-6789-abcd-ef0123456789')).toBe('cleanup-command#0a1b2c3d-4e5f-6789-abcd-ef0123456789');
    expect(reportMarkId('0a1b2c3d-4e5f-6789-abcd-ef0123456789', 'i-0123456789abcdef0')).toBe(
      'cleanup-report#0a1b2c3d-4e5f-6789-abcd-ef0123456789#i-0123456789abcdef0',
    );
  });

  it('retries SendCommand only when it was throttled, with growing jittered delays', async () => {
    const strategy = throttlingOnlyRetryStrategy(5, () => 0.5);
    const first = await strategy.acquireInitialRetryToken('');
    const second = await strategy.refreshRetryTokenForRetry(first, { errorType: 'THROTTLING' });
    const third = await strategy.refreshRetryTokenForRetry(second, { errorType: 'THROTTLING' });
    expect([second.getRetryCount(), second.getRetryDelay(), third.getRetryCount(), third.getRetryDelay()]).toEqual([1, 250, 2, 500]);
    for (const errorType of ['TRANSIENT', 'SERVER_ERROR', 'CLIENT_ERROR'] as const) {
      await expect(strategy.refreshRetryTokenForRetry(first, { errorType })).rejects.toThrow(/not retried/);
    }
    let token = first;
    for (let i = 0; i < 4; i++) token = await strategy.refreshRetryTokenForRetry(token, { errorType: 'THROTTLING' });
    await expect(strategy.refreshRetryTokenForRetry(token, { errorType: 'THROTTLING' })).rejects.toThrow('5 attempts');
  });
});
