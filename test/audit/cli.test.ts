/**
 * The `ecs-caretaker audit` command, run in-process: formats, exit codes,
 * usage errors, and live mode against mocked ECS and a fake ELBv2 reader
 * (cli-sim.test.ts runs it against the simulator with real SDK clients).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeServicesCommand, DescribeTaskDefinitionCommand, ECSClient, ListServicesCommand, type Service } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Elbv2Reader } from '../../functions/audit/live.ts';
import { RULES, type TargetGroup } from '../../functions/audit/rules.ts';
import { checkoutDescribed, checkoutRegister, checkoutService, checkoutTargetGroup, runCli } from './support.ts';

const run = runCli;

// payments-api: 2 high (Fargate size, shell-less health check), 1 medium (stopTimeout 180 on Fargate).
const PAYMENTS = 'payments-api.register.json';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'audit-cli-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Writes a variant of the checkout-web file and returns its path. */
async function checkoutVariant(name: string, change: (td: ReturnType<typeof checkoutRegister>) => void): Promise<string> {
  const td = checkoutRegister();
  change(td);
  const file = join(tmp, name);
  await writeFile(file, JSON.stringify(td, null, 2));
  return file;
}

describe('misspelled keys in files', () => {
  it('reports a misspelled key in a task-definition file, which hides its health check', async () => {
    const file = await checkoutVariant('misspelled.json', (td) => {
      const app = td.containerDefinitions![0] as Record<string, unknown>;
      app.healthcheck = app.healthCheck;
      delete app.healthCheck;
    });
    const r = await run(['audit', '--format', 'json', file]);
    const out = JSON.parse(r.stdout);
    const found = out.findings.filter((f: { rule: string }) => f.rule === 'unknown-key');
    expect(found).toHaveLength(1);
    expect(found[0].evidence).toContain('"healthcheck"');
    expect(found[0].fix).toBe('rename "healthcheck" to "healthCheck"');
  });
});

describe('table output and exit codes', () => {
  it('prints "No findings." and exits 0 for a clean file', async () => {
    const r = await run(['audit', '--task-def', 'checkout-web.register.json']);
    expect(r).toEqual({ code: 0, stdout: 'No findings.\n', stderr: '' });
  });

  it('prints the most severe findings first, with the file position, and exits 1 at the default --fail-on high', async () => {
    const r = await run(['audit', '--task-def', PAYMENTS]);
    expect(r.code).toBe(1);
    const rows = r.stdout.split('\n').filter((l) => /^(critical|high|medium|low|info)\s/.test(l));
    expect(rows.map((l) => l.split(/\s+/).slice(0, 2).join(' '))).toEqual([
      'high fargate-cpu-memory-invalid',
      'high health-check-needs-shell',
      'medium fargate-stop-timeout-over-max',
    ]);
    expect(r.stdout).toContain('taskDefinition:payments-api#container:api  (payments-api.register.json:16:20)');
    expect(r.stdout).toContain('fix: set memory to 2048-8192 MiB in 1024 MiB steps');
    expect(r.stdout).toContain('3 findings: 2 high, 1 medium.\n2 at or above --fail-on high.\n');
  });

  it.each([
    ['critical', 0],
    ['high', 1],
    ['none', 0],
    ['info', 1],
  ])('--fail-on %s exits %i on the payments-api file', async (failOn, code) => {
    expect((await run(['audit', '--task-def', PAYMENTS, '--fail-on', failOn])).code).toBe(code);
  });

  it('--fail-on compares at-or-above: a medium finding fails medium but not high', async () => {
    const file = await checkoutVariant('medium-only.json', (td) => (td.containerDefinitions![0]!.stopTimeout = 300));
    expect((await run(['audit', '--task-def', file, '--fail-on', 'high'])).code).toBe(0);
    expect((await run(['audit', '--task-def', file, '--fail-on', 'medium'])).code).toBe(1);
    expect((await run(['audit', '--task-def', file, '--fail-on', 'low'])).code).toBe(1);
  });

  it('audits several files in one run', async () => {
    const r = await run([
      'audit',
      '--task-def',
      'checkout-web.register.json',
      '--task-def',
      'orders-worker.describe.json',
      '--task-def',
      PAYMENTS,
      '--format',
      'json',
    ]);
    expect(JSON.parse(r.stdout).summary.total).toBe(3);
  });
});

describe('input errors exit 2', () => {
  it('names the JSON path and line of a malformed file', async () => {
    const r = await run(['audit', '--task-def', 'broken-health-check.json']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('No findings.\n');
    expect(r.stderr).toBe(
      'ecs-caretaker audit: 1 file not audited\n' +
        '  broken-health-check.json:21:20: containerDefinitions[1].healthCheck.command: expected an array of strings such as ["CMD-SHELL", "curl -f http://127.0.0.1/ || exit 1"], got a string\n',
    );
  });

  it('reports every bad file, including unparseable and missing ones, and still audits the good ones', async () => {
    const r = await run(['audit', '--task-def', PAYMENTS, '--task-def', 'trailing-comma.json', '--task-def', 'missing.json']);
    expect(r.code).toBe(2);
    // payments-api's own findings are there, its two high ones among them.
    expect(r.stdout).toMatch(/^high +fargate-cpu-memory-invalid +taskDefinition:payments-api /m);
    expect(r.stdout).toMatch(/^high +health-check-needs-shell +taskDefinition:payments-api#container:api /m);
    expect(r.stderr).toContain('ecs-caretaker audit: 2 files not audited');
    expect(r.stderr).toContain("trailing-comma.json:7:5: invalid JSON: trailing comma before '}' is not allowed in JSON");
    expect(r.stderr).toContain('missing.json: cannot read: no such file');
  });

  it.each([
    [[], 'missing command: audit'],
    [['lint', '--task-def', 'x.json'], 'unknown command "lint": the only command is audit'],
    [['audit'], 'nothing to audit: give files (task definitions, templates, AWS CLI output) or --cluster <name>'],
    [['audit', '--task-def', 'a.json', '--cluster', 'prod'], 'use either files or --cluster, not both'],
    [['audit', 'a.json', '--cluster', 'prod'], 'use either files or --cluster, not both'],
    [['audit', 'a.json', '--ignore', 'stop-timeout-long,no-such-rule'], '--ignore: unknown rule "no-such-rule" (ecs-caretaker audit --list-rules prints them)'],
    [['audit', 'a.json', '--baseline', 'missing-baseline.json'], '--baseline missing-baseline.json: no such file (create it with --write-baseline)'],
    [
      ['audit', PAYMENTS, '--baseline', PAYMENTS],
      '--baseline payments-api.register.json: expected {"version": 1, "findings": [...]}, as --write-baseline writes',
    ],
    [['audit', '--task-def', 'a.json', '--service', 'web'], '--service needs --cluster'],
    [['audit', '--task-def', 'a.json', '--format', 'xml'], '--format: expected one of table, json, sarif, got "xml"'],
    [['audit', '--task-def', 'a.json', '--fail-on', 'urgent'], '--fail-on: expected one of info, low, medium, high, critical or none, got "urgent"'],
    [['audit', '--task-def', 'a.json', '--verbose'], "Unknown option '--verbose'"],
    [['audit', '--task-def'], "Option '--task-def <value>' argument missing"],
    [['audit', '--cluster', 'prod'], '--cluster needs a region: pass --region or set AWS_REGION'],
  ])('%j: %s', async (argv, message) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`ecs-caretaker audit: ${message}`);
  });

  it('prints the usage on --help and exits 0', async () => {
    const r = await run(['audit', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Exit codes: 0 no finding at or above --fail-on, 1 at least one, 2 usage or input error');
  });
});

describe('JSON output', () => {
  it('gives each finding with its rule title, source and file position, and a summary', async () => {
    const r = await run(['audit', '--task-def', PAYMENTS, '--format', 'json']);
    const out = JSON.parse(r.stdout);
    expect(out.summary).toEqual({
      total: 3,
      bySeverity: { critical: 0, high: 2, medium: 1, low: 0, info: 0 },
      failing: 2,
      failOn: 'high',
      suppressed: { ignored: 0, inline: 0, baseline: 0 },
    });
    expect(out.errors).toEqual([]);
    expect(out.findings[0]).toEqual({
      rule: 'fargate-cpu-memory-invalid',
      severity: 'high',
      title: 'Task cpu/memory is not a Fargate size',
      resource: 'taskDefinition:payments-api',
      evidence: expect.stringContaining('memory 512 MiB is not valid with cpu 1024'),
      fix: expect.stringContaining('set memory to'),
      source: 'https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-cpu-memory-error.html',
      file: PAYMENTS,
      line: 7,
      column: 13,
      fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  it('--list-rules --format json prints the rule table', async () => {
    const r = await run(['audit', '--list-rules', '--format', 'json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(RULES);
  });
});

describe('SARIF output', () => {
  const LEVELS = ['none', 'note', 'warning', 'error'];

  it('is a SARIF 2.1.0 log with the properties the spec and GitHub code scanning require', async () => {
    const r = await run(['audit', '--task-def', PAYMENTS, '--format', 'sarif']);
    expect(r.code).toBe(1);
    const log = JSON.parse(r.stdout);
    expect(log.version).toBe('2.1.0');
    expect(log.$schema).toMatch(/sarif-schema-2\.1\.0\.json$/);
    expect(log.runs).toHaveLength(1);
    const [runLog] = log.runs;
    const driver = runLog.tool.driver;
    expect(driver.name).toBe('ecs-caretaker audit');
    expect(driver.rules.map((rule: { id: string }) => rule.id)).toEqual(RULES.map((rule) => rule.id));
    for (const rule of driver.rules) {
      expect(rule.shortDescription.text.length).toBeGreaterThan(0);
      expect(rule.helpUri).toMatch(/^https:\/\//);
      expect(LEVELS).toContain(rule.defaultConfiguration.level);
    }
    expect(runLog.results).toHaveLength(3);
    for (const result of runLog.results) {
      expect(driver.rules[result.ruleIndex].id).toBe(result.ruleId);
      expect(LEVELS).toContain(result.level);
      expect(result.message.text.length).toBeGreaterThan(0);
      const physical = result.locations[0].physicalLocation;
      expect(physical.artifactLocation.uri).toBe(PAYMENTS);
      expect(physical.region.startLine).toBeGreaterThanOrEqual(1);
      expect(Object.values(result.partialFingerprints)[0]).toMatch(/^[0-9a-f]{64}$/);
    }
    const needsShell = runLog.results.find((res: { ruleId: string }) => res.ruleId === 'health-check-needs-shell');
    expect(needsShell.level).toBe('error');
    expect(needsShell.locations[0].physicalLocation.region).toEqual({ startLine: 16, startColumn: 20 });
    expect(runLog.results.find((res: { ruleId: string }) => res.ruleId === 'fargate-stop-timeout-over-max').level).toBe('warning');
  });

  it('keeps fingerprints stable across runs, so code scanning tracks one alert per finding', async () => {
    const fingerprints = async () =>
      JSON.parse((await run(['audit', '--task-def', PAYMENTS, '--format', 'sarif'])).stdout).runs[0].results.map(
        (res: { partialFingerprints: object }) => res.partialFingerprints,
      );
    const first = await fingerprints();
    expect(await fingerprints()).toEqual(first);
    expect(new Set(first.map((f: object) => JSON.stringify(f))).size).toBe(first.length);
  });

  it('is valid with no results', async () => {
    const log = JSON.parse((await run(['audit', '--task-def', 'checkout-web.register.json', '--format', 'sarif'])).stdout);
    expect(log.runs[0].results).toEqual([]);
    expect(log.runs[0].tool.driver.rules).toHaveLength(RULES.length);
  });
});

describe('live mode', () => {
  const ecsClient = new ECSClient({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const ecs = mockClient(ecsClient);
  beforeEach(() => ecs.reset());

  /** Twelve copies of the checkout-web service, to cross the 10-per-call DescribeServices limit. */
  const arns = Array.from({ length: 12 }, (_, i) => `arn:aws:ecs:eu-west-1:123456789012:service/prod/checkout-web-${i}`);
  const serviceFor = (arn: string): Service => ({ ...checkoutService(), serviceArn: arn, serviceName: arn.split('/').pop() });

  function cluster(change: (td: ReturnType<typeof checkoutDescribed>) => void = () => {}) {
    ecs
      .on(ListServicesCommand)
      .resolvesOnce({ serviceArns: arns.slice(0, 10), nextToken: 'page-2' })
      .resolvesOnce({ serviceArns: arns.slice(10) });
    ecs.on(DescribeServicesCommand).callsFake((input: { services: string[] }) => ({ services: input.services.map(serviceFor), failures: [] }));
    const td = checkoutDescribed();
    change(td);
    ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: td });
  }

  const elbv2 = (tg: TargetGroup, deregistrationDelay: string): Elbv2Reader & { calls: string[] } => {
    const calls: string[] = [];
    return {
      calls,
      describeTargetGroups: async (arnsAsked) => {
        calls.push(`describeTargetGroups ${arnsAsked.join(',')}`);
        return [tg];
      },
      describeTargetGroupAttributes: async (arn) => {
        calls.push(`describeTargetGroupAttributes ${arn}`);
        return [{ Key: 'deregistration_delay.timeout_seconds', Value: deregistrationDelay }];
      },
    };
  };

  it('audits every service of the cluster, their task definition and target group', async () => {
    cluster((td) => (td.memory = '5120'));
    const { targetGroup } = checkoutTargetGroup();
    const reader = elbv2({ ...targetGroup, HealthCheckIntervalSeconds: 30, HealthyThresholdCount: 5 }, '300');
    const r = await run(['audit', '--cluster', 'prod', '--format', 'json'], { clients: { ecs: ecsClient, elbv2: reader } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const rules = JSON.parse(r.stdout).findings.map((f: { rule: string; resource: string }) => `${f.rule} ${f.resource}`);
    expect(rules).toEqual([
      'fargate-cpu-memory-invalid taskDefinition:checkout-web:12',
      `alb-slow-health-check ${targetGroup.TargetGroupArn}`,
      `alb-long-deregistration-delay ${targetGroup.TargetGroupArn}`,
    ]);
    expect(ecs.commandCalls(DescribeServicesCommand).map((c) => c.args[0].input.services?.length)).toEqual([10, 2]);
    expect(ecs.commandCalls(ListServicesCommand).map((c) => c.args[0].input.nextToken)).toEqual([undefined, 'page-2']);
    // Twelve services share one task definition and one target group: each is read once.
    expect(ecs.commandCalls(DescribeTaskDefinitionCommand)).toHaveLength(1);
    expect(reader.calls).toEqual([`describeTargetGroups ${targetGroup.TargetGroupArn}`, `describeTargetGroupAttributes ${targetGroup.TargetGroupArn}`]);
  });

  /** A reader for a cluster whose target groups were all deleted. */
  const noTargetGroups = (): Elbv2Reader & { calls: string[] } => {
    const calls: string[] = [];
    return {
      calls,
      describeTargetGroups: async (arnsAsked) => {
        calls.push(`describeTargetGroups ${arnsAsked.join(',')}`);
        return [];
      },
      describeTargetGroupAttributes: async (arn) => {
        throw new Error(`unexpected DescribeTargetGroupAttributes ${arn}`);
      },
    };
  };

  it('audits only the named services, and says when a target group no longer exists', async () => {
    ecs.on(DescribeServicesCommand).resolves({ services: [checkoutService()], failures: [] });
    ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: checkoutDescribed() });
    const reader = noTargetGroups();
    const r = await run(['audit', '--cluster', 'prod', '--service', 'checkout-web'], { clients: { ecs: ecsClient, elbv2: reader } });
    expect(r).toMatchObject({ code: 0, stdout: 'No findings.\n' });
    const { targetGroup } = checkoutTargetGroup();
    expect(r.stderr).toBe(
      `note: target group ${targetGroup.TargetGroupArn} not found (deleted?): its health check and deregistration settings were not audited\n`,
    );
    expect(reader.calls).toEqual([`describeTargetGroups ${targetGroup.TargetGroupArn}`]);
    expect(ecs.commandCalls(ListServicesCommand)).toHaveLength(0);
    expect(ecs.commandCalls(DescribeServicesCommand)[0]!.args[0].input).toEqual({ cluster: 'prod', services: ['checkout-web'] });
  });

  it('exits 2 naming a service that does not exist', async () => {
    ecs
      .on(DescribeServicesCommand)
      .resolves({ services: [], failures: [{ arn: 'arn:aws:ecs:eu-west-1:123456789012:service/prod/checkout', reason: 'MISSING' }] });
    const r = await run(['audit', '--cluster', 'prod', '--service', 'checkout'], { clients: { ecs: ecsClient, elbv2: noTargetGroups() } });
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr: 'ecs-caretaker audit: cluster "prod": cannot describe service arn:aws:ecs:eu-west-1:123456789012:service/prod/checkout (MISSING)\n',
    });
  });

  it('exits 2 with the AWS error when the cluster does not exist', async () => {
    const error = Object.assign(new Error('Cluster not found.'), { name: 'ClusterNotFoundException' });
    ecs.on(ListServicesCommand).rejects(error);
    const r = await run(['audit', '--cluster', 'staging'], { clients: { ecs: ecsClient, elbv2: noTargetGroups() } });
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr: 'ecs-caretaker audit: ListServices on cluster "staging" failed: ClusterNotFoundException: Cluster not found.\n',
    });
  });

  it('exits 2 with the AWS error when the target groups cannot be read', async () => {
    ecs.on(DescribeServicesCommand).resolves({ services: [checkoutService()], failures: [] });
    ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: checkoutDescribed() });
    const denied: Elbv2Reader = {
      describeTargetGroups: async () => {
        throw Object.assign(new Error('User is not authorized to perform: elasticloadbalancing:DescribeTargetGroups'), { name: 'AccessDenied' });
      },
      describeTargetGroupAttributes: async () => [],
    };
    const r = await run(['audit', '--cluster', 'prod', '--service', 'checkout-web'], { clients: { ecs: ecsClient, elbv2: denied } });
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr: 'ecs-caretaker audit: DescribeTargetGroups failed: AccessDenied: User is not authorized to perform: elasticloadbalancing:DescribeTargetGroups\n',
    });
  });

  it('skips INACTIVE services, which run nothing', async () => {
    ecs
      .on(DescribeServicesCommand)
      .resolves({ services: [{ ...checkoutService(), status: 'INACTIVE', deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 100 } }] });
    const reader = noTargetGroups();
    const r = await run(['audit', '--cluster', 'prod', '--service', 'checkout-web'], { clients: { ecs: ecsClient, elbv2: reader } });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('note: skipped arn:aws:ecs:eu-west-1:123456789012:service/prod/checkout-web: INACTIVE\n');
    expect(ecs.commandCalls(DescribeTaskDefinitionCommand)).toHaveLength(0);
    expect(reader.calls).toEqual([]);
  });
});
