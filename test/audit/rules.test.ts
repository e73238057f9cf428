/**
 * Every rule fires on a realistic shape with the trap in it, and stays quiet
 * on the same shape without it. The baselines are a well-tuned Fargate web
 * service (checkout-web) and an EC2 bridge-mode worker (orders-worker), as
 * the ECS and ELBv2 APIs return them.
 */
import type { ContainerDefinition, Service, TaskDefinition } from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import { audit, RULES, shellLessImage, type AuditInput, type Finding, type RuleId } from '../../functions/audit/rules.ts';
import { checkTaskDefinitionKeys } from '../../functions/audit/taskdef-model.ts';
import { checkoutDescribed, checkoutRegister, checkoutService, checkoutTargetGroup, ordersWorker } from './support.ts';

const fired = new Set<RuleId>();

function findings(input: AuditInput, rule: RuleId): Finding[] {
  const all = audit(input);
  const mine = all.filter((f) => f.rule === rule);
  for (const f of mine) fired.add(f.rule);
  return mine;
}

const only = (input: AuditInput, rule: RuleId): Finding => {
  const list = findings(input, rule);
  expect(list).toHaveLength(1);
  return list[0]!;
};

const container = (td: TaskDefinition, name: string): ContainerDefinition => td.containerDefinitions!.find((c) => c.name === name)!;

/** checkout-web with its service and target group: the whole chain the service rules read. */
const checkoutWorld = (change: (w: { td: TaskDefinition; service: Service; tg: ReturnType<typeof checkoutTargetGroup> }) => void = () => {}): AuditInput => {
  const w = { td: checkoutDescribed(), service: checkoutService(), tg: checkoutTargetGroup() };
  change(w);
  return { services: [w.service], taskDefinitions: [w.td], targetGroups: [w.tg] };
};

describe('baselines', () => {
  it('a well-tuned Fargate service with its target group has no findings', () => {
    expect(audit(checkoutWorld())).toEqual([]);
  });

  it('the register-task-definition file of that service has no findings', () => {
    expect(audit({ taskDefinitions: [checkoutRegister()] })).toEqual([]);
  });

  it('an EC2 bridge-mode worker with a short stopTimeout has no findings', () => {
    expect(audit({ taskDefinitions: [ordersWorker()] })).toEqual([]);
  });
});

describe('fargate-cpu-memory-invalid', () => {
  it('fires on 1 vCPU with 512 MiB and says which sizes would fit', () => {
    const td = checkoutRegister();
    td.cpu = '1024';
    td.memory = '512';
    const f = only({ taskDefinitions: [td] }, 'fargate-cpu-memory-invalid');
    expect(f).toMatchObject({ severity: 'high', resource: 'taskDefinition:checkout-web', location: { taskDefinition: 0, path: 'memory' } });
    expect(f.evidence).toContain('memory 512 MiB is not valid with cpu 1024 (1 vCPU), which allows 2048-8192 MiB in 1024 MiB steps');
    expect(f.fix).toBe('set memory to 2048-8192 MiB in 1024 MiB steps, or keep memory 512 MiB with cpu 256 (0.25 vCPU)');
  });

  it('fires on 8 vCPU with 18 GB (8 vCPU takes 4 GB steps from 16 GB)', () => {
    const td = checkoutRegister();
    td.cpu = '8 vCPU';
    td.memory = '18 GB';
    expect(only({ taskDefinitions: [td] }, 'fargate-cpu-memory-invalid').evidence).toContain('memory 18432 MiB is not valid with cpu 8192 (8 vCPU)');
  });

  it('fires when Fargate task-level memory is missing', () => {
    const td = checkoutRegister();
    delete td.memory;
    expect(only({ taskDefinitions: [td] }, 'fargate-cpu-memory-invalid')).toMatchObject({
      location: { path: 'memory' },
      evidence: expect.stringContaining('task-level memory is not set'),
    });
  });

  it('fires on cpu 512 for a Windows task (Windows on Fargate starts at 1 vCPU)', () => {
    const td = checkoutRegister();
    td.runtimePlatform = { operatingSystemFamily: 'WINDOWS_SERVER_2022_CORE', cpuArchitecture: 'X86_64' };
    td.memory = '2048';
    expect(only({ taskDefinitions: [td] }, 'fargate-cpu-memory-invalid')).toMatchObject({
      location: { path: 'cpu' },
      evidence: expect.stringContaining('not a Fargate size for Windows'),
    });
  });

  it('fires on a task definition without requiresCompatibilities that a service runs on Fargate', () => {
    const input = checkoutWorld(({ td }) => {
      delete td.requiresCompatibilities;
      td.memory = '5 GB';
    });
    expect(only(input, 'fargate-cpu-memory-invalid').evidence).toContain('a service runs it on Fargate');
  });

  it('accepts sizes written in vCPU and GB', () => {
    const td = checkoutRegister();
    td.cpu = '0.25 vCPU';
    td.memory = '0.5 GB';
    expect(findings({ taskDefinitions: [td] }, 'fargate-cpu-memory-invalid')).toEqual([]);
  });

  it('ignores sizes of EC2-only task definitions, which are not limited to the Fargate table', () => {
    const td = ordersWorker();
    td.cpu = '300';
    td.memory = '700';
    expect(findings({ taskDefinitions: [td] }, 'fargate-cpu-memory-invalid')).toEqual([]);
  });
});

describe('health-check-command-malformed', () => {
  it.each([
    [['curl -f http://127.0.0.1:8080/healthz'], 'does not start with "CMD" or "CMD-SHELL"'],
    [['CMD', 'curl -f http://127.0.0.1:8080/healthz'], 'an executable literally named "curl -f http://127.0.0.1:8080/healthz"'],
    [['CMD-SHELL', '  '], 'has nothing to run after "CMD-SHELL"'],
  ])('fires on %j', (command, evidence) => {
    const td = checkoutRegister();
    container(td, 'app').healthCheck!.command = command;
    const f = only({ taskDefinitions: [td] }, 'health-check-command-malformed');
    expect(f).toMatchObject({
      severity: 'high',
      resource: 'taskDefinition:checkout-web#container:app',
      location: { path: 'containerDefinitions[0].healthCheck.command' },
    });
    expect(f.evidence).toContain(evidence);
  });

  it('suggests the split exec form for a CMD written as one string', () => {
    const td = checkoutRegister();
    container(td, 'app').healthCheck!.command = ['CMD', 'curl -f http://127.0.0.1:8080/healthz'];
    expect(only({ taskDefinitions: [td] }, 'health-check-command-malformed').fix).toContain('["CMD","curl","-f","http://127.0.0.1:8080/healthz"]');
  });

  it('accepts CMD with separate arguments and CMD-SHELL with one command string', () => {
    const td = checkoutRegister();
    container(td, 'otel-collector').healthCheck!.command = ['CMD', '/healthcheck', '--port', '13133'];
    expect(findings({ taskDefinitions: [td] }, 'health-check-command-malformed')).toEqual([]);
  });
});

describe('health-check-needs-shell', () => {
  it.each([
    ['gcr.io/distroless/nodejs22-debian12:nonroot', ['CMD-SHELL', 'curl -f http://127.0.0.1:8080/healthz || exit 1'], '/bin/sh'],
    [
      'cgr.dev/chainguard/static:latest@sha256:853bfd4495abb4b65ede8fc9332513ca2626235589c2cef59b4fce5082d0836d',
      ['CMD', 'wget', '-qO-', 'http://127.0.0.1:8080/healthz'],
      'wget',
    ],
    [
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com/checkout-web-5f3b8c0d2e9a4b7c1d6e8f0a2b4c6d8e:v1.42.0',
      ['CMD', '/usr/bin/curl', '-f', 'http://127.0.0.1:8080/healthz'],
      '/usr/bin/curl',
    ],
  ])('fires for %s', (image, command, needs) => {
    const td = checkoutRegister();
    const app = container(td, 'app');
    app.image = image;
    app.healthCheck!.command = command;
    const f = only({ taskDefinitions: [td] }, 'health-check-needs-shell');
    expect(f.severity).toBe('high');
    expect(f.evidence).toContain(`needs ${needs}`);
  });

  it('stays quiet for a health check built into the binary of a distroless image', () => {
    const td = checkoutRegister();
    const app = container(td, 'app');
    app.image = 'gcr.io/distroless/static-debian12:nonroot';
    app.healthCheck!.command = ['CMD', '/app', 'healthcheck'];
    expect(findings({ taskDefinitions: [td] }, 'health-check-needs-shell')).toEqual([]);
  });

  it('stays quiet for CMD-SHELL on an ordinary image and on a distroless :debug image (busybox shell)', () => {
    const td = checkoutRegister();
    expect(findings({ taskDefinitions: [td] }, 'health-check-needs-shell')).toEqual([]);
    container(td, 'app').image = 'gcr.io/distroless/base-debian12:debug';
    expect(findings({ taskDefinitions: [td] }, 'health-check-needs-shell')).toEqual([]);
  });

  it.each([
    ['gcr.io/distroless/static@sha256:41972110a1c1a5c0b6adb283e8aa092c43c31f7c5d79b8656fbffff2c3e61f05', true],
    ['ko.local/github.com/acme/checkout/cmd/web:latest', true],
    ['node:22-bookworm-slim', false],
    ['123456789012.dkr.ecr.eu-west-1.amazonaws.com/distroless-migration-tool:1.0', false],
    ['public.ecr.aws/docker/library/alpine:3.20', false],
  ])('recognises %s as shell-less: %s', (image, expected) => {
    expect(shellLessImage(image) !== undefined).toBe(expected);
  });
});

describe('depends-on-healthy-without-health-check', () => {
  it('fires when the sidecar waited for HEALTHY has no health check', () => {
    const td = checkoutRegister();
    delete container(td, 'otel-collector').healthCheck;
    const f = only({ taskDefinitions: [td] }, 'depends-on-healthy-without-health-check');
    expect(f).toMatchObject({ resource: 'taskDefinition:checkout-web#container:app', location: { path: 'containerDefinitions[0].dependsOn[0]' } });
    expect(f.fix).toContain('add a healthCheck to container "otel-collector"');
  });

  it('stays quiet for a START dependency on a container without health check', () => {
    const td = checkoutRegister();
    delete container(td, 'otel-collector').healthCheck;
    container(td, 'app').dependsOn = [{ containerName: 'otel-collector', condition: 'START' }];
    expect(findings({ taskDefinitions: [td] }, 'depends-on-healthy-without-health-check')).toEqual([]);
  });
});

/** checkout-web moved to EC2 with the given network mode (undefined: not set). */
const onEc2 = (networkMode: TaskDefinition['networkMode'] | undefined): TaskDefinition => {
  const td = checkoutRegister();
  td.requiresCompatibilities = ['EC2'];
  if (networkMode === undefined) delete td.networkMode;
  else td.networkMode = networkMode;
  return td;
};

describe('link-to-unknown-container', () => {
  // The shape of a public PHP-FPM + nginx task (test/fixtures/audit-corpus/php-nginx-ecs-docker__task-definition.json).
  const phpNginx = (link: string): TaskDefinition => ({
    family: 'php-nginx',
    networkMode: 'bridge',
    requiresCompatibilities: ['EC2'],
    containerDefinitions: [
      { name: 'php-app-container', image: '12345678.dkr.ecr.eu-west-1.amazonaws.com/php-app:1.0.0', essential: false, portMappings: [{ containerPort: 9000 }] },
      {
        name: 'nginx-web-container',
        image: '12345678.dkr.ecr.eu-west-1.amazonaws.com/nginx-web:1.0.0',
        essential: true,
        links: [link],
        portMappings: [{ containerPort: 80 }],
      },
    ],
  });

  it('fires on a link to a name no container has, suggesting the container whose name it resembles', () => {
    const f = only({ taskDefinitions: [phpNginx('app-container:app-container')] }, 'link-to-unknown-container');
    expect(f).toMatchObject({
      severity: 'high',
      resource: 'taskDefinition:php-nginx#container:nginx-web-container',
      location: { path: 'containerDefinitions[1].links[0]' },
    });
    expect(f.evidence).toContain('no container of taskDefinition:php-nginx is named "app-container"');
    expect(f.fix).toBe('link "php-app-container:app-container", or rename the container');
  });

  it('stays quiet on "name" and "name:alias" links to containers of the task', () => {
    expect(findings({ taskDefinitions: [phpNginx('php-app-container'), phpNginx('php-app-container:php')] }, 'link-to-unknown-container')).toEqual([]);
  });
});

describe('bridge-localhost-sidecar', () => {
  it('fires when the app calls the collector over 127.0.0.1 in bridge mode', () => {
    const f = only({ taskDefinitions: [onEc2('bridge')] }, 'bridge-localhost-sidecar');
    expect(f).toMatchObject({
      severity: 'high',
      resource: 'taskDefinition:checkout-web#container:app',
      location: { path: 'containerDefinitions[0].environment[1].value' },
    });
    expect(f.evidence).toContain(`targets 127.0.0.1:4317, which is container "otel-collector"'s containerPort`);
  });

  it('fires when networkMode is not set on EC2, which means bridge', () => {
    expect(only({ taskDefinitions: [onEc2(undefined)] }, 'bridge-localhost-sidecar').evidence).toContain('networkMode not set (bridge)');
  });

  it('stays quiet in awsvpc mode, and for a container checking its own port in bridge mode', () => {
    expect(findings({ taskDefinitions: [onEc2('awsvpc')] }, 'bridge-localhost-sidecar')).toEqual([]);
    const td = onEc2('bridge');
    container(td, 'app').environment = [];
    expect(findings({ taskDefinitions: [td] }, 'bridge-localhost-sidecar')).toEqual([]);
  });
});

describe('sidecar-without-depends-on', () => {
  it('fires when the app calls the collector without waiting for it, and suggests HEALTHY as the collector has a health check', () => {
    const td = checkoutRegister();
    delete container(td, 'app').dependsOn;
    const f = only({ taskDefinitions: [td] }, 'sidecar-without-depends-on');
    expect(f.evidence).toContain('calls container "otel-collector" on 127.0.0.1:4317');
    expect(f.fix).toContain('[{"containerName": "otel-collector", "condition": "HEALTHY"}]');
  });

  it('suggests START when the sidecar has no health check', () => {
    const td = checkoutRegister();
    delete container(td, 'app').dependsOn;
    delete container(td, 'otel-collector').healthCheck;
    expect(only({ taskDefinitions: [td] }, 'sidecar-without-depends-on').fix).toContain('"condition": "START"');
  });

  it('stays quiet in bridge mode, where the call cannot work at all (bridge-localhost-sidecar reports it)', () => {
    const td = onEc2('bridge');
    delete container(td, 'app').dependsOn;
    expect(findings({ taskDefinitions: [td] }, 'sidecar-without-depends-on')).toEqual([]);
  });
});

describe('localhost-ipv6-ambiguity', () => {
  it('fires on a sidecar endpoint written as localhost', () => {
    const td = checkoutRegister();
    container(td, 'app').environment![1]!.value = 'http://localhost:4317';
    const f = only({ taskDefinitions: [td] }, 'localhost-ipv6-ambiguity');
    expect(f).toMatchObject({ severity: 'info', location: { path: 'containerDefinitions[0].environment[1].value' } });
    expect(f.evidence).toContain('"http://localhost:4317"');
  });

  it("stays quiet on health checks (curl and wget try the next address; the issue's false alarm), 127.0.0.1, and longer names", () => {
    const td = checkoutRegister();
    container(td, 'app').healthCheck!.command = ['CMD-SHELL', 'curl -f http://localhost:8080/healthz || exit 1'];
    container(td, 'app').environment!.push({ name: 'CACHE_HOST', value: 'cache.localhost.internal.example.com' });
    expect(findings({ taskDefinitions: [td] }, 'localhost-ipv6-ambiguity')).toEqual([]);
    container(td, 'app').healthCheck!.command = ['CMD-SHELL', 'wget -qO- http://localhost:8080/healthz || exit 1'];
    expect(findings({ taskDefinitions: [td] }, 'localhost-ipv6-ambiguity')).toEqual([]);
  });
});

describe('stop-timeout-long', () => {
  const statsdLoop = ['/bin/sh', '-c', "while true; do echo 'm:1|c' | socat -t 0 - UDP:127.0.0.1:8125; sleep 1; done"];

  it('fires on a shell loop as PID 1 (the CloudWatch agent StatsD sample), explaining the 30 s wait', () => {
    const td = checkoutRegister();
    delete container(td, 'app').stopTimeout;
    container(td, 'app').entryPoint = statsdLoop;
    const f = only({ taskDefinitions: [td] }, 'stop-timeout-long');
    expect(f).toMatchObject({ severity: 'medium', location: { path: 'containerDefinitions[0].entryPoint[2]' } });
    expect(f.evidence).toContain('a loop that the shell itself runs');
    expect(f.evidence).toContain('waits 30 s (the default stopTimeout) for SIGKILL');
    expect(f.fix).toContain('exec');
  });

  it('fires on an app started in the background or piped into a logger, across entryPoint and command, with the set stopTimeout', () => {
    for (const [script, why] of [
      ['/usr/local/bin/agent run & /usr/local/bin/trace-agent', 'a background job'],
      ['set -e; node server.js | tee /var/log/app.log', 'the last command (`node server.js | tee /var/log/app.log`) is a pipeline, which the shell waits for'],
    ]) {
      const td = ordersWorker();
      const c = td.containerDefinitions![0]!;
      c.stopTimeout = 90;
      c.entryPoint = ['sh', '-c'];
      c.command = [script!];
      const f = only({ taskDefinitions: [td] }, 'stop-timeout-long');
      expect(f.evidence).toContain(`(${why})`);
      expect(f.evidence).toContain('waits 90 s for SIGKILL');
      expect(f.location!.path).toBe('containerDefinitions[0].command[0]');
    }
  });

  it('stays quiet when the last command is exec, when the script traps, on a plain list (dash and bash exec its last command), in exec form, and with an init process', () => {
    const cases: Array<(c: ContainerDefinition) => void> = [
      (c) => {
        // The Datadog agent's documented config tweak: dash execs /init itself.
        c.command = ['sh', '-c', "echo 'expvar_port: 15000' >> /etc/datadog-agent/datadog.yaml ; /init"];
      },
      (c) => {
        c.command = ['sh', '-c', 'node server.js 2>&1'];
      },
      (c) => {
        c.command = ['sh', '-c', 'migrate --up && exec node server.js'];
      },
      (c) => {
        c.command = ['bash', '-c', 'trap "kill $PID" TERM; node server.js & PID=$!; wait'];
      },
      (c) => {
        c.command = ['sh', '-c', 'node server.js --port $PORT'];
      },
      (c) => {
        c.command = ['node', 'server.js'];
      },
      (c) => {
        c.entryPoint = statsdLoop;
        c.linuxParameters = { initProcessEnabled: true };
      },
    ];
    for (const change of cases) {
      const td = checkoutRegister();
      change(container(td, 'app'));
      expect(findings({ taskDefinitions: [td] }, 'stop-timeout-long')).toEqual([]);
    }
  });

  it('no longer fires on a long or missing stopTimeout alone (log routers, agents, nginx exit on SIGTERM)', () => {
    const td = ordersWorker();
    td.containerDefinitions![0]!.stopTimeout = 120;
    delete container(checkoutRegister(), 'app').stopTimeout;
    expect(findings({ taskDefinitions: [td, checkoutRegister()] }, 'stop-timeout-long')).toEqual([]);
  });
});

describe('unknown-key', () => {
  it('fires on a misspelled healthCheck, naming the model spelling, at its JSON path', () => {
    const td = checkoutRegister() as TaskDefinition & Record<string, unknown>;
    const app = container(td, 'app') as ContainerDefinition & Record<string, unknown>;
    app.healthcheck = app.healthCheck;
    delete app.healthCheck;
    const f = only({ taskDefinitions: [td], checkKeys: checkTaskDefinitionKeys }, 'unknown-key');
    expect(f).toMatchObject({
      severity: 'medium',
      resource: 'taskDefinition:checkout-web#container:app',
      location: { taskDefinition: 0, path: 'containerDefinitions[0].healthcheck' },
    });
    expect(f.fix).toBe('rename "healthcheck" to "healthCheck"');
  });

  it('checks nested shapes and lists: a typo inside portMappings, and a CloudFormation-style key at the top', () => {
    const td = checkoutRegister() as TaskDefinition & Record<string, unknown>;
    (container(td, 'app').portMappings![0] as Record<string, unknown>).protcol = 'tcp';
    td.ContainerDefinitions = [];
    const got = findings({ taskDefinitions: [td], checkKeys: checkTaskDefinitionKeys }, 'unknown-key').map((f) => [f.location!.path, f.fix]);
    expect(got).toEqual([
      ['containerDefinitions[0].portMappings[0].protcol', 'rename "protcol" to "protocol"'],
      ['ContainerDefinitions', 'rename "ContainerDefinitions" to "containerDefinitions"'],
    ]);
  });

  it('is not checked without checkKeys (live input: the SDK returns only modelled keys)', () => {
    const td = checkoutRegister() as TaskDefinition & Record<string, unknown>;
    td.healthcheck = {};
    expect(findings({ taskDefinitions: [td] }, 'unknown-key')).toEqual([]);
  });

  it('accepts describe-task-definition output fields, free-form maps (dockerLabels, log options) and every field of the baselines', () => {
    const td = ordersWorker();
    container(td, td.containerDefinitions![0]!.name!).dockerLabels = { 'com.example.anyKey': 'x' };
    expect(findings({ taskDefinitions: [td, checkoutRegister(), checkoutDescribed()], checkKeys: checkTaskDefinitionKeys }, 'unknown-key')).toEqual([]);
  });
});

describe('wrong-type', () => {
  it("fires on an object where the model takes a list (the corpus's signalfx secretOptions), naming the path", () => {
    const td = checkoutRegister();
    (container(td, 'app').logConfiguration as unknown as Record<string, unknown>).secretOptions = {
      name: 'Token',
      valueFrom: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:t',
    };
    const f = only({ taskDefinitions: [td], checkKeys: checkTaskDefinitionKeys }, 'wrong-type');
    expect(f).toMatchObject({ severity: 'medium', location: { path: 'containerDefinitions[0].logConfiguration.secretOptions' } });
    expect(f.evidence).toBe(
      'containerDefinitions[0].logConfiguration.secretOptions is an object, but RegisterTaskDefinition takes a list: the AWS CLI rejects the file',
    );
    expect(f.fix).toContain('wrap the object in [ ]');
  });

  it('checks scalars inside lists and nested structures: a string for a boolean, a string for a number', () => {
    const td = checkoutRegister() as TaskDefinition & Record<string, unknown>;
    container(td, 'app').readonlyRootFilesystem = 'true' as unknown as boolean;
    td.ephemeralStorage = { sizeInGiB: '30' as unknown as number };
    const got = findings({ taskDefinitions: [td], checkKeys: checkTaskDefinitionKeys }, 'wrong-type').map((f) => f.location!.path);
    expect(got).toEqual(['containerDefinitions[0].readonlyRootFilesystem', 'ephemeralStorage.sizeInGiB']);
  });

  it('leaves null values, free-form maps and describe-task-definition timestamps alone', () => {
    const td = ordersWorker() as TaskDefinition & Record<string, unknown>;
    const c = td.containerDefinitions![0]! as ContainerDefinition & Record<string, unknown>;
    c.mountPoints = [{ containerPath: '/data', sourceVolume: 'data', readOnly: null as unknown as boolean }];
    c.dockerLabels = { 'com.example.n': 1 as unknown as string };
    td.registeredAt = '2024-01-01T00:00:00.000Z' as unknown as Date;
    expect(findings({ taskDefinitions: [td, checkoutRegister(), checkoutDescribed()], checkKeys: checkTaskDefinitionKeys }, 'wrong-type')).toEqual([]);
  });
});

describe('image-tag-mutable', () => {
  it.each([
    ['nginx', 'has no tag'],
    ['public.ecr.aws/aws-observability/aws-otel-collector:latest', 'the tag "latest"'],
    ['amazon/aws-for-fluent-bit:stable', 'the tag "stable"'],
    ['public.ecr.aws/aws-observability/aws-for-fluent-bit:init-latest', 'the tag "init-latest"'],
    ['localhost:5000/team/app', 'has no tag'],
  ])('fires on %s', (image, said) => {
    const td = checkoutRegister();
    container(td, 'app').image = image;
    const f = only({ taskDefinitions: [td] }, 'image-tag-mutable');
    expect(f).toMatchObject({ severity: 'low', location: { path: 'containerDefinitions[0].image' } });
    expect(f.evidence).toContain(said);
  });

  it.each([
    'nginx:1.27.3',
    'nginx@sha256:0f04e4f646a3f14bf31d8bc8d885b6c951fdcf42589d06845f64d18aec6a3c4d',
    'nginx:latest@sha256:0f04e4f646a3f14bf31d8bc8d885b6c951fdcf42589d06845f64d18aec6a3c4d',
    '<your app image URL here>',
    '{{demo-app-image}}',
    '123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:${IMAGE_TAG}',
  ])('stays quiet on %s (a version, a digest, or a pipeline placeholder)', (image) => {
    const td = checkoutRegister();
    container(td, 'app').image = image;
    expect(findings({ taskDefinitions: [td] }, 'image-tag-mutable')).toEqual([]);
  });
});

describe('sidecars that declare no port mapping', () => {
  const withDatadog = (networkMode: 'awsvpc' | 'bridge'): TaskDefinition => {
    const td = checkoutRegister();
    td.networkMode = networkMode;
    if (networkMode === 'bridge') td.requiresCompatibilities = ['EC2'];
    const app = container(td, 'app');
    delete app.dependsOn;
    app.environment!.push({ name: 'DD_TRACE_AGENT_URL', value: 'http://127.0.0.1:8126' });
    td.containerDefinitions!.push({ name: 'datadog-agent', image: 'public.ecr.aws/datadog/agent:7.60.0', essential: true });
    return td;
  };

  it('awsvpc: an app that reaches the Datadog agent on 8126 without dependsOn is reported', () => {
    const f = findings({ taskDefinitions: [withDatadog('awsvpc')] }, 'sidecar-without-depends-on').find((x) => x.evidence.includes('datadog-agent'))!;
    expect(f.evidence).toContain('calls container "datadog-agent" on 127.0.0.1:8126');
    expect(f.fix).toContain('"condition": "START"');
  });

  it('bridge: a 127.0.0.1 endpoint to the agent is the app itself, reported high', () => {
    const got = findings({ taskDefinitions: [withDatadog('bridge')] }, 'bridge-localhost-sidecar');
    expect(got.map((f) => f.evidence).join('\n')).toContain('127.0.0.1:8126');
    expect(got.every((f) => f.severity === 'high')).toBe(true);
  });
});

describe('fix suggestions that cannot be wrong', () => {
  it('does not suggest CMD-SHELL for a health check on the ADOT collector, which is FROM scratch', () => {
    const td = checkoutRegister();
    container(td, 'otel-collector').healthCheck!.command = ['/healthcheck'];
    const f = only({ taskDefinitions: [td] }, 'health-check-command-malformed');
    expect(f.fix).toBe('start healthCheck.command with "CMD", ["CMD","/healthcheck"]: the image has no shell, so not "CMD-SHELL"');
  });

  it('says what to check before suggesting CMD-SHELL when the image is not known', () => {
    const td = checkoutRegister();
    container(td, 'app').healthCheck!.command = ['CMD', 'curl -f http://127.0.0.1:8080/healthz'];
    const f = only({ taskDefinitions: [td] }, 'health-check-command-malformed');
    expect(f.fix).toContain('if the image has /bin/sh (check: docker run --rm --entrypoint /bin/sh IMAGE -c true)');
  });

  it('knows the AWS agents built FROM scratch, but not their Amazon Linux or Windows variants', () => {
    expect(shellLessImage('public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0')).toContain('FROM scratch');
    expect(shellLessImage('amazon/aws-otel-collector')).toContain('FROM scratch');
    expect(shellLessImage('public.ecr.aws/xray/aws-xray-daemon:3.3.13')).toContain('X-Ray daemon');
    expect(shellLessImage('public.ecr.aws/cloudwatch-agent/cloudwatch-agent:1.300066.1b1374')).toContain('CloudWatch agent');
    expect(shellLessImage('public.ecr.aws/cloudwatch-agent/cloudwatch-agent:1.300066.1b1374', true)).toBeUndefined();
    expect(shellLessImage('amazon/aws-xray-daemon:amazonlinux')).toBeUndefined();
    expect(shellLessImage('public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.4')).toBeUndefined();
  });

  it("reports curl in a health check on the CloudWatch agent (the issue's shell-less image not named distroless, chainguard or ko)", () => {
    const td = checkoutRegister();
    const collector = container(td, 'otel-collector');
    collector.image = 'public.ecr.aws/cloudwatch-agent/cloudwatch-agent:1.300066.1b1374';
    collector.healthCheck!.command = ['CMD-SHELL', 'curl -f http://127.0.0.1:25888/ || exit 1'];
    expect(only({ taskDefinitions: [td] }, 'health-check-needs-shell').evidence).toContain('the CloudWatch agent, built FROM scratch on Linux');
  });
});

describe('fargate-stop-timeout-over-max', () => {
  it('fires on stopTimeout 300 on Fargate', () => {
    const td = checkoutRegister();
    container(td, 'app').stopTimeout = 300;
    expect(only({ taskDefinitions: [td] }, 'fargate-stop-timeout-over-max')).toMatchObject({
      severity: 'medium',
      location: { path: 'containerDefinitions[0].stopTimeout' },
    });
  });

  it('stays quiet for 120 s on Fargate and for 300 s on EC2', () => {
    const td = checkoutRegister();
    container(td, 'app').stopTimeout = 120;
    expect(findings({ taskDefinitions: [td] }, 'fargate-stop-timeout-over-max')).toEqual([]);
    const worker = ordersWorker();
    worker.containerDefinitions![0]!.stopTimeout = 300;
    expect(findings({ taskDefinitions: [worker] }, 'fargate-stop-timeout-over-max')).toEqual([]);
  });
});

describe('deployment-no-headroom', () => {
  const withDeployment = (desiredCount: number, minimumHealthyPercent: number, maximumPercent: number) =>
    checkoutWorld(({ service }) => {
      service.desiredCount = desiredCount;
      service.deploymentConfiguration = { ...service.deploymentConfiguration, minimumHealthyPercent, maximumPercent };
    });

  it.each([
    [3, 100, 100, 'maximumPercent to 134 or more', 'minimumHealthyPercent to 66 or less'],
    [1, 100, 150, 'maximumPercent to 200 or more', 'minimumHealthyPercent to 0 or less'],
    [1, 50, 100, 'maximumPercent to 200 or more', 'minimumHealthyPercent to 0 or less'],
  ])('fires for desiredCount %i, minimumHealthyPercent %i, maximumPercent %i', (desired, min, max, fixMax, fixMin) => {
    const f = only(withDeployment(desired, min, max), 'deployment-no-headroom');
    expect(f).toMatchObject({ severity: 'high', resource: 'arn:aws:ecs:eu-west-1:123456789012:service/prod/checkout-web' });
    expect(f.fix).toContain(fixMax);
    expect(f.fix).toContain(fixMin);
  });

  it.each([
    [3, 100, 200],
    [4, 75, 100],
    [0, 100, 100],
  ])('stays quiet for desiredCount %i, minimumHealthyPercent %i, maximumPercent %i', (desired, min, max) => {
    expect(findings(withDeployment(desired, min, max), 'deployment-no-headroom')).toEqual([]);
  });

  it('with blue/green deployments, fires for drains on EC2 only (Fargate does not use the percentages then)', () => {
    const blueGreen = (launchType: 'EC2' | 'FARGATE') =>
      checkoutWorld(({ service }) => {
        service.launchType = launchType;
        service.deploymentController = { type: 'CODE_DEPLOY' };
        service.deploymentConfiguration = { minimumHealthyPercent: 100, maximumPercent: 100 };
      });
    expect(only(blueGreen('EC2'), 'deployment-no-headroom').evidence).toMatch(/so instance drains cannot progress$/);
    expect(findings(blueGreen('FARGATE'), 'deployment-no-headroom')).toEqual([]);
  });

  it('stays quiet for a DAEMON service', () => {
    const input = checkoutWorld(({ service }) => {
      service.schedulingStrategy = 'DAEMON';
      service.deploymentConfiguration = { minimumHealthyPercent: 100, maximumPercent: 100 };
    });
    expect(findings(input, 'deployment-no-headroom')).toEqual([]);
  });
});

describe('circuit breaker', () => {
  it('circuit-breaker-disabled fires when the breaker is absent or off', () => {
    const absent = checkoutWorld(({ service }) => delete service.deploymentConfiguration!.deploymentCircuitBreaker);
    expect(only(absent, 'circuit-breaker-disabled').evidence).toBe('deploymentConfiguration.deploymentCircuitBreaker is not set');
    const off = checkoutWorld(({ service }) => (service.deploymentConfiguration!.deploymentCircuitBreaker = { enable: false, rollback: false }));
    expect(only(off, 'circuit-breaker-disabled').severity).toBe('medium');
  });

  it('circuit-breaker-no-rollback fires when the breaker cannot roll back', () => {
    const input = checkoutWorld(({ service }) => (service.deploymentConfiguration!.deploymentCircuitBreaker = { enable: true, rollback: false }));
    expect(only(input, 'circuit-breaker-no-rollback').fix).toBe('set deploymentConfiguration.deploymentCircuitBreaker.rollback to true');
    expect(findings(input, 'circuit-breaker-disabled')).toEqual([]);
  });

  it('neither fires for CODE_DEPLOY services, where the breaker does not apply', () => {
    const input = checkoutWorld(({ service }) => {
      service.deploymentController = { type: 'CODE_DEPLOY' };
      delete service.deploymentConfiguration!.deploymentCircuitBreaker;
    });
    expect(findings(input, 'circuit-breaker-disabled')).toEqual([]);
    expect(findings(input, 'circuit-breaker-no-rollback')).toEqual([]);
  });
});

describe('grace-period-without-health-check', () => {
  /** orders-worker run as a service without a load balancer. */
  const workerService = (grace: number): AuditInput => {
    const service = checkoutService();
    service.serviceArn = 'arn:aws:ecs:eu-west-1:123456789012:service/prod/orders-worker';
    service.serviceName = 'orders-worker';
    service.loadBalancers = [];
    service.launchType = 'EC2';
    service.taskDefinition = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/orders-worker:7';
    service.healthCheckGracePeriodSeconds = grace;
    return { services: [service], taskDefinitions: [ordersWorker()] };
  };

  it('fires when nothing would be delayed by the grace period', () => {
    const f = only(workerService(120), 'grace-period-without-health-check');
    expect(f.evidence).toContain(
      'healthCheckGracePeriodSeconds 120, but the service has no loadBalancers, no VPC Lattice configuration, and taskDefinition:orders-worker:7 has no container healthCheck',
    );
  });

  it('stays quiet when a container health check uses it, or when it is 0', () => {
    const input = workerService(120);
    input.taskDefinitions[0]!.containerDefinitions![0]!.healthCheck = { command: ['CMD', '/worker', 'ping'] };
    expect(findings(input, 'grace-period-without-health-check')).toEqual([]);
    expect(findings(workerService(0), 'grace-period-without-health-check')).toEqual([]);
  });
});

describe('grace-period-missing', () => {
  it('fires when checks are tightened to 5 s × 3 and the grace period is removed', () => {
    const input = checkoutWorld(({ service }) => delete service.healthCheckGracePeriodSeconds);
    expect(only(input, 'grace-period-missing').evidence).toContain('UnhealthyThresholdCount 3 × HealthCheckIntervalSeconds 5 = 15 s');
  });

  it('stays quiet with the default 30 s × 2 checks, and with a grace period', () => {
    const defaults = checkoutWorld(({ service, tg }) => {
      delete service.healthCheckGracePeriodSeconds;
      tg.targetGroup.HealthCheckIntervalSeconds = 30;
      tg.targetGroup.UnhealthyThresholdCount = 2;
    });
    expect(findings(defaults, 'grace-period-missing')).toEqual([]);
    expect(findings(checkoutWorld(), 'grace-period-missing')).toEqual([]);
  });
});

describe('target groups', () => {
  it('alb-slow-health-check fires on the 30 s × 5 defaults', () => {
    const input = checkoutWorld(({ tg }) => {
      tg.targetGroup.HealthCheckIntervalSeconds = 30;
      tg.targetGroup.HealthyThresholdCount = 5;
    });
    const f = only(input, 'alb-slow-health-check');
    expect(f.resource).toBe('arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/checkout-web/6d0ecf831eec9f09');
    expect(f.evidence).toContain('5 × 30 s = 150 s');
    expect(f.fix).toContain('HealthCheckIntervalSeconds to 5 and HealthyThresholdCount to 2');
  });

  it('alb-slow-health-check stays quiet for 10 s × 3 and for Lambda target groups', () => {
    const tuned = checkoutWorld(({ tg }) => {
      tg.targetGroup.HealthCheckIntervalSeconds = 10;
      tg.targetGroup.HealthyThresholdCount = 3;
    });
    expect(findings(tuned, 'alb-slow-health-check')).toEqual([]);
    const lambda = checkoutWorld(({ tg }) => {
      tg.targetGroup.TargetType = 'lambda';
      tg.targetGroup.HealthCheckIntervalSeconds = 35;
    });
    expect(findings(lambda, 'alb-slow-health-check')).toEqual([]);
  });

  it('alb-long-deregistration-delay fires on 300 s, and on a missing attribute (the default)', () => {
    const set300 = checkoutWorld(({ tg }) => (tg.attributes.find((a) => a.Key === 'deregistration_delay.timeout_seconds')!.Value = '300'));
    expect(only(set300, 'alb-long-deregistration-delay').evidence).toBe(
      'deregistration_delay.timeout_seconds 300: every stopped task keeps draining for up to 300 s',
    );
    const missing = checkoutWorld(({ tg }) => (tg.attributes = tg.attributes.filter((a) => a.Key !== 'deregistration_delay.timeout_seconds')));
    expect(only(missing, 'alb-long-deregistration-delay').evidence).toContain('(not in the attributes: the default)');
  });

  it('alb-long-deregistration-delay stays quiet at 30 s', () => {
    const input = checkoutWorld(({ tg }) => (tg.attributes.find((a) => a.Key === 'deregistration_delay.timeout_seconds')!.Value = '30'));
    expect(findings(input, 'alb-long-deregistration-delay')).toEqual([]);
  });
});

describe('the rule table', () => {
  it('documents every rule with a title, an https source and a trade-off, once', () => {
    expect(new Set(RULES.map((r) => r.id)).size).toBe(RULES.length);
    for (const r of RULES) {
      expect(r.title.length, r.id).toBeGreaterThan(10);
      expect(r.source, r.id).toMatch(/^https:\/\//);
      expect(r.tradeOff.length, r.id).toBeGreaterThan(40);
    }
  });

  it('every finding carries the severity of its rule', () => {
    const td = checkoutRegister();
    delete container(td, 'app').stopTimeout;
    td.memory = '4096';
    for (const f of audit({ taskDefinitions: [td] })) expect(f.severity).toBe(RULES.find((r) => r.id === f.rule)!.severity);
  });

  // Runs last (vitest keeps declaration order in a file): each rule above must have fired at least once.
  it('every rule has a firing test in this file', () => {
    expect(RULES.map((r) => r.id).filter((id) => !fired.has(id))).toEqual([]);
  });
});
