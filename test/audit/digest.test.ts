import type { Service } from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import {
  byService,
  DIGEST_LISTED_MAX,
  findingKey,
  renderDigest,
  serviceFindingIds,
  setHash,
  type ClusterAudit,
  type DigestContext,
} from '../../functions/audit/digest.ts';
import { SUBJECT_MAX, subjectLine } from '../../functions/shared/sns-text.ts';
import { audit, type AuditInput, type Finding } from '../../functions/audit/rules.ts';
import { checkoutDescribed, checkoutService, checkoutTargetGroup } from './support.ts';

const ARN = 'arn:aws:ecs:eu-west-1:123456789012:service/prod';

/**
 * Two services sharing one task definition (a Fargate size that does not
 * exist: high) and one target group (slow health checks: low); the second
 * service also cannot replace a task (high).
 */
function twoServices(): AuditInput {
  const td = { ...checkoutDescribed(), memory: '5120' };
  const { targetGroup, attributes } = checkoutTargetGroup();
  const web: Service = checkoutService();
  const admin: Service = {
    ...checkoutService(),
    serviceArn: `${ARN}/checkout-admin`,
    serviceName: 'checkout-admin',
    desiredCount: 1,
    deploymentConfiguration: { ...checkoutService().deploymentConfiguration, maximumPercent: 100 },
  };
  return { services: [web, admin], taskDefinitions: [td], targetGroups: [{ targetGroup: { ...targetGroup, HealthCheckIntervalSeconds: 30 }, attributes }] };
}

const finding = (over: Partial<Finding>): Finding => ({
  rule: 'stop-timeout-long',
  severity: 'info',
  resource: 'taskDefinition:web:12#container:app',
  evidence: 'e',
  fix: 'f',
  ...over,
});

describe('recognising a set of findings again', () => {
  it('a finding keeps its key when a deployment registers a new revision', () => {
    expect(findingKey(finding({ resource: 'taskDefinition:web:12#container:app' }))).toBe(
      findingKey(finding({ resource: 'taskDefinition:web:13#container:app' })),
    );
    expect(findingKey(finding({ resource: 'taskDefinition:web:12' }))).toBe(findingKey(finding({ resource: 'taskDefinition:web:13' })));
    expect(findingKey(finding({ resource: 'taskDefinition:web:12#container:app' }))).not.toBe(
      findingKey(finding({ resource: 'taskDefinition:web:12#container:sidecar' })),
    );
    expect(findingKey(finding({ location: { taskDefinition: 0, path: 'cpu' } }))).not.toBe(
      findingKey(finding({ location: { taskDefinition: 0, path: 'memory' } })),
    );
  });

  it('the hash of a set ignores order and repeats', () => {
    expect(setHash(['b', 'a', 'a'])).toBe(setHash(['a', 'b']));
    expect(setHash(['a'])).not.toBe(setHash(['a', 'b']));
    expect(setHash([])).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('findings by service', () => {
  it('reports a shared task definition and target group under each service that uses them', () => {
    const input = twoServices();
    const { services, other } = byService(input, audit(input));
    expect(other).toEqual([]);
    expect(services.map((s) => [s.service, s.findings.map((f) => f.rule)])).toEqual([
      ['checkout-web', ['fargate-cpu-memory-invalid', 'alb-slow-health-check']],
      ['checkout-admin', ['fargate-cpu-memory-invalid', 'deployment-no-headroom', 'alb-slow-health-check']],
    ]);
  });

  it('keeps the ids of the findings at or above the threshold, per service', () => {
    const input = twoServices();
    const ids = serviceFindingIds({ cluster: 'prod', input, findings: audit(input) }, 'high');
    expect(Object.keys(ids)).toEqual(['prod/checkout-web', 'prod/checkout-admin']);
    expect(ids['prod/checkout-web']).toHaveLength(1);
    expect(ids['prod/checkout-admin']).toHaveLength(2);
    // The shared task definition's finding has one id wherever it is reported.
    expect(ids['prod/checkout-admin']).toContain(ids['prod/checkout-web']![0]);
    expect(serviceFindingIds({ cluster: 'prod', input, findings: audit(input) }, 'critical')).toEqual({});
    expect(serviceFindingIds({ cluster: 'prod', findings: [], error: 'AccessDenied' }, 'high')).toEqual({});
  });
});

describe('the digest text', () => {
  const schedule: DigestContext = {
    region: 'eu-west-1',
    minSeverity: 'high',
    trigger: { kind: 'schedule', time: '2026-11-23T02:00:07Z' },
    changed: new Set(['prod/checkout-admin']),
  };
  const prod = (): ClusterAudit => {
    const input = twoServices();
    return { cluster: 'prod', input, findings: audit(input) };
  };

  it('lists what is at or above the threshold by service, most severe first, and counts the rest', () => {
    const { subject, message, attributes } = renderDigest(
      [prod(), { cluster: 'staging', findings: [], error: 'ListServices on cluster "staging" failed: AccessDeniedException: denied' }],
      schedule,
    );
    expect(subject).toBe('ECS audit HIGH: 2 findings - prod');
    expect(attributes).toEqual({ kind: 'audit-digest', severity: 'high', cluster: 'prod' });
    expect(message).toBe(
      [
        // The shared task definition's finding is listed under both services, and counted once.
        'ECS audit of prod (eu-west-1): 2 findings at or above high, in 2 services.',
        '1 service has findings the last digest did not report (marked NEW).',
        '',
        'prod/checkout-admin NEW',
        // The service's own settings first, then its task definition's.
        '- HIGH deployment-no-headroom: minimumHealthyPercent/maximumPercent leave no room to replace a task',
        '  Seen: desiredCount 1, minimumHealthyPercent 100 (at least 1 task must stay RUNNING), maximumPercent 100 (at most 1 may run): no task can be started first or stopped first, so deployments and instance drains cannot progress',
        '  Fix: set deploymentConfiguration.maximumPercent to 200 or more (start replacements first), or minimumHealthyPercent to 0 or less (stop tasks first)',
        '- HIGH fargate-cpu-memory-invalid: Task cpu/memory is not a Fargate size',
        '  In task definition checkout-web:12',
        `  Seen: ${audit(twoServices()).find((f) => f.rule === 'fargate-cpu-memory-invalid')!.evidence}`,
        `  Fix: ${audit(twoServices()).find((f) => f.rule === 'fargate-cpu-memory-invalid')!.fix}`,
        '  https://eu-west-1.console.aws.amazon.com/ecs/v2/clusters/prod/services/checkout-admin/health?region=eu-west-1',
        '',
        'prod/checkout-web',
        '- HIGH fargate-cpu-memory-invalid: Task cpu/memory is not a Fargate size',
        '  In task definition checkout-web:12',
        `  Seen: ${audit(twoServices()).find((f) => f.rule === 'fargate-cpu-memory-invalid')!.evidence}`,
        `  Fix: ${audit(twoServices()).find((f) => f.rule === 'fargate-cpu-memory-invalid')!.fix}`,
        '  https://eu-west-1.console.aws.amazon.com/ecs/v2/clusters/prod/services/checkout-web/health?region=eu-west-1',
        '',
        'Below high, not listed: 1 low.',
        'Could not audit cluster staging: ListServices on cluster "staging" failed: AccessDeniedException: denied',
        'Full report: npx ecs-caretaker audit --cluster prod --region eu-west-1',
        'Each fix has a trade-off, listed by: npx ecs-caretaker audit --list-rules',
        '',
        '-- ecs-caretaker audit, scheduled run at 2026-11-23 02:00 UTC',
      ].join('\n'),
    );
  });

  it('after a deployment: says which deployment, and the subject names the service', () => {
    const input = twoServices();
    const one: AuditInput = { ...input, services: [input.services![1]!] };
    const { subject, message, attributes } = renderDigest([{ cluster: 'prod', input: one, findings: audit(one) }], {
      ...schedule,
      trigger: {
        kind: 'deployment',
        time: '2026-11-23T10:15:00Z',
        cluster: 'prod',
        service: 'checkout-admin',
        eventName: 'SERVICE_DEPLOYMENT_FAILED',
        deploymentId: 'ecs-svc/987',
      },
    });
    expect(subject).toBe('ECS audit HIGH: 2 findings after deploy - prod/checkout-admin');
    expect(attributes).toEqual({ kind: 'audit-digest', severity: 'high', cluster: 'prod', service: 'checkout-admin' });
    expect(message.split('\n')[0]).toBe('Deployment ecs-svc/987 of prod/checkout-admin failed. The service now has 2 findings at or above high.');
    expect(message).not.toContain('NEW');
    expect(message).toContain('Full report: npx ecs-caretaker audit --cluster prod --service checkout-admin --region eu-west-1');
    expect(message.endsWith('-- ecs-caretaker audit after SERVICE_DEPLOYMENT_FAILED at 2026-11-23 10:15 UTC')).toBe(true);
  });

  it(`lists at most ${DIGEST_LISTED_MAX} findings and says how many more the full report has`, () => {
    const base = twoServices();
    const services: Service[] = Array.from({ length: 40 }, (_, i) => ({
      ...base.services![1]!,
      serviceArn: `${ARN}/svc-${String(i).padStart(2, '0')}`,
      serviceName: `svc-${String(i).padStart(2, '0')}`,
      loadBalancers: [],
    }));
    const input: AuditInput = { services, taskDefinitions: [checkoutDescribed()] };
    const findings = audit(input);
    expect(findings.filter((f) => f.severity === 'high')).toHaveLength(40);
    const { message } = renderDigest([{ cluster: 'prod', input, findings }], schedule);
    expect(message.split('\n').filter((l) => l.startsWith('- HIGH'))).toHaveLength(DIGEST_LISTED_MAX);
    expect(message).toContain(`…and ${40 - DIGEST_LISTED_MAX} more at or above high, in the full report.`);
    expect(Buffer.byteLength(message)).toBeLessThan(20_000);
  });

  it('keeps the subject under 100 ASCII characters', () => {
    const long = 'a'.repeat(200);
    expect(subjectLine(`ECS audit HIGH: 3 findings - ${long}`)).toHaveLength(SUBJECT_MAX);
    expect(subjectLine('ECS audit HIGH: 1 finding after deploy - prod/wéb\nx')).toBe('ECS audit HIGH: 1 finding after deploy - prod/w b x');
    const threeClusters = renderDigest(
      ['a', 'b', 'c'].map((cluster) => ({ ...prod(), cluster })),
      schedule,
    );
    expect(threeClusters.subject).toBe('ECS audit HIGH: 6 findings - 3 clusters');
    expect(threeClusters.attributes.cluster).toBeUndefined();
  });
});
