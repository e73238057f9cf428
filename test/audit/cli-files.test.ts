/**
 * `ecs-caretaker audit <files>`: CloudFormation templates and AWS CLI
 * describe output as input, batches with broken files, globs, --ignore,
 * inline suppressions, baselines, and fingerprints per file.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../functions/audit/cli.ts';
import { checkoutDescribed, checkoutService, fixturePath, runCli } from './support.ts';
import { sarifSchemaErrors } from './sarif-schema.ts';

const run = runCli;

const json = async (argv: string[], extra: Partial<CliIo> = {}) => {
  const r = await run([...argv, '--format', 'json'], extra);
  return { ...r, out: JSON.parse(r.stdout) };
};
const sarif = async (argv: string[], extra: Partial<CliIo> = {}) => {
  const r = await run([...argv, '--format', 'sarif'], extra);
  return { ...r, log: JSON.parse(r.stdout) };
};
const summaryOf = (findings: Array<{ rule: string; resource: string; file?: string; line?: number }>) =>
  findings.map((f) => `${f.rule} ${f.resource} ${f.file}:${f.line}`);

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'audit-files-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const write = async (name: string, value: unknown): Promise<string> => {
  const file = join(tmp, name);
  await writeFile(file, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  return file;
};

describe('CloudFormation templates', () => {
  it('runs the service and target group rules on a YAML template, linked through Ref and GetAtt, located on its lines', async () => {
    const { code, out, stderr } = await json(['audit', 'checkout-web.cfn.yaml']);
    expect(code).toBe(1);
    expect(summaryOf(out.findings)).toEqual([
      'deployment-no-headroom service:checkout-web checkout-web.cfn.yaml:72',
      'circuit-breaker-disabled service:checkout-web checkout-web.cfn.yaml:72',
      'alb-slow-health-check targetGroup:TargetGroup checkout-web.cfn.yaml:59',
      'alb-long-deregistration-delay targetGroup:TargetGroup checkout-web.cfn.yaml:59',
    ]);
    // DesiredCount came from the parameter's Default through !Ref.
    expect(out.findings[0].evidence).toContain('desiredCount 3, minimumHealthyPercent 100');
    // !If depends on a condition only a deployment decides: said, not guessed.
    expect(out.notes).toEqual([
      {
        uri: 'checkout-web.cfn.yaml',
        line: 79,
        column: 42,
        message:
          'Resources.Service.Properties.HealthCheckGracePeriodSeconds: Fn::If on condition IsProd: cannot be resolved without deploying, audited as if unset',
      },
    ]);
    expect(stderr).toContain('note: checkout-web.cfn.yaml:79:42: Resources.Service.Properties.HealthCheckGracePeriodSeconds: Fn::If');
  });

  it('links the service to its task definition: a grace period with nothing to delay is found only through the Ref', async () => {
    const template = (await readFile(fixturePath('checkout-web.cfn.yaml'), 'utf8'))
      .replace(/ {6}LoadBalancers:\n(?: {8}.*\n)+/, '')
      .replace(/ {10}HealthCheck:\n(?: {12}.*\n)+/, '')
      .replace('!If [IsProd, 60, 30]', '60');
    const file = await write('no-lb.cfn.yaml', template);
    const { out } = await json(['audit', file]);
    expect(out.findings.map((f: { rule: string }) => f.rule)).toContain('grace-period-without-health-check');
    const broken = await write('no-lb-other-td.cfn.yaml', template.replace('TaskDefinition: !Ref TaskDefinition', 'TaskDefinition: checkout-web:7'));
    expect((await json(['audit', broken])).out.findings.map((f: { rule: string }) => f.rule)).not.toContain('grace-period-without-health-check');
  });

  it('reads a JSON template: Fn::Join, Fn::FindInMap, string-typed numbers and booleans, Metadata suppressions', async () => {
    const { code, out } = await json(['audit', 'orders-worker.cfn.json', '--fail-on', 'none']);
    expect(code).toBe(0);
    // The worker reaches the log router over localhost in bridge mode: found at the line of that environment value.
    expect(summaryOf(out.findings)).toContain('bridge-localhost-sidecar taskDefinition:WorkerTaskDefinition#container:worker orders-worker.cfn.json:20');
    // The service's circuit breaker has no rollback, which its Metadata accepts.
    expect(out.findings.map((f: { rule: string }) => f.rule)).not.toContain('circuit-breaker-no-rollback');
    expect(out.summary.suppressed).toEqual({ ignored: 0, inline: 1, baseline: 0 });
    expect(out.errors).toEqual([]);
  });

  it('reports a wrong property at its template path and line, and still audits the other files', async () => {
    const template = (await readFile(fixturePath('checkout-web.cfn.yaml'), 'utf8')).replace(
      'Command: [CMD-SHELL, curl -fsS http://127.0.0.1:8080/healthz || exit 1]',
      'Command: curl -fsS http://127.0.0.1:8080/healthz',
    );
    const file = await write('bad-command.cfn.yaml', template);
    const { code, out } = await json(['audit', file, 'orders-worker.cfn.json']);
    expect(code).toBe(2);
    expect(out.errors).toEqual([
      {
        uri: expect.stringMatching(/bad-command\.cfn\.yaml$/),
        line: 46,
        column: 22,
        message: expect.stringMatching(/^Resources\.TaskDefinition\.Properties\.ContainerDefinitions\[0\]\.HealthCheck\.Command: expected an array of strings/),
      },
    ]);
    // The service and target group of the broken template are still audited, and so is the other file.
    expect(out.findings.map((f: { rule: string }) => f.rule)).toEqual(
      expect.arrayContaining(['deployment-no-headroom', 'alb-slow-health-check', 'bridge-localhost-sidecar']),
    );
  });

  it('refuses a suppression that names no rule', async () => {
    const template = (await readFile(fixturePath('orders-worker.cfn.json'), 'utf8')).replace('"rule": "circuit-breaker-no-rollback"', '"rule": "no-rollback"');
    const { code, out } = await json(['audit', await write('typo.cfn.json', template)]);
    expect(code).toBe(2);
    expect(out.errors[0].message).toMatch(/^Resources\.WorkerService\.Metadata\.ecs-caretaker\.ignore\[0\]: unknown rule "no-rollback"/);
  });

  it('says where a YAML file is broken', async () => {
    const { code, out } = await json(['audit', await write('broken.yaml', 'Resources:\n  Web: [1, 2\nOther: 3\n')]);
    expect(code).toBe(2);
    expect(out.errors[0]).toMatchObject({ line: 3, column: 1, message: expect.stringContaining('invalid YAML') });
  });
});

describe('AWS CLI describe output', () => {
  const DESCRIBED = async () => write('checkout-web.describe-task-definition.json', { taskDefinition: checkoutDescribed() });

  it('audits describe-services with describe-target-groups, their attributes and the task definition as one cluster', async () => {
    const { code, out } = await json([
      'audit',
      'checkout-web.describe-services.json',
      'checkout-web.describe-target-groups.json',
      'checkout-web.describe-target-group-attributes.json',
      await DESCRIBED(),
    ]);
    // The checkout-web fixtures are a clean setup: nothing to report, and nothing missing.
    expect(code).toBe(0);
    expect(out.findings).toEqual([]);
    expect(out.notes).toEqual([]);
  });

  it('finds the service traps and points at the service in the describe-services file', async () => {
    const service = checkoutService();
    service.deploymentConfiguration = { ...service.deploymentConfiguration, minimumHealthyPercent: 100, maximumPercent: 100 };
    service.healthCheckGracePeriodSeconds = 0;
    const services = await write('prod.describe-services.json', {
      services: [{ ...checkoutService(), serviceName: 'other', serviceArn: 'x' }, service],
      failures: [],
    });
    const { code, out } = await json(['audit', services, 'checkout-web.describe-target-groups.json', 'checkout-web.describe-target-group-attributes.json']);
    expect(code).toBe(1);
    expect(out.findings.map((f: { rule: string; line: number }) => `${f.rule}:${f.line}`)).toEqual(['deployment-no-headroom:95', 'grace-period-missing:95']);
    expect(out.notes.map((n: { message: string }) => n.message)).toEqual([
      expect.stringContaining('runs arn:aws:ecs:eu-west-1:123456789012:task-definition/checkout-web:12, which no file of this run holds'),
      expect.stringContaining('runs arn:aws:ecs:eu-west-1:123456789012:task-definition/checkout-web:12, which no file of this run holds'),
    ]);
  });

  it('without attributes, says the deregistration delay is taken as the default', async () => {
    const { out } = await json(['audit', 'checkout-web.describe-target-groups.json']);
    expect(out.findings.map((f: { rule: string }) => f.rule)).toEqual(['alb-long-deregistration-delay']);
    expect(out.notes[0].message).toBe(
      'no describe-target-group-attributes output for checkout-web: deregistration_delay.timeout_seconds is taken as its default, 300 s',
    );
  });

  it('gives an attributes file to the target group it is named after, and refuses one it cannot place', async () => {
    const groups = JSON.parse(await readFile(fixturePath('checkout-web.describe-target-groups.json'), 'utf8'));
    const admin = { ...groups.TargetGroups[0], TargetGroupName: 'checkout-web-admin', TargetGroupArn: `${groups.TargetGroups[0].TargetGroupArn}0` };
    const two = await write('two.describe-target-groups.json', { TargetGroups: [groups.TargetGroups[0], admin] });
    const attributes = await readFile(fixturePath('checkout-web.describe-target-group-attributes.json'), 'utf8');
    const named = await write('checkout-web-admin.attributes.json', attributes);
    const { out } = await json(['audit', two, named]);
    // checkout-web-admin got its 5 s delay; checkout-web, given none, is audited with the default.
    expect(out.findings.map((f: { rule: string; resource: string }) => `${f.rule} ${f.resource.split('/')[1]}`)).toEqual([
      'alb-long-deregistration-delay checkout-web',
    ]);

    const anonymous = await write('attributes.json', attributes);
    const r = await json(['audit', two, anonymous]);
    expect(r.code).toBe(2);
    expect(r.out.errors[0].message).toMatch(
      /^cannot tell which target group these attributes belong to .*: name the file after it, e\.g\. checkout-web\.attributes\.json$/,
    );
  });

  it('checks the fields the rules read, with their line', async () => {
    const file = await write('bad.describe-services.json', { services: [{ ...checkoutService(), desiredCount: '3' }] });
    const { code, out } = await json(['audit', file]);
    expect(code).toBe(2);
    expect(out.errors).toEqual([{ uri: expect.any(String), line: 16, column: 23, message: 'services[0].desiredCount: expected an integer, got a string' }]);
  });
});

describe('batches', () => {
  it('expands a quoted glob, audits each file once, and reports a pattern that matches nothing', async () => {
    const { code, out } = await json(['audit', 'checkout-web.describe-*.json', 'checkout-web.describe-services.json', 'nothing-*.yaml']);
    expect(code).toBe(2);
    expect(out.errors).toEqual([{ uri: 'nothing-*.yaml', message: 'no file matches this pattern' }]);
    // services, target groups and attributes were all read: only the missing task definition is noted.
    expect(out.notes.map((n: { uri: string }) => n.uri)).toEqual(['checkout-web.describe-services.json']);
  });

  it('takes several --task-def values as a shell expands them: the rest become positional files', async () => {
    const files = ['payments-api.register.json', 'orders-worker.describe.json', 'checkout-web.register.json'];
    const r = await json(['audit', '--task-def', ...files]);
    const flags = await json(['audit', ...files.flatMap((f) => ['--task-def', f])]);
    expect(r.out.summary.total).toBeGreaterThan(0);
    expect(r.out).toEqual(flags.out);
    expect(r.out.errors).toEqual([]);
  });

  it('in SARIF, a broken file is a tool execution notification and the other files keep their results', async () => {
    const { code, log } = await sarif(['audit', 'payments-api.register.json', 'trailing-comma.json', 'checkout-web.cfn.yaml']);
    expect(code).toBe(2);
    expect(sarifSchemaErrors(log)).toEqual([]);
    const [runLog] = log.runs;
    expect(runLog.invocations).toEqual([
      {
        executionSuccessful: false,
        toolExecutionNotifications: [
          {
            level: 'error',
            message: { text: "invalid JSON: trailing comma before '}' is not allowed in JSON" },
            locations: [{ physicalLocation: { artifactLocation: { uri: 'trailing-comma.json' }, region: { startLine: 7, startColumn: 5 } } }],
          },
          expect.objectContaining({
            level: 'note',
            locations: [expect.objectContaining({ physicalLocation: expect.objectContaining({ artifactLocation: { uri: 'checkout-web.cfn.yaml' } }) })],
          }),
        ],
      },
    ]);
    const files = new Set(
      runLog.results.map(
        (r: { locations: Array<{ physicalLocation: { artifactLocation: { uri: string } } }> }) => r.locations[0]!.physicalLocation.artifactLocation.uri,
      ),
    );
    expect(files).toEqual(new Set(['payments-api.register.json', 'checkout-web.cfn.yaml']));
  });

  it('a clean SARIF run says it succeeded', async () => {
    const { log } = await sarif(['audit', 'checkout-web.register.json']);
    expect(log.runs[0].invocations).toEqual([{ executionSuccessful: true, toolExecutionNotifications: [] }]);
  });
});

describe('fingerprints', () => {
  const fingerprints = async (...files: string[]) =>
    (await sarif(['audit', ...files])).log.runs[0].results.map(
      (r: { ruleId: string; locations: Array<{ physicalLocation: { artifactLocation: { uri: string } } }>; partialFingerprints: Record<string, string> }) => ({
        key: `${r.ruleId} ${r.locations[0]!.physicalLocation.artifactLocation.uri}`,
        fp: r.partialFingerprints['ecsCaretakerFinding/v1'],
      }),
    );

  it('differ between two files that declare the same family, and survive lines added above', async () => {
    const text = await readFile(fixturePath('payments-api.register.json'), 'utf8');
    const a = await write('a-payments.json', text);
    const b = await write('b-payments.json', text);
    const one = await fingerprints(a);
    const both = await fingerprints(a, b);
    expect(one.length).toBeGreaterThan(0);
    expect(both).toHaveLength(2 * one.length);
    expect(new Set(both.map((x: { fp: string }) => x.fp)).size).toBe(both.length);

    await write('a-payments.json', `\n\n\n${text}`);
    expect(await fingerprints(a, b)).toEqual(both);
  });
});

describe('switching findings off', () => {
  it('--ignore drops a rule, repeated or comma-separated, and says how many were left out', async () => {
    const all = (await json(['audit', 'payments-api.register.json'])).out.findings.map((f: { rule: string }) => f.rule);
    const off = ['fargate-cpu-memory-invalid', 'health-check-needs-shell'];
    expect(all).toEqual(expect.arrayContaining(off));
    const { out } = await json([
      'audit',
      'payments-api.register.json',
      '--ignore',
      'fargate-cpu-memory-invalid,stop-timeout-long',
      // stop-timeout-long may or may not fire here: ignoring a rule with no finding is fine.
      '--ignore',
      'health-check-needs-shell',
    ]);
    expect(out.findings.map((f: { rule: string }) => f.rule)).toEqual(all.filter((r: string) => ![...off, 'stop-timeout-long'].includes(r)));
    expect(out.summary.suppressed).toEqual({ ignored: all.length - out.findings.length, inline: 0, baseline: 0 });
    const table = await run(['audit', 'payments-api.register.json', '--ignore', 'health-check-needs-shell']);
    expect(table.stdout).toContain('Not shown: 1 by --ignore.');
  });

  it("a baseline written today hides today's findings tomorrow, and only those", async () => {
    const baseline = join(tmp, 'baseline.json');
    const today = (await json(['audit', 'payments-api.register.json', 'checkout-web.cfn.yaml'])).out.summary.total;
    const wrote = await run(['audit', 'payments-api.register.json', 'checkout-web.cfn.yaml', '--write-baseline', baseline]);
    expect(wrote.code).toBe(0);
    expect(wrote.stderr).toContain(`wrote ${today} findings to ${baseline}`);
    const saved = JSON.parse(await readFile(baseline, 'utf8'));
    expect(saved.version).toBe(1);
    expect(saved.findings[0]).toEqual({
      fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/),
      rule: expect.any(String),
      resource: expect.any(String),
      file: 'checkout-web.cfn.yaml',
    });

    const again = await json(['audit', 'payments-api.register.json', 'checkout-web.cfn.yaml', '--baseline', baseline]);
    expect(again.code).toBe(0);
    expect(again.out.findings).toEqual([]);
    expect(again.out.summary.suppressed.baseline).toBe(today);

    // A new finding in a file already in the baseline still shows, alone.
    // The circuit breaker turned on without rollback: one finding fixed, one new.
    const template = (await readFile(fixturePath('checkout-web.cfn.yaml'), 'utf8')).replace(
      '        MaximumPercent: 100\n',
      '        MaximumPercent: 100\n        DeploymentCircuitBreaker: { Enable: true, Rollback: false }\n',
    );
    const changed = join(tmp, 'changed');
    await rm(changed, { recursive: true, force: true });
    await mkdir(changed);
    await writeFile(join(changed, 'payments-api.register.json'), await readFile(fixturePath('payments-api.register.json'), 'utf8'));
    await writeFile(join(changed, 'checkout-web.cfn.yaml'), template);
    const tomorrow = await json(['audit', 'payments-api.register.json', 'checkout-web.cfn.yaml', '--baseline', baseline], { cwd: changed });
    expect(tomorrow.out.findings.map((f: { rule: string }) => f.rule)).toEqual(['circuit-breaker-no-rollback']);

    // Re-writing the baseline in place keeps what it hid and adds the new finding; the fixed one leaves it.
    const rewrite = await run(['audit', 'payments-api.register.json', 'checkout-web.cfn.yaml', '--baseline', baseline, '--write-baseline', baseline], {
      cwd: changed,
    });
    expect(rewrite.code).toBe(0);
    const rewritten = JSON.parse(await readFile(baseline, 'utf8')).findings.map((f: { rule: string }) => f.rule);
    expect(rewritten).toHaveLength(today);
    expect(rewritten).toContain('circuit-breaker-no-rollback');
    expect(rewritten).not.toContain('circuit-breaker-disabled');
  });
});

describe('AWS CLI output as moto and AWS CLI v1 print it (fixtures/moto/SOURCES.md)', () => {
  const MOTO = ['moto/checkout-web.describe-services.json', 'moto/checkout-web.describe-target-groups.json', 'moto/checkout-web.describe-task-definition.json'];

  it('links service, task definition, target group and attributes, and finds what the live audit of the same server found', async () => {
    const { out } = await json(['audit', ...MOTO, 'moto/checkout-web.describe-target-group-attributes.json', '--fail-on', 'none']);
    expect(out.errors).toEqual([]);
    expect(out.notes).toEqual([]);
    expect(summaryOf(out.findings)).toEqual([
      'circuit-breaker-disabled arn:aws:ecs:eu-west-1:123456789012:service/prod/checkout-web moto/checkout-web.describe-services.json:3',
      'grace-period-missing arn:aws:ecs:eu-west-1:123456789012:service/prod/checkout-web moto/checkout-web.describe-services.json:3',
    ]);
  });

  it('two runs of captures side by side: each attributes file goes to the target group of its own folder', async () => {
    const { out } = await json([
      'audit',
      ...MOTO,
      'moto/checkout-web.describe-target-group-attributes.json',
      'checkout-web.describe-target-groups.json',
      'checkout-web.describe-target-group-attributes.json',
      '--fail-on',
      'none',
    ]);
    expect(out.errors).toEqual([]);
    expect(out.findings.map((f: { rule: string }) => f.rule)).not.toContain('alb-long-deregistration-delay');
  });

  it('without the attributes, the 5 s deregistration delay set with modify-target-group-attributes is unknown: the default is audited and noted', async () => {
    const { out } = await json(['audit', ...MOTO, '--fail-on', 'none']);
    expect(out.findings.map((f: { rule: string }) => f.rule)).toContain('alb-long-deregistration-delay');
    expect(out.notes).toHaveLength(1);
  });
});

describe('Terraform plans (terraform show -json, fixtures/terraform/SOURCES.md)', () => {
  it('runs the service and target group rules, linking a new service to its new task definition and target group through the configuration', async () => {
    const { code, out } = await json(['audit', 'terraform/checkout-web.tfplan.json']);
    expect(code).toBe(1);
    expect(out.findings.map((f: { rule: string; resource: string }) => `${f.rule} ${f.resource}`)).toEqual([
      'deployment-no-headroom aws_ecs_service.checkout',
      'circuit-breaker-disabled aws_ecs_service.checkout',
      'alb-slow-health-check aws_lb_target_group.checkout',
      'alb-long-deregistration-delay aws_lb_target_group.checkout',
    ]);
    // The target group's planned deregistration_delay is the provider's default, "300": no note needed.
    expect(out.findings[3].evidence).toBe('deregistration_delay.timeout_seconds 300: every stopped task keeps draining for up to 300 s');
    expect(out.errors).toEqual([]);
    expect(out.notes).toEqual([]);
  });

  it('follows references inside a module: the service sees that its task definition has no health check', async () => {
    const { out } = await json(['audit', 'terraform/orders-worker.tfplan.json', '--fail-on', 'none']);
    const grace = out.findings.find((f: { rule: string }) => f.rule === 'grace-period-without-health-check');
    expect(grace).toMatchObject({ resource: 'module.worker.aws_ecs_service.this', file: 'terraform/orders-worker.tfplan.json', line: 1 });
    expect(grace.evidence).toContain('taskDefinition:orders-worker has no container healthCheck');
  });

  it('notes a task definition whose containers are only known after apply, and audits the rest', async () => {
    const plan = JSON.parse(await readFile(fixturePath('terraform/orders-worker.tfplan.json'), 'utf8'));
    const td = plan.planned_values.root_module.child_modules[0].resources.find((r: { type: string }) => r.type === 'aws_ecs_task_definition');
    delete td.values.container_definitions;
    const { out } = await json(['audit', await write('unknown.tfplan.json', plan), '--fail-on', 'none']);
    expect(out.notes.map((n: { message: string }) => n.message)).toEqual([
      'planned_values.root_module.child_modules[0].resources[1]: module.worker.aws_ecs_task_definition.this: container_definitions is only known after apply: not audited',
    ]);
    expect(out.errors).toEqual([]);
  });
});
