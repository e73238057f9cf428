/**
 * `ecs-caretaker audit --cluster` end to end: main() builds its own ECS and
 * ELBv2 clients, which reach the simulator through AWS_ENDPOINT_URL_* as they
 * would reach AWS, and audits a cluster whose services, task definitions and
 * target groups were registered there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../functions/audit/cli.ts';
import { startSim, type Sim } from '../../sim/index.ts';
import { buildAuditWorld, expectedFindings, type AuditWorld } from './sim-world.ts';

let sim: Sim;
let world: AuditWorld;
const savedEnv = { ...process.env };

beforeAll(async () => {
  sim = await startSim({ start: new Date('2026-11-23T02:00:00Z'), seed: 11 });
  world = buildAuditWorld(sim);
  // The SDK reads endpoints and credentials from the process environment, as it does on a workstation.
  Object.assign(process.env, sim.env());
});
afterAll(async () => {
  process.env = savedEnv;
  await sim?.close();
});

async function audit(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(['audit', ...args], {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: sim.env(),
  });
  return { code, stdout, stderr };
}

describe('a cluster with two clean services and two with traps', () => {
  it('table: every finding, most severe first, and exit 1 at the default --fail-on high', async () => {
    const r = await audit('--cluster', 'prod');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const rows = r.stdout.split('\n').filter((l) => /^(critical|high|medium|low|info)\s/.test(l));
    expect(rows.map((l) => l.split(/\s+/).slice(0, 3).join(' '))).toEqual(expectedFindings(world));
    expect(r.stdout).toContain('8 findings: 3 high, 2 medium, 3 low.\n3 at or above --fail-on high.\n');
    // The clean services appear nowhere.
    expect(r.stdout).not.toMatch(/checkout-web|orders-worker/);
    // One read per service page, task definition and target group; no write.
    expect(
      sim.calls
        .filter((c) => c.service === 'ecs' || c.service === 'elbv2')
        .map((c) => `${c.service}.${c.op}`)
        .sort(),
    ).toEqual(
      [
        'ecs.ListServices',
        'ecs.DescribeServices',
        ...Array(4).fill('ecs.DescribeTaskDefinition'),
        'elbv2.DescribeTargetGroups',
        ...Array(2).fill('elbv2.DescribeTargetGroupAttributes'),
      ].sort(),
    );
  });

  it('json: the same findings with titles and a summary', async () => {
    const r = await audit('--cluster', 'prod', '--format', 'json');
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.findings.map((f: { severity: string; rule: string; resource: string }) => `${f.severity} ${f.rule} ${f.resource}`)).toEqual(
      expectedFindings(world),
    );
    expect(out.summary).toEqual({
      total: 8,
      bySeverity: { critical: 0, high: 3, medium: 2, low: 3, info: 0 },
      failing: 3,
      failOn: 'high',
      suppressed: { ignored: 0, inline: 0, baseline: 0 },
    });
    const slow = out.findings.find((f: { rule: string }) => f.rule === 'alb-slow-health-check');
    expect(slow.evidence).toBe(
      'HealthCheckIntervalSeconds 30, HealthyThresholdCount 5: a new task can wait 30 s for its first check, and a target that failed needs 5 × 30 s = 150 s to return to service',
    );
    expect(out.findings.find((f: { rule: string }) => f.rule === 'alb-long-deregistration-delay').evidence).toContain(
      'deregistration_delay.timeout_seconds 300:',
    );
  });

  it('sarif: one result per finding, located by resource since nothing came from a file', async () => {
    const r = await audit('--cluster', 'prod', '--format', 'sarif');
    expect(r.code).toBe(1);
    const results = JSON.parse(r.stdout).runs[0].results;
    expect(results).toHaveLength(8);
    for (const result of results) {
      expect(result.locations[0].physicalLocation).toBeUndefined();
      expect(result.locations[0].logicalLocations[0].fullyQualifiedName.length).toBeGreaterThan(0);
    }
    expect(
      results
        .filter((res: { level: string }) => res.level === 'error')
        .map((res: { ruleId: string }) => res.ruleId)
        .sort(),
    ).toEqual(['bridge-localhost-sidecar', 'deployment-no-headroom', 'health-check-needs-shell']);
  });

  it.each([
    ['critical', 0],
    ['high', 1],
    ['medium', 1],
    ['none', 0],
  ])('--fail-on %s exits %i', async (failOn, code) => {
    expect((await audit('--cluster', 'prod', '--format', 'json', '--fail-on', failOn)).code).toBe(code);
  });

  it('audits only the services named, without listing the cluster: the clean ones give no findings and exit 0', async () => {
    const before = sim.countCalls('ecs', 'ListServices');
    const r = await audit('--cluster', 'prod', '--service', 'checkout-web', '--service', world.arn.service('orders-worker'));
    expect(r).toEqual({ code: 0, stdout: 'No findings.\n', stderr: '' });
    expect(sim.countCalls('ecs', 'ListServices')).toBe(before);
  });

  it('one service with findings below the threshold exits 0 with --fail-on high, 1 with --fail-on low', async () => {
    const high = await audit('--cluster', 'prod', '--service', 'payments-api', '--fail-on', 'critical');
    expect(high.code).toBe(0);
    expect(high.stdout).toContain('3 findings: 1 high, 1 medium, 1 low.\n0 at or above --fail-on critical.\n');
  });
});

describe('what the cluster does not have', () => {
  it('a service whose target group was deleted: a note, its other settings still audited', async () => {
    const ghost = world.arn.legacyTargetGroup.replace('/legacy-api/', '/deleted-tg/');
    world.services.addService('prod', {
      name: 'ghost-lb',
      taskDefinition: 'orders-worker:1',
      desiredCount: 1,
      settings: {
        loadBalancers: [{ targetGroupArn: ghost, containerName: 'worker', containerPort: 9090 }],
        deploymentCircuitBreaker: { enable: true, rollback: true },
      },
    });
    const calls = sim.countCalls('elbv2', 'DescribeTargetGroups');
    const r = await audit('--cluster', 'prod', '--service', 'ghost-lb');
    expect(r).toEqual({
      code: 0,
      stdout: 'No findings.\n',
      stderr: `note: target group ${ghost} not found (deleted?): its health check and deregistration settings were not audited\n`,
    });
    // The batch failed as a whole, then the one ARN was asked alone.
    expect(sim.countCalls('elbv2', 'DescribeTargetGroups') - calls).toBe(2);
  });

  it('a cluster that does not exist: exit 2 with the AWS error', async () => {
    const r = await audit('--cluster', 'staging');
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr: 'ecs-caretaker audit: ListServices on cluster "staging" failed: ClusterNotFoundException: Cluster not found.\n',
    });
  });

  it('a service that does not exist: exit 2 naming it', async () => {
    const r = await audit('--cluster', 'prod', '--service', 'nope');
    expect(r).toEqual({ code: 2, stdout: '', stderr: `ecs-caretaker audit: cluster "prod": cannot describe service ${world.arn.service('nope')} (MISSING)\n` });
  });
});
