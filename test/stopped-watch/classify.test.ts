import { describe, expect, it } from 'vitest';
import { CATEGORIES, HINTS, SEVERITY, classifyEvent, classifyReason, type Category, type Classification } from '../../functions/stopped-watch/classify.ts';
import { loadAwsEvent, loadAwsEvents, loadStoppedReasons, type StoppedReasonSample } from '../support/fixtures.ts';

const NO_HINT: readonly Category[] = ['deployment-benign', 'user-stop', 'autoscaling', 'unknown'];

/** Deep copy, so synthetic variants never touch the shared fixtures. */
function clone<T = any>(file: string): T {
  return structuredClone(loadAwsEvent<T>(file));
}

/** A sample's `field` says where AWS puts the text; a stop code is passed as one. */
function classifySample(s: StoppedReasonSample): Classification {
  return s.field === 'stopCode' ? classifyReason(s.text, { field: 'stopCode', stopCode: s.text }) : classifyReason(s.text, { field: s.field });
}

describe('the real stop reasons in stopped-reasons-sample.json', () => {
  const samples = loadStoppedReasons();

  it('has samples to check', () => {
    expect(samples.length).toBeGreaterThanOrEqual(30);
  });

  it.each(samples.map((s) => [s.category, s.field, s.text, s] as const))('%s <- %s: %s', (category, _field, text, s) => {
    const c = classifySample(s);
    expect(c.category).toBe(category);
    expect(c.severity).toBe(SEVERITY[c.category]);
    expect(c.reason).toBe(text.slice(0, 500));
  });
});

describe('real ECS payloads in aws-events', () => {
  // Expected per file; null means "needs no classification".
  const expected: Record<string, { category: Category; container?: string } | null> = {
    'ecs-container-instance-state-change-active-docs.json': null,
    'ecs-deployment-completed-docs.json': null,
    'ecs-deployment-failed-docs.json': { category: 'deployment-failed' },
    'ecs-deployment-in-progress-docs.json': null,
    'ecs-deployment-in-progress-rollback-docs.json': { category: 'deployment-rollback' },
    'ecs-service-action-capacity-provider-steady-state-docs.json': null,
    'ecs-service-action-placement-failure-ec2-cpu-docs.json': { category: 'placement' },
    'ecs-service-action-placement-failure-fargate-spot-docs.json': { category: 'placement' },
    'ecs-service-action-steady-state-docs.json': null,
    'ecs-service-action-task-start-impaired-docs.json': { category: 'placement' },
    'ecs-task-state-change-container-exited-task-running-docs-2018.json': null,
    'ecs-task-state-change-running-fargate-docs.json': null,
    'ecs-task-state-change-stopped-essential-exit-multicontainer.json': { category: 'essential-exit', container: 'app' },
    'ecs-task-state-change-stopped-scaling-ec2-exit137.json': { category: 'deployment-benign' },
  };
  const all = loadAwsEvents();
  const ecs = [...all].filter(([, e]) => (e as { source?: unknown }).source === 'aws.ecs');

  it('has an expectation for every ECS fixture (add one when a fixture is added)', () => {
    expect(ecs.map(([f]) => f).sort()).toEqual(Object.keys(expected).sort());
  });

  it.each(ecs)('%s', (file, event) => {
    const want = expected[file];
    const got = classifyEvent(event);
    if (want === null || want === undefined) {
      expect(got).toBeNull();
      return;
    }
    expect(got).not.toBeNull();
    expect(got!.category).toBe(want.category);
    expect(got!.severity).toBe(SEVERITY[want.category]);
    expect(got!.container).toBe(want.container);
    expect(got!.reason.length).toBeGreaterThan(0);
  });

  it('never throws on any fixture, ECS or not, and calls non-ECS payloads unknown', () => {
    for (const [file, event] of all) {
      const got = classifyEvent(event);
      if ((event as { source?: unknown }).source !== 'aws.ecs') {
        expect(got, file).not.toBeNull();
        expect(got!.category, file).toBe('unknown');
        expect(got!.reason, file).toMatch(/detail-type/);
      }
    }
  });

  it('keeps the raw deployment reason', () => {
    expect(classifyEvent(loadAwsEvent('ecs-deployment-failed-docs.json'))!.reason).toBe('ECS deployment circuit breaker: task failed to start.');
    expect(classifyEvent(loadAwsEvent('ecs-service-action-placement-failure-ec2-cpu-docs.json'))!.reason).toBe('RESOURCE:CPU');
  });
});

describe('exit 137 and OOM', () => {
  const SCALING = 'ecs-task-state-change-stopped-scaling-ec2-exit137.json';
  const MULTI = 'ecs-task-state-change-stopped-essential-exit-multicontainer.json';
  const OOM = 'OutOfMemoryError: Container killed due to memory usage';

  it('a scale-in stop with exit 137 is deployment-benign, not oom', () => {
    const c = classifyEvent(loadAwsEvent(SCALING))!;
    expect(c.category).toBe('deployment-benign');
    expect(c.severity).toBe('info');
    expect(c.hint).toBeUndefined();
    expect(c.reason).toBe('Scaling activity initiated by (deployment ecs-svc/9909299324976484585)');
  });

  it('the same stop with an OOM reason on the container is oom, from that container', () => {
    const e = clone(SCALING);
    e.detail.containers[0].reason = OOM;
    const c = classifyEvent(e)!;
    expect(c).toMatchObject({ category: 'oom', severity: 'high', container: 'EcsContainer', reason: OOM });
    expect(c.hint).toMatch(/memoryReservation/);
  });

  it('exit 137 alone with EssentialContainerExited is essential-exit with a SIGKILL hint, not oom', () => {
    const e = clone(SCALING);
    e.detail.stoppedReason = 'Essential container in task exited';
    e.detail.stopCode = 'EssentialContainerExited';
    const c = classifyEvent(e)!;
    expect(c.category).toBe('essential-exit');
    expect(c.container).toBe('EcsContainer');
    expect(c.hint).toMatch(/SIGKILL/);
    expect(classifyReason('Essential container in task exited', { exitCode: 137 }).category).toBe('essential-exit');
  });

  it('an OOM container reason wins over a generic "Essential container in task exited"', () => {
    const e = clone(MULTI);
    e.detail.containers[1].reason = OOM;
    e.detail.containers[1].exitCode = 137;
    expect(classifyEvent(e)).toMatchObject({ category: 'oom', container: 'app', reason: OOM });
  });

  it('an OOM reason on the sidecar is still oom and names the sidecar', () => {
    const e = clone(MULTI);
    e.detail.containers[0].reason = OOM;
    expect(classifyEvent(e)).toMatchObject({ category: 'oom', container: 'envoy' });
  });

  it('memory words without an OOM kill are not oom', () => {
    expect(
      classifyReason(
        'service web was unable to place a task because no container instance met all of its requirements. The closest matching container-instance abc has insufficient memory available.',
      ).category,
    ).toBe('placement');
  });
});

describe('essential-exit picks the container that caused the stop', () => {
  const MULTI = 'ecs-task-state-change-stopped-essential-exit-multicontainer.json';

  it('sidecar exit 0 + app exit 2 names the app (real payload)', () => {
    const c = classifyEvent(loadAwsEvent(MULTI))!;
    expect(c).toMatchObject({ category: 'essential-exit', severity: 'medium', container: 'app', reason: 'Essential container in task exited' });
    expect(c.hint).toMatch(/logs/);
  });

  it('prefers an application exit code over the SIGTERM/SIGKILL that ECS sends the others', () => {
    const e = clone(MULTI);
    e.detail.containers[0].exitCode = 143;
    e.detail.containers[1].exitCode = 1;
    expect(classifyEvent(e)!.container).toBe('app');
    e.detail.containers[0].exitCode = 1;
    e.detail.containers[1].exitCode = 137;
    expect(classifyEvent(e)!.container).toBe('envoy');
  });

  it('skips containers marked essential: false', () => {
    const e = clone(MULTI);
    e.detail.containers[0].exitCode = 1;
    e.detail.containers[0].essential = false;
    e.detail.containers[1].exitCode = 0;
    const c = classifyEvent(e)!;
    expect(c.container).toBe('app');
    expect(c.hint).toMatch(/code 0/);
  });

  it('uses the stop code when the reason is missing', () => {
    const e = clone(MULTI);
    delete e.detail.stoppedReason;
    expect(classifyEvent(e)).toMatchObject({ category: 'essential-exit', container: 'app', reason: 'EssentialContainerExited' });
  });

  it('a container reason with a named cause beats the generic task reason and keeps that reason', () => {
    const e = clone(MULTI);
    e.detail.stopCode = 'TaskFailedToStart';
    e.detail.stoppedReason = 'Essential container in task exited';
    e.detail.containers[1].reason = 'CannotStartContainerError: Error response from daemon: exec: "/app/start.sh": permission denied: unknown';
    expect(classifyEvent(e)).toMatchObject({ category: 'command-not-found', container: 'app' });
  });
});

describe('other task shapes built from the real payloads', () => {
  const MULTI = 'ecs-task-state-change-stopped-essential-exit-multicontainer.json';

  it('a pull error in both stoppedReason and the container reason names the container', () => {
    const e = clone(MULTI);
    const reason =
      'CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref 111111111111.dkr.ecr.eu-central-1.amazonaws.com/example-api:v2: 111111111111.dkr.ecr.eu-central-1.amazonaws.com/example-api:v2: not found';
    e.detail.stopCode = 'TaskFailedToStart';
    e.detail.stoppedReason = reason;
    e.detail.containers[1].reason = reason;
    expect(classifyEvent(e)).toMatchObject({ category: 'image-pull-not-found', container: 'app', reason });
  });

  it('a task-level cause wins over an unrelated container reason', () => {
    const e = clone(MULTI);
    e.detail.stopCode = 'SpotInterruption';
    e.detail.stoppedReason = 'Your Spot Task was interrupted.';
    e.detail.containers[1].reason = 'Essential container in task exited';
    expect(classifyEvent(e)).toMatchObject({ category: 'spot', severity: 'low' });
  });

  it('a container health check failure names the unhealthy container and, with a sidecar, suggests 127.0.0.1', () => {
    const e = clone(MULTI);
    e.detail.stopCode = 'ServiceSchedulerInitiated';
    e.detail.stoppedReason = 'Task failed container health checks';
    e.detail.containers[1].healthStatus = 'UNHEALTHY';
    const c = classifyEvent(e)!;
    expect(c).toMatchObject({ category: 'health-check-container', severity: 'high', container: 'app' });
    expect(c.hint).toMatch(/127\.0\.0\.1/);
    expect(c.hint).toMatch(/curl/);
  });

  it('ELB health check stops are health-check-elb even with stopCode ServiceSchedulerInitiated', () => {
    const e = clone('ecs-task-state-change-stopped-scaling-ec2-exit137.json');
    e.detail.stoppedReason =
      'Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:us-east-2:111122223333:targetgroup/web/0123456789abcdef)';
    expect(classifyEvent(e)).toMatchObject({ category: 'health-check-elb', severity: 'high' });
  });

  it('a ResourceInitializationError stop with TaskFailedToStart gets its finer cause', () => {
    const e = clone(MULTI);
    e.detail.stopCode = 'TaskFailedToStart';
    e.detail.stoppedReason =
      'ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: stderr: mount.nfs4: Connection timed out : unsuccessful EFS utils command execution; code: 32';
    expect(classifyEvent(e)!.category).toBe('resource-init-efs');
  });

  it('TaskFailedToStart with a reason no rule knows falls back to task-failed-to-start', () => {
    const e = clone(MULTI);
    e.detail.stopCode = 'TaskFailedToStart';
    e.detail.stoppedReason = 'Something new that ECS says one day';
    expect(classifyEvent(e)).toMatchObject({ category: 'task-failed-to-start', reason: 'Something new that ECS says one day' });
  });

  it('an unrecognised reason is unknown and keeps the raw text', () => {
    const e = clone(MULTI);
    delete e.detail.stopCode;
    e.detail.stoppedReason = 'Something new that ECS says one day';
    expect(classifyEvent(e)).toMatchObject({ category: 'unknown', reason: 'Something new that ECS says one day' });
  });

  it('an unrecognised container reason is kept when the task says nothing', () => {
    const e = clone(MULTI);
    delete e.detail.stopCode;
    delete e.detail.stoppedReason;
    e.detail.containers[1].reason = 'a reason from the future';
    expect(classifyEvent(e)).toMatchObject({ category: 'unknown', reason: 'a reason from the future', container: 'app' });
  });

  it('STOPPING and PENDING tasks need no classification', () => {
    const e = clone(MULTI);
    e.detail.lastStatus = 'DEPROVISIONING';
    expect(classifyEvent(e)).toBeNull();
  });
});

describe('service, deployment and container instance events', () => {
  it('agentConnected false is agent; connected is null', () => {
    const e = clone('ecs-container-instance-state-change-active-docs.json');
    expect(classifyEvent(e)).toBeNull();
    e.detail.agentConnected = false;
    const c = classifyEvent(e)!;
    expect(c).toMatchObject({ category: 'agent', severity: 'medium' });
    expect(c.reason).toMatch(/i-f3a8506b/);
    expect(c.hint).toMatch(/ecs-agent\.log/);
  });

  it('an agent disconnect on a deregistered or fully drained instance is the end of a scale-in, not an incident', () => {
    const e = clone('ecs-container-instance-state-change-active-docs.json');
    e.detail.agentConnected = false;
    e.detail.status = 'INACTIVE';
    expect(classifyEvent(e)).toBeNull();
    e.detail.status = 'DRAINING';
    e.detail.runningTasksCount = 0;
    e.detail.pendingTasksCount = 0;
    expect(classifyEvent(e)).toBeNull();
    e.detail.runningTasksCount = 2;
    expect(classifyEvent(e)!.category).toBe('agent');
  });

  it('service action names map to their categories', () => {
    const e = clone('ecs-service-action-task-start-impaired-docs.json');
    const as = (eventName: string, eventType = 'WARN', reason?: string) => {
      e.detail.eventName = eventName;
      e.detail.eventType = eventType;
      if (reason === undefined) delete e.detail.reason;
      else e.detail.reason = reason;
      return classifyEvent(e);
    };
    expect(as('SERVICE_DESIRED_COUNT_UPDATED', 'INFO')!.category).toBe('autoscaling');
    expect(as('SERVICE_DISCOVERY_INSTANCE_UNHEALTHY')!.category).toBe('health-check-container');
    expect(as('SERVICE_DAEMON_PLACEMENT_CONSTRAINT_VIOLATED', 'ERROR')!.category).toBe('placement');
    expect(as('SERVICE_TASK_CONFIGURATION_FAILURE', 'ERROR')!.category).toBe('task-failed-to-start');
    expect(as('TASKS_STOPPED', 'INFO')).toBeNull();
    expect(as('TASKSET_STEADY_STATE', 'INFO')).toBeNull();
    expect(as('SOMETHING_NEW', 'ERROR')).toMatchObject({ category: 'unknown', reason: 'SOMETHING_NEW' });
    expect(as('SOMETHING_NEW', 'ERROR', 'RESOURCE:MEMORY')).toMatchObject({ category: 'placement', reason: 'RESOURCE:MEMORY' });
  });

  it('a completed deployment is null; a rollback announced on it is deployment-rollback', () => {
    const e = clone('ecs-deployment-completed-docs.json');
    expect(classifyEvent(e)).toBeNull();
    e.detail.reason = 'ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/123.';
    expect(classifyEvent(e)!.category).toBe('deployment-rollback');
  });

  it('deployment failed and rollback carry the deployment settings in the hint', () => {
    expect(classifyEvent(loadAwsEvent('ecs-deployment-failed-docs.json'))!.hint).toMatch(/minimumHealthyPercent.*maximumPercent/);
    expect(classifyEvent(loadAwsEvent('ecs-deployment-in-progress-rollback-docs.json'))!.hint).toMatch(/deploymentCircuitBreaker/);
  });
});

// Real strings from the AWS documentation (CannotPullContainer task errors,
// CannotCreateContainerError, CannotStartContainerError, ResourceInitializationError,
// service event messages, stopped task errors, Fargate task maintenance) and
// messages ECS users report verbatim. Account ids and names are placeholders.
const DOC_STRINGS: ReadonlyArray<readonly [Category, string, { stopCode?: string; field?: string; exitCode?: number }?]> = [
  ['oom', 'OutOfMemoryError: Container killed due to memory usage'],
  ['oom', 'OutOfMemoryError: container killed due to memory usage', { exitCode: 137 }],
  ['essential-exit', 'EssentialContainerExited', { field: 'stopCode', stopCode: 'EssentialContainerExited' }],
  ['essential-exit', 'Essential container in task exited', { stopCode: 'EssentialContainerExited', exitCode: 1 }],
  [
    'command-not-found',
    'CannotStartContainerError: Error response from daemon: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "/app/entrypoint.sh": permission denied: unknown',
  ],
  ['exec-format', 'exec /usr/local/bin/docker-entrypoint.sh: exec format error'],
  [
    'command-not-found',
    'CannotStartContainerError: Error response from daemon: OCI runtime create failed: container_linux.go:349: starting container process caused \\"exec: \\\\\\"node\\\\\\": executable file not found in $PATH\\": unknown',
  ],
  ['health-check-container', 'Task failed container health checks'],
  ['health-check-container', '(service web) (task 0123456789abcdef) failed container health checks.'],
  ['health-check-elb', 'Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/web/0123456789abcdef)'],
  ['health-check-elb', 'service web (port 8080) is unhealthy in target-group web due to (reason Health checks failed with these codes: [502]).'],
  [
    'image-pull-auth',
    "CannotPullContainerError: Error response from daemon: pull access denied for myapp, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
  ],
  [
    'image-pull-auth',
    'CannotPullContainerError: Error response from daemon: Get https://111122223333.dkr.ecr.us-east-1.amazonaws.com/v2/app/manifests/latest: no basic auth credentials',
  ],
  [
    'image-pull-auth',
    'CannotPullContainerError: inspect image has been retried 5 time(s): httpReaderSeeker: failed open: unexpected status code https://111122223333.dkr.ecr.us-east-1.amazonaws.com/v2/app/manifests/sha256:0a1b: 403 Forbidden',
  ],
  [
    'image-pull-not-found',
    'CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref 111122223333.dkr.ecr.us-east-1.amazonaws.com/app:latest: 111122223333.dkr.ecr.us-east-1.amazonaws.com/app:latest: not found',
  ],
  [
    'image-pull-not-found',
    'CannotPullContainerError: Error response from daemon: manifest for 111122223333.dkr.ecr.us-east-1.amazonaws.com/app:v2 not found: manifest unknown: Requested image not found',
  ],
  [
    'image-pull-not-found',
    '(service backend) was unable to place a task. Reason: CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref 111122223333.dkr.ecr.us-east-1.amazonaws.com/nginx:latest: not found.',
    { field: 'serviceEvent.message' },
  ],
  [
    'image-pull-network',
    'CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref docker.io/library/nginx:latest: failed to do request: Head "https://registry-1.docker.io/v2/library/nginx/manifests/latest": dial tcp 44.205.64.79:443: i/o timeout',
  ],
  ['image-pull-network', 'CannotPullContainerError: context canceled'],
  [
    'image-pull-network',
    'CannotPullContainerError: Error response from daemon: Get https://registry-1.docker.io/v2/: net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)',
  ],
  [
    'image-pull-rate-limit',
    'CannotPullContainerError: inspect image has been retried 1 time(s): httpReaderSeeker: failed open: unexpected status code https://registry-1.docker.io/v2/library/node/manifests/sha256:0a1b: 429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit',
  ],
  [
    'image-pull-platform',
    "CannotPullContainerError: pull image manifest has been retried 7 time(s): image Manifest does not contain descriptor matching platform 'linux/amd64'",
  ],
  ['image-pull-platform', 'CannotPullContainerError: Error response from daemon: no matching manifest for linux/arm64/v8 in the manifest list entries'],
  [
    'image-pull-disk-full',
    'CannotPullContainerError: failed to register layer: Error processing tar file(exit status 1): write /usr/lib/x86_64-linux-gnu/libLLVM-15.so.1: no space left on device',
  ],
  [
    'image-pull-disk-full',
    'CannotCreateContainerError: Error response from daemon: devmapper: Thin Pool has 0 free data blocks which is less than minimum required 163840 free data blocks. Create more free space in thin pool or use dm.min_free_space option to change behavior',
  ],
  [
    'image-pull-unknown',
    'CannotPullContainerError: failed to extract layer sha256:0a1b: failed to get stream processor for application/vnd.in-toto+json: no processor for media-type: unknown',
  ],
  [
    'container-create-error',
    'CannotCreateContainerError: Error response from daemon: Conflict. The container name "/ecs-web-1-web-e4b2f1" is already in use by container "0a1b". You have to remove (or rename) that container to be able to reuse that name.',
  ],
  [
    'container-start-error',
    'CannotStartContainerError: Error response from daemon: driver failed programming external connectivity on endpoint ecs-web-1-web (0a1b): Bind for 0.0.0.0:80 failed: port is already allocated',
  ],
  ['container-start-error', 'CannotStartContainerError: failed to get container status: context deadline exceeded'],
  ['resource-init-secrets', 'ResourceInitializationError: unable to pull secrets or registry auth: pull command failed: : signal: killed'],
  [
    'resource-init-secrets',
    'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/efs-password-AbCdEf from secrets manager: AccessDeniedException: User: arn:aws:sts::111122223333:assumed-role/ecsTaskExecutionRole/0a1b is not authorized to perform: secretsmanager:GetSecretValue',
  ],
  [
    'resource-init-secrets',
    'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve ecr registry auth: service call has been retried 3 time(s): RequestError: send request failed caused by: Post "https://api.ecr.us-east-1.amazonaws.com/": dial tcp 52.46.1.1:443: i/o timeout',
  ],
  [
    'resource-init-secrets',
    'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secrets from ssm: service call has been retried 1 time(s)',
  ],
  ['resource-init-network', 'ResourceInitializationError: failed to configure ENI: failed to setup regular eni: netplugin failed with no error message'],
  ['resource-init-network', 'Timeout waiting for network interface provisioning to complete.'],
  [
    'resource-init-efs',
    "ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: stderr: b'mount.nfs4: access denied by server while mounting 127.0.0.1:/' : unsuccessful EFS utils command execution; code: 32",
  ],
  [
    'resource-init-logging',
    'ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not exist. : exit status 1',
  ],
  [
    'resource-init-logging',
    'CannotStartContainerError: Error response from daemon: failed to initialize logging driver: failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not exist.',
  ],
  ['task-failed-to-start', 'TaskFailedToStart', { field: 'stopCode', stopCode: 'TaskFailedToStart' }],
  [
    'container-start-error',
    'ResourceInitializationError: failed to create new container runtime task: failed to create shim task: OCI runtime create failed: unknown',
  ],
  ['resource-init-other', 'ResourceInitializationError: resource cannot be initialized for task %s: %v'],
  ['placement', 'service web was unable to place a task. Reason: The requested CPU configuration is above your limit.', { field: 'serviceEvent.message' }],
  [
    'placement',
    'service web was unable to place a task because no container instance met all of its requirements. Reason: No Container Instances were found in your cluster.',
    { field: 'serviceEvent.message' },
  ],
  ['placement', 'RESOURCE:MEMORY', { field: 'serviceAction.reason' }],
  ['spot', 'SpotInterruption', { field: 'stopCode', stopCode: 'SpotInterruption' }],
  ['spot', 'Your Spot Task was interrupted.', { stopCode: 'TerminationNotice' }],
  ['maintenance', 'ECS is performing maintenance on the underlying infrastructure hosting the task (task retirement)'],
  ['host-terminated', 'Host EC2 (instance i-0123456789abcdef0) terminated.'],
  ['host-terminated', 'Host EC2 (instance i-0123456789abcdef0) stopped.'],
  ['agent', 'DockerTimeoutError: Could not transition to created; timed out after waiting 4m0s'],
  ['agent', 'CannotInspectContainerError: Could not transition to inspecting; timed out after waiting 30s'],
  ['deployment-benign', 'Scaling activity initiated by (deployment ecs-svc/9909299324976484585)', { stopCode: 'ServiceSchedulerInitiated', exitCode: 137 }],
  ['deployment-benign', 'ECS deployment ecs-svc/123 completed.', { field: 'deploymentEvent.reason' }],
  [
    'deployment-failed',
    'service web was unable to stop or start tasks during a deployment because of the service deployment configuration. Update the minimumHealthyPercent or maximumPercent value and try again.',
    { field: 'serviceEvent.message' },
  ],
  ['deployment-failed', 'ECS deployment circuit breaker: task failed health checks.', { field: 'deploymentEvent.reason' }],
  ['deployment-rollback', 'ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/123.', { field: 'deploymentEvent.reason' }],
  ['user-stop', 'Task stopped by user', { stopCode: 'UserInitiated' }],
  ['user-stop', 'UserInitiated', { field: 'stopCode', stopCode: 'UserInitiated' }],
  ['autoscaling', 'Message: Successfully set desired count to 3. Change successfully fulfilled by ecs.', { field: 'serviceEvent.message' }],
  ['unknown', 'service web operations are being throttled. Will try again later.', { field: 'serviceEvent.message' }],
];

describe('realistic stop reasons from the AWS docs', () => {
  it('cover every category', () => {
    expect(new Set(DOC_STRINGS.map(([c]) => c))).toEqual(new Set(CATEGORIES));
  });

  it.each(DOC_STRINGS.map(([c, t, ctx]) => [c, t, ctx] as const))('%s: %s', (category, text, ctx) => {
    const c = classifyReason(text, ctx);
    expect(c.category).toBe(category);
    expect(c.reason).toBe(text);
    expect(c.severity).toBe(SEVERITY[category]);
  });
});

describe('hints', () => {
  it('every category that needs action has a non-empty hint; the others have none', () => {
    for (const c of CATEGORIES) {
      if (NO_HINT.includes(c)) expect(HINTS[c], c).toBeUndefined();
      else expect(HINTS[c]?.trim().length ?? 0, c).toBeGreaterThan(20);
    }
  });

  it('name the setting to change', () => {
    const hint = (text: string, ctx?: Parameters<typeof classifyReason>[1]) => classifyReason(text, ctx).hint ?? '';
    expect(hint('OutOfMemoryError: Container killed due to memory usage')).toMatch(/`memory`\/`memoryReservation`/);
    const thin = hint(
      'CannotCreateContainerError: API error (500): devmapper: Thin Pool has 10 free data blocks which is less than minimum required 4454 free data blocks.',
    );
    expect(thin).toMatch(/ecs-caretaker/);
    expect(thin).toMatch(/ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION/);
    expect(thin).toMatch(/ECS_IMAGE_CLEANUP_INTERVAL/);
    expect(hint('Task failed container health checks')).toMatch(/`curl`.*load balancer/);
    expect(hint('Task failed container health checks: /bin/sh: curl: not found')).toMatch(/missing/);
    expect(hint('container health check CMD-SHELL curl -f http://localhost:8080/health failed')).toMatch(/127\.0\.0\.1/);
    expect(hint('service web was unable to place a task because no container instance met all of its requirements.')).toMatch(/placementConstraints/);
    expect(hint('ECS deployment circuit breaker: task failed to start.')).toMatch(/minimumHealthyPercent/);
    expect(hint('DockerTimeoutError: Could not transition to created; timed out after waiting 4m0s')).toMatch(/agent/);
    expect(
      hint(
        'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: dial tcp 10.0.0.1:443: i/o timeout',
      ),
    ).toMatch(/VPC endpoints/);
    expect(
      hint(
        'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: AccessDeniedException: not authorized to perform: secretsmanager:GetSecretValue',
      ),
    ).toMatch(/secretsmanager:GetSecretValue/);
    expect(hint('Essential container in task exited', { exitCode: 139 })).toMatch(/segmentation fault/);
  });

  it('benign stops carry no hint', () => {
    expect(classifyReason('Scaling activity initiated by (deployment ecs-svc/1)').hint).toBeUndefined();
    expect(classifyReason('Task stopped by user').hint).toBeUndefined();
  });
});

describe('severity table', () => {
  it('covers exactly the categories, each listed once', () => {
    expect(new Set(CATEGORIES).size).toBe(CATEGORIES.length);
    expect(CATEGORIES).toHaveLength(32);
    expect(Object.keys(SEVERITY).sort()).toEqual([...CATEGORIES].sort());
  });

  it('follows the documented mapping', () => {
    for (const c of ['deployment-benign', 'user-stop', 'autoscaling'] as const) expect(SEVERITY[c]).toBe('info');
    for (const c of CATEGORIES.filter((c) => c.startsWith('image-pull-') || c.startsWith('health-check-'))) expect(SEVERITY[c]).toBe('high');
    for (const c of ['oom', 'exec-format', 'deployment-failed'] as const) expect(SEVERITY[c]).toBe('high');
    expect(SEVERITY.spot).toBe('low');
  });
});

describe('classifyReason edge cases', () => {
  it('truncates the kept reason to 500 characters', () => {
    const long = `CannotPullContainerError: ${'x'.repeat(2000)} no space left on device`;
    const c = classifyReason(long);
    expect(c.reason).toHaveLength(500);
    expect(c.reason).toBe(long.slice(0, 500));
  });

  it('falls back to the stop code when the text is empty or unknown', () => {
    expect(classifyReason('', { stopCode: 'UserInitiated' })).toMatchObject({ category: 'user-stop', reason: 'UserInitiated' });
    expect(classifyReason('mystery', { stopCode: 'SpotInterruption' })).toMatchObject({ category: 'spot', reason: 'mystery' });
  });

  it('never throws on non-string input', () => {
    expect(classifyReason(null as unknown as string)).toMatchObject({ category: 'unknown', reason: 'reason is not a string (got null)' });
    expect(classifyReason(42 as unknown as string, { stopCode: 'TaskFailedToStart' }).category).toBe('task-failed-to-start');
    expect(classifyReason('')).toMatchObject({ category: 'unknown', reason: 'empty reason' });
  });

  it('answers the same for the same input (no state between calls)', () => {
    const a = classifyReason('Task failed container health checks');
    classifyReason('CannotPullContainerError: context canceled');
    expect(classifyReason('Task failed container health checks')).toEqual(a);
  });
});

describe('malformed events never throw', () => {
  const cases: ReadonlyArray<readonly [string, unknown, RegExp]> = [
    ['null', null, /expected an object, got null/],
    ['undefined', undefined, /expected an object, got undefined/],
    ['a string', 'ECS Task State Change', /expected an object, got string/],
    ['an array', [], /expected an object, got array/],
    ['{}', {}, /detail-type missing/],
    ['no detail', { 'detail-type': 'ECS Task State Change' }, /detail missing/],
    ['detail is a string', { 'detail-type': 'ECS Task State Change', detail: 'STOPPED' }, /detail missing or not an object/],
    ['task without lastStatus', { 'detail-type': 'ECS Task State Change', detail: {} }, /detail\.lastStatus missing/],
    [
      'containers not an array',
      {
        'detail-type': 'ECS Task State Change',
        detail: { lastStatus: 'STOPPED', stoppedReason: 'Essential container in task exited', containers: { name: 'app' } },
      },
      /detail\.containers is not an array \(got object\)/,
    ],
    [
      'a container that is not an object',
      { 'detail-type': 'ECS Task State Change', detail: { lastStatus: 'STOPPED', containers: [null] } },
      /detail\.containers\[0\] is not an object/,
    ],
    [
      'a non-numeric exit code',
      { 'detail-type': 'ECS Task State Change', detail: { lastStatus: 'STOPPED', containers: [{ name: 'app', exitCode: 'abc' }] } },
      /containers\[0\]\.exitCode is not a number/,
    ],
    [
      'a numeric container reason',
      { 'detail-type': 'ECS Task State Change', detail: { lastStatus: 'STOPPED', containers: [{ name: 'app', reason: 137 }] } },
      /containers\[0\]\.reason is not a string/,
    ],
    [
      'a numeric stoppedReason',
      { 'detail-type': 'ECS Task State Change', detail: { lastStatus: 'STOPPED', stoppedReason: 42 } },
      /stoppedReason is not a string/,
    ],
    [
      'a STOPPED task with nothing to go on',
      { 'detail-type': 'ECS Task State Change', detail: { lastStatus: 'STOPPED' } },
      /without stoppedReason, stopCode or container reasons/,
    ],
    ['service action without eventName', { 'detail-type': 'ECS Service Action', detail: {} }, /detail\.eventName missing/],
    ['deployment without eventName', { 'detail-type': 'ECS Deployment State Change', detail: { reason: 'x' } }, /detail\.eventName missing/],
    [
      'deployment with a numeric reason',
      { 'detail-type': 'ECS Deployment State Change', detail: { eventName: 'SERVICE_DEPLOYMENT_FAILED', reason: 1 } },
      /detail\.reason is not a string/,
    ],
    [
      'container instance without agentConnected',
      { 'detail-type': 'ECS Container Instance State Change', detail: { status: 'ACTIVE' } },
      /detail\.agentConnected missing/,
    ],
    ['an unsupported detail-type', { 'detail-type': 'EC2 Instance State-change Notification', detail: {} }, /unsupported detail-type/],
  ];

  it.each(cases)('%s -> unknown', (_name, event, reason) => {
    let got: Classification | null = null;
    expect(() => {
      got = classifyEvent(event);
    }).not.toThrow();
    expect(got).toMatchObject({ category: 'unknown', severity: SEVERITY.unknown });
    expect(got!.reason).toMatch(reason);
  });

  it('a throwing getter becomes unknown, not an exception', () => {
    const event = {
      'detail-type': 'ECS Task State Change',
      get detail(): unknown {
        throw new Error('boom');
      },
    };
    expect(classifyEvent(event)).toMatchObject({ category: 'unknown', reason: 'classification failed: boom' });
  });

  it('a missing containers array is fine when the task-level fields are present', () => {
    const got = classifyEvent({
      'detail-type': 'ECS Task State Change',
      detail: { lastStatus: 'STOPPED', stoppedReason: 'Task stopped by user', stopCode: 'UserInitiated' },
    });
    expect(got).toMatchObject({ category: 'user-stop', severity: 'info', reason: 'Task stopped by user' });
  });
});

// ---------------------------------------------------------------------------
// Promises that mutation testing (npm run mutation -- classify) found unstated.

describe('severity decides what alerts (alerts.minSeverity): every category has its documented one', () => {
  // The doc comment of SEVERITY in classify.ts, category by category.
  const EXPECTED: Record<Category, string> = {
    oom: 'high',
    'essential-exit': 'medium',
    'exec-format': 'high',
    'health-check-container': 'high',
    'health-check-elb': 'high',
    'image-pull-auth': 'high',
    'image-pull-not-found': 'high',
    'image-pull-network': 'high',
    'image-pull-rate-limit': 'high',
    'image-pull-platform': 'high',
    'image-pull-disk-full': 'high',
    'image-pull-unknown': 'high',
    'container-create-error': 'high',
    'container-start-error': 'high',
    'resource-init-secrets': 'high',
    'resource-init-network': 'high',
    'resource-init-efs': 'high',
    'resource-init-logging': 'high',
    'resource-init-other': 'high',
    'command-not-found': 'high',
    'task-failed-to-start': 'medium',
    placement: 'medium',
    spot: 'low',
    maintenance: 'low',
    'host-terminated': 'medium',
    agent: 'medium',
    'deployment-benign': 'info',
    'deployment-failed': 'high',
    'deployment-rollback': 'medium',
    'user-stop': 'info',
    autoscaling: 'info',
    unknown: 'medium',
  };
  it.each(Object.entries(EXPECTED))('%s is %s', (category, severity) => {
    expect(SEVERITY[category as Category]).toBe(severity);
  });
});

describe('the finer hint of a sub-cause', () => {
  const hint = (text: string, ctx?: Parameters<typeof classifyReason>[1]) => classifyReason(text, ctx).hint;

  it('secrets: a timeout points at the route, a refusal at the role, anything else gets the category hint', () => {
    const timedOut = hint(
      'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve ecr registry auth: service call has been retried 3 time(s): RequestError: send request failed caused by: Post "https://api.ecr.us-east-1.amazonaws.com/": net/http: TLS handshake timeout',
    );
    expect(timedOut).toMatch(/^The task timed out fetching its secrets/);
    const refused = hint(
      'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: User: arn:aws:sts::111122223333:assumed-role/ecsTaskExecutionRole/0a1b is not authorized to perform: secretsmanager:GetSecretValue on resource: prod/db',
    );
    expect(refused).toMatch(/^The task execution role may not read a referenced secret/);
    expect(
      hint(
        'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secrets from ssm: service call has been retried 1 time(s)',
      ),
    ).toBe(HINTS['resource-init-secrets']);
    // A timeout in another resource keeps that resource's hint.
    expect(
      hint(
        'ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: stderr: mount.nfs4: Connection timed out : unsuccessful EFS utils command execution; code: 32',
      ),
    ).toBe(HINTS['resource-init-efs']);
  });

  it('a ResourceInitializationError no stage names says to read the text after the colon', () => {
    // The ResourceInitializationError carried inside a real CannotStartContainerError of the corpus: no secrets, EFS, logging or network stage.
    const c = classifyReason(
      'ResourceInitializationError: unable to create new container: mount callback failed on /tmp/containerd-mount916692511: open /tmp/containerd-mount916692511/etc/passwd: no such file or directory',
    );
    expect(c.category).toBe('resource-init-other');
    expect(c.hint).toBe(HINTS['resource-init-other']);
    expect(c.hint).toMatch(/\(ResourceInitializationError\): the text after the colon names the resource/);
  });

  it('Fargate\'s "container runtime task" under ResourceInitializationError is a container that could not start, not a resource', () => {
    // Before the classifier by evidence this was task-failed-to-start; a class now falls back to its own family, never to task-failed-to-start.
    const c = classifyReason(
      'ResourceInitializationError: failed to create new container runtime task: failed to create shim task: OCI runtime create failed: unknown',
    );
    expect(c.category).toBe('container-start-error');
    expect(c.hint).toBe(HINTS['container-start-error']);
  });

  it('the essential container exit code picks the hint: 0, 137, 139, 143, and the generic one otherwise', () => {
    const exited = (exitCode: number) => hint('Essential container in task exited', { exitCode });
    expect(exited(0)).toMatch(/exited with code 0/);
    expect(exited(137)).toMatch(/SIGKILL/);
    expect(exited(139)).toMatch(/segmentation fault/);
    expect(exited(143)).toMatch(/^The essential container exited after SIGTERM \(exit 143\)/);
    expect(exited(1)).toBe(HINTS['essential-exit']);
  });

  it('a container health check: a missing binary, a localhost target, or the category hint', () => {
    expect(hint('Task failed container health checks: /bin/sh: 1: curl: not found')).toMatch(/^The container `healthCheck` command cannot run in this image/);
    expect(hint('container health check CMD-SHELL curl -f http://localhost:8080/health failed')).toMatch(/^The container `healthCheck` targets `localhost`/);
    expect(hint('Task failed container health checks')).toBe(HINTS['health-check-container']);
    // Other categories never get the health-check sub-hints, localhost or not.
    expect(
      hint(
        'service web was unable to place a task because no container instance met all of its requirements. The closest matching container-instance localhost-abc has insufficient memory available.',
      ),
    ).toBe(HINTS.placement);
  });
});

describe('classifyReason and its context', () => {
  it('a bare placement reason code of a Service Action is placement, only in that field', () => {
    expect(classifyReason('ATTRIBUTE', { field: 'serviceAction.reason' })).toMatchObject({ category: 'placement', reason: 'ATTRIBUTE', hint: HINTS.placement });
    expect(classifyReason('ATTRIBUTE', { field: 'stoppedReason' }).category).toBe('unknown');
    expect(classifyReason('', { field: 'serviceAction.reason' })).toMatchObject({ category: 'unknown', reason: 'empty reason' });
  });

  it('what the text says wins over the stop code', () => {
    const elb = 'Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:us-east-2:111122223333:targetgroup/web/0123456789abcdef)';
    expect(classifyReason(elb, { stopCode: 'ServiceSchedulerInitiated' }).category).toBe('health-check-elb');
  });

  it('a stop code ECS adds one day is no category of its own: the text decides, or unknown', () => {
    expect(classifyReason('mystery', { stopCode: 'SomethingNew' })).toMatchObject({ category: 'unknown', reason: 'mystery' });
    expect(classifyReason('Task stopped by user', { stopCode: 'SomethingNew' }).category).toBe('user-stop');
  });

  it('a scheduler stop with a reason no rule knows is still a benign deployment stop', () => {
    expect(classifyReason('Task replaced by the scheduler', { stopCode: 'ServiceSchedulerInitiated' })).toMatchObject({
      category: 'deployment-benign',
      severity: 'info',
      hint: undefined,
    });
  });

  it('a Service Action reason that names a cause keeps it', () => {
    const pull =
      'CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref 111122223333.dkr.ecr.us-east-1.amazonaws.com/app:v9: not found';
    expect(classifyReason(pull, { field: 'serviceAction.reason' }).category).toBe('image-pull-not-found');
  });

  it('the wording of a user stop is enough without its stop code', () => {
    expect(classifyReason('Task stopped by user').category).toBe('user-stop');
    expect(classifyReason('Task stopped by the user').category).toBe('user-stop');
  });

  it('only the first 2 KiB are scanned, so a pasted stderr costs little: a cause beyond is not found', () => {
    const noise = 'x'.repeat(2048);
    expect(classifyReason(`${noise} no space left on device`).category).toBe('unknown');
    expect(classifyReason(`${'x'.repeat(2000)} no space left on device`).category).toBe('image-pull-disk-full');
  });
});

// Other wordings of the same causes: registries, Docker, containerd, the agent
// and the kernel phrase them in more than one way.
const WORDINGS: ReadonlyArray<readonly [Category, string]> = [
  ['oom', 'container app was OOMKilled'],
  ['oom', 'Memory cgroup stats: oom-kill:constraint=CONSTRAINT_MEMCG,task_memcg=/ecs/0a1b/app'],
  [
    'image-pull-network',
    'CannotPullContainerError: failed to copy: httpReadSeeker: failed open: failed to do request: Get "https://registry-1.docker.io/v2/library/node/blobs/sha256:0a1b": net/http: timeout awaiting response headers',
  ],
  ['image-pull-platform', 'CannotPullContainerError: Error response from daemon: image operating system "windows" cannot be used on this platform'],
  ['resource-init-network', 'ResourceInitializationError: failed to configure ENI: failed to setup regular eni: context deadline exceeded'],
  ['deployment-rollback', 'ECS deployment circuit breaker: tasks failed to start; rolled back to the previous deployment ecs-svc/1234567890.'],
  ['deployment-failed', 'ECS deployment ecs-svc/5170723913218591958 failed.'],
  ['host-terminated', 'The EC2 instance i-0123456789abcdef0 hosting the task was terminated.'],
  ['host-terminated', 'EC2 instance i-0123456789abcdef0 is shutting-down'],
  ['agent', 'The ECS agent on the container instance i-0123456789abcdef0 disconnected'],
  ['resource-init-network', 'The ENI eni-0123456789abcdef0 of the task could not be attached'],
  ['essential-exit', "Essential container 'app' in the task exited with code 1"],
  ['task-failed-to-start', 'Timeout waiting for the EBS volume attachment to complete'],
  ['health-check-container', 'container app healthcheck command timed out after 5s'],
  ['image-pull-disk-full', 'WARNING: Thin pool docker-thinpool data is now 100.00% full.'],
  [
    'resource-init-logging',
    'Error response from daemon: failed to initialize logging driver: failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not exist.',
  ],
  ['resource-init-efs', 'Failed to mount EFS volume fs-0123456789abcdef0: mount.nfs4: access denied by server while mounting 127.0.0.1:/'],
  ['health-check-container', 'Task failed container health checks: /bin/sh: 1: curl: not found'],
];

describe('other wordings of the same causes', () => {
  it.each(WORDINGS.map(([c, t]) => [c, t] as const))('%s: %s', (category, text) => {
    expect(classifyReason(text).category).toBe(category);
  });
});

describe('task events: which container and which text', () => {
  const MULTI = 'ecs-task-state-change-stopped-essential-exit-multicontainer.json';
  const PULL_NOT_FOUND =
    'CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref 111122223333.dkr.ecr.us-east-1.amazonaws.com/envoy:v1.29: not found';
  const PULL_RATE =
    'CannotPullContainerError: inspect image has been retried 1 time(s): httpReaderSeeker: failed open: unexpected status code https://registry-1.docker.io/v2/library/node/manifests/sha256:0a1b: 429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate limit.';
  const task = (detail: Record<string, unknown>) =>
    classifyEvent({ 'detail-type': 'ECS Task State Change', source: 'aws.ecs', detail: { lastStatus: 'STOPPED', ...detail } });

  it("an essential container's cause beats a sidecar's (essential: false) of the same weight", () => {
    const e = clone(MULTI);
    delete e.detail.stopCode;
    delete e.detail.stoppedReason;
    Object.assign(e.detail.containers[0], { essential: false, reason: PULL_NOT_FOUND });
    Object.assign(e.detail.containers[1], { essential: true, reason: PULL_RATE });
    expect(classifyEvent(e)).toMatchObject({ category: 'image-pull-rate-limit', container: 'app' });
  });

  it('an OOM kill in a sidecar beats a named cause in the essential container', () => {
    const e = clone(MULTI);
    Object.assign(e.detail.containers[0], { essential: false, reason: 'OutOfMemoryError: Container killed due to memory usage' });
    Object.assign(e.detail.containers[1], { essential: true, reason: PULL_RATE });
    expect(classifyEvent(e)).toMatchObject({ category: 'oom', container: 'envoy' });
  });

  it('a named cause in a sidecar beats a generic one in the essential container', () => {
    const e = clone(MULTI);
    delete e.detail.stopCode;
    delete e.detail.stoppedReason;
    // "Task failed to start" (a real stop reason of the corpus) names no cause: generic, like an essential exit.
    Object.assign(e.detail.containers[0], { essential: true, reason: 'Task failed to start' });
    Object.assign(e.detail.containers[1], { essential: false, reason: PULL_NOT_FOUND });
    expect(classifyEvent(e)).toMatchObject({ category: 'image-pull-not-found', container: 'app' });
  });

  it('the same event always names the same container: the first listed of equally telling causes', () => {
    const e = clone(MULTI);
    delete e.detail.stopCode;
    delete e.detail.stoppedReason;
    e.detail.containers[0].reason = PULL_NOT_FOUND;
    e.detail.containers[1].reason = PULL_RATE;
    expect(classifyEvent(e)).toMatchObject({ category: 'image-pull-not-found', container: 'envoy' });
  });

  it('a named container cause is used when the task says nothing itself', () => {
    expect(task({ containers: [{ name: 'app', reason: PULL_RATE }] })).toMatchObject({
      category: 'image-pull-rate-limit',
      container: 'app',
      reason: PULL_RATE,
    });
  });

  it('null fields are absent fields, and an empty container reason says nothing', () => {
    expect(task({ stoppedReason: null, stopCode: 'UserInitiated', containers: null })).toMatchObject({ category: 'user-stop', reason: 'UserInitiated' });
    expect(
      task({ stoppedReason: 'Essential container in task exited', containers: [{ name: 'app', reason: '', exitCode: null, essential: null }] }),
    ).toMatchObject({
      category: 'essential-exit',
      container: undefined,
      hint: HINTS['essential-exit'],
    });
  });

  it('an empty container reason is no reason: a task with nothing else says so', () => {
    expect(task({ containers: [{ name: 'app', reason: '' }] })).toMatchObject({
      category: 'unknown',
      reason: 'STOPPED task without stoppedReason, stopCode or container reasons',
      container: undefined,
    });
  });

  it("the task's own named cause wins over another named cause in a container", () => {
    const c = task({
      stoppedReason: 'Host EC2 (instance i-0123456789abcdef0) terminated.',
      containers: [{ name: 'app', reason: 'DockerTimeoutError: Could not transition to stopped; timed out after waiting 30s' }],
    });
    expect(c).toMatchObject({ category: 'host-terminated', container: undefined });
  });

  it('an empty stoppedReason falls back to the stop code, and keeps the code as the reason', () => {
    expect(task({ stoppedReason: '', stopCode: 'UserInitiated' })).toMatchObject({ category: 'user-stop', reason: 'UserInitiated' });
  });

  it('a stop code ECS adds one day: the unrecognised container reason is kept, else the code itself', () => {
    expect(task({ stopCode: 'SomethingNew', containers: [{ name: 'app', reason: 'a reason from the future' }] })).toMatchObject({
      category: 'unknown',
      reason: 'a reason from the future',
      container: 'app',
    });
    expect(task({ stopCode: 'SomethingNew' })).toMatchObject({ category: 'unknown', reason: 'SomethingNew' });
  });

  it('essential-exit: a container that has not exited is never the culprit', () => {
    const c = task({
      stoppedReason: 'Essential container in task exited',
      containers: [
        { name: 'envoy', lastStatus: 'RUNNING' },
        { name: 'app', exitCode: 0 },
      ],
    });
    expect(c).toMatchObject({ container: 'app', hint: expect.stringMatching(/code 0/) });
  });

  it('essential-exit: SIGTERM, SIGKILL and SIGINT exits are what ECS did to the others; the application exit code is the culprit', () => {
    for (const signal of [137, 143, 130]) {
      const c = task({
        stoppedReason: 'Essential container in task exited',
        containers: [
          { name: 'envoy', exitCode: signal },
          { name: 'app', exitCode: 1 },
        ],
      });
      expect(c?.container, String(signal)).toBe('app');
    }
  });

  it('essential-exit: the exit code counts before the essential flag, which only breaks ties', () => {
    expect(
      task({
        stoppedReason: 'Essential container in task exited',
        containers: [
          { name: 'init', exitCode: 0, essential: true },
          { name: 'app', exitCode: 1 },
        ],
      })?.container,
    ).toBe('app');
    expect(
      task({
        stoppedReason: 'Essential container in task exited',
        containers: [
          { name: 'envoy', exitCode: 1 },
          { name: 'app', exitCode: 1, essential: true },
        ],
      })?.container,
    ).toBe('app');
    expect(
      task({
        stoppedReason: 'Essential container in task exited',
        containers: [
          { name: 'worker', exitCode: 2 },
          { name: 'app', exitCode: 1 },
        ],
      })?.container,
    ).toBe('worker');
  });

  it('essential-exit without any exit code names no container and gives the generic hint', () => {
    expect(task({ stoppedReason: 'Essential container in task exited', containers: [{ name: 'app' }] })).toMatchObject({
      category: 'essential-exit',
      container: undefined,
      hint: HINTS['essential-exit'],
    });
  });

  it('a health check failure in a one-container task gets the category hint, and names the container only when it is UNHEALTHY', () => {
    expect(task({ stoppedReason: 'Task failed container health checks', containers: [{ name: 'app', healthStatus: 'UNKNOWN' }] })).toMatchObject({
      category: 'health-check-container',
      container: undefined,
      hint: HINTS['health-check-container'],
    });
  });

  it('a localhost health check in a task with a sidecar keeps the localhost hint', () => {
    const c = task({
      stoppedReason: 'container health check CMD-SHELL curl -f http://localhost:8080/health failed',
      containers: [{ name: 'envoy' }, { name: 'app', healthStatus: 'UNHEALTHY' }],
    });
    expect(c).toMatchObject({
      category: 'health-check-container',
      container: 'app',
      hint: expect.stringMatching(/^The container `healthCheck` targets `localhost`/),
    });
  });

  it('an UNHEALTHY container is not named as the cause of a stop it did not cause', () => {
    expect(
      task({ stopCode: 'SpotInterruption', stoppedReason: 'Your Spot Task was interrupted.', containers: [{ name: 'app', healthStatus: 'UNHEALTHY' }] }),
    ).toMatchObject({ category: 'spot', container: undefined });
  });
});

describe('service, deployment and container instance events: the rest of the vocabulary', () => {
  const service = (detail: Record<string, unknown>) =>
    classifyEvent({ 'detail-type': 'ECS Service Action', source: 'aws.ecs', detail: { eventType: 'ERROR', ...detail } });
  const deployment = (detail: Record<string, unknown>) =>
    classifyEvent({ 'detail-type': 'ECS Deployment State Change', source: 'aws.ecs', detail: { eventType: 'INFO', ...detail } });
  const instance = (detail: Record<string, unknown>) =>
    classifyEvent({ 'detail-type': 'ECS Container Instance State Change', source: 'aws.ecs', detail: { agentConnected: false, ...detail } });

  it('a placement failure is placement whatever its reason code', () => {
    expect(service({ eventName: 'SERVICE_TASK_PLACEMENT_FAILURE', reason: 'ATTRIBUTE' })).toMatchObject({ category: 'placement', reason: 'ATTRIBUTE' });
    expect(service({ eventName: 'SERVICE_TASK_PLACEMENT_FAILURE', reason: '' })).toMatchObject({
      category: 'placement',
      reason: 'SERVICE_TASK_PLACEMENT_FAILURE',
    });
  });

  it('unhealthy targets: Cloud Map reports the container check, VPC Lattice probes like a load balancer', () => {
    expect(service({ eventName: 'SERVICE_DISCOVERY_INSTANCE_UNHEALTHY', eventType: 'WARN' })).toMatchObject({
      category: 'health-check-container',
      hint: HINTS['health-check-container'],
    });
    expect(service({ eventName: 'VPC_LATTICE_TARGET_UNHEALTHY', eventType: 'WARN' })).toMatchObject({
      category: 'health-check-elb',
      severity: 'high',
      hint: HINTS['health-check-elb'],
    });
  });

  it('a task configuration failure gets the category its reason names', () => {
    const reason =
      'CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref 111122223333.dkr.ecr.us-east-1.amazonaws.com/app:v9: not found';
    expect(service({ eventName: 'SERVICE_TASK_CONFIGURATION_FAILURE', reason })).toMatchObject({
      category: 'image-pull-not-found',
      reason,
      hint: HINTS['image-pull-not-found'],
    });
    expect(service({ eventName: 'SERVICE_TASK_CONFIGURATION_FAILURE', reason: 'something new' })).toMatchObject({
      category: 'task-failed-to-start',
      hint: HINTS['task-failed-to-start'],
    });
  });

  it('a failed deployment without a reason is still deployment-failed, named by its event', () => {
    expect(deployment({ eventName: 'SERVICE_DEPLOYMENT_FAILED', eventType: 'ERROR' })).toMatchObject({
      category: 'deployment-failed',
      reason: 'SERVICE_DEPLOYMENT_FAILED',
    });
    expect(deployment({ eventName: 'SERVICE_DEPLOYMENT_FAILED', eventType: 'ERROR', reason: '' })).toMatchObject({
      category: 'deployment-failed',
      reason: 'SERVICE_DEPLOYMENT_FAILED',
    });
  });

  it('a deployment in progress is no incident, whatever its reason says, unless it is a rollback', () => {
    expect(deployment({ eventName: 'SERVICE_DEPLOYMENT_IN_PROGRESS' })).toBeNull();
    expect(deployment({ eventName: 'SERVICE_DEPLOYMENT_IN_PROGRESS', reason: 'ECS deployment ecs-svc/123 in progress.' })).toBeNull();
    expect(deployment({ eventName: 'SERVICE_DEPLOYMENT_IN_PROGRESS', reason: 'Something ECS says one day' })).toBeNull();
  });

  it('a deployment event name ECS adds one day: its reason decides, else unknown', () => {
    expect(
      deployment({ eventName: 'SERVICE_DEPLOYMENT_PAUSED', reason: 'ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/123.' }),
    ).toMatchObject({ category: 'deployment-rollback' });
    expect(deployment({ eventName: 'SERVICE_DEPLOYMENT_PAUSED', reason: 'Something ECS says one day' })).toMatchObject({
      category: 'unknown',
      reason: 'Something ECS says one day',
    });
    expect(deployment({ eventName: 'SERVICE_DEPLOYMENT_PAUSED' })).toMatchObject({ category: 'unknown', reason: 'SERVICE_DEPLOYMENT_PAUSED' });
  });

  it('an agent disconnect while deregistering, or on a drained instance with nothing pending, is the end of a scale-in', () => {
    expect(instance({ status: 'DEREGISTERING', ec2InstanceId: 'i-0123456789abcdef0' })).toBeNull();
    expect(instance({ status: 'DRAINING', runningTasksCount: 0, ec2InstanceId: 'i-0123456789abcdef0' })).toBeNull();
    expect(instance({ status: 'DRAINING', runningTasksCount: 0, pendingTasksCount: 1, ec2InstanceId: 'i-0123456789abcdef0' })?.category).toBe('agent');
    expect(instance({ status: 'ACTIVE', runningTasksCount: 0, pendingTasksCount: 0, ec2InstanceId: 'i-0123456789abcdef0' })?.category).toBe('agent');
  });

  it("the agent disconnect reason names the instance, its status and AWS's status reason", () => {
    expect(instance({ status: 'ACTIVE', ec2InstanceId: 'i-0123456789abcdef0', statusReason: 'Instance health check failed' })?.reason).toBe(
      'ECS agent disconnected on container instance i-0123456789abcdef0 (status ACTIVE): Instance health check failed',
    );
    const arn = 'arn:aws:ecs:eu-west-1:111122223333:container-instance/prod/0123456789abcdef0123456789abcdef';
    expect(instance({ status: 'ACTIVE', containerInstanceArn: arn, statusReason: '' })?.reason).toBe(
      `ECS agent disconnected on container instance ${arn} (status ACTIVE)`,
    );
    expect(instance({ status: 7 })?.reason).toBe('ECS agent disconnected on container instance unknown instance (status unknown)');
  });
});

describe('malformed fields inside otherwise good events', () => {
  it.each([
    [
      'a numeric container name',
      { 'detail-type': 'ECS Task State Change', detail: { lastStatus: 'STOPPED', containers: [{ name: 1 }] } },
      /containers\[0\]\.name is not a string/,
    ],
    [
      'a boolean healthStatus',
      { 'detail-type': 'ECS Task State Change', detail: { lastStatus: 'STOPPED', containers: [{ name: 'app', healthStatus: true }] } },
      /containers\[0\]\.healthStatus is not a string/,
    ],
    [
      'a numeric stopCode',
      { 'detail-type': 'ECS Task State Change', detail: { lastStatus: 'STOPPED', stopCode: 3 } },
      /^malformed ECS Task State Change: detail\.stopCode is not a string$/,
    ],
    [
      'a numeric Service Action reason',
      { 'detail-type': 'ECS Service Action', detail: { eventName: 'SERVICE_TASK_PLACEMENT_FAILURE', reason: 5 } },
      /^malformed ECS Service Action SERVICE_TASK_PLACEMENT_FAILURE: detail\.reason is not a string$/,
    ],
  ] as const)('%s -> unknown', (_name, event, reason) => {
    const got = classifyEvent(event);
    expect(got).toMatchObject({ category: 'unknown' });
    expect(got!.reason).toMatch(reason);
  });
});

// ---------------------------------------------------------------------------
// Promises of the classifier by evidence that mutation testing found unstated.

describe('a class of its own: the agent names its error, then its message', () => {
  // The agent reports a container error as "<ErrorName>: <message>" (as in every
  // "CannotPullContainerError: …" of the corpus); the messages are the corpus
  // strings from the agent source, each with the class that carries it there.
  it.each([
    ['image-pull-unknown', 'CannotPullImageManifestError: failed to pull image manifest'],
    ['image-pull-auth', 'CannotPullECRContainerError: engine ecr credentials: not found'],
    ['image-pull-auth', 'CannotPullContainerAuthError: engine docker private registry credentials: not found'],
    ['resource-init-network', 'ContainerNetworkingError: container resource provisioning: failed to setup network namespace: %+v'],
  ] as const)('%s <- %s', (category, text) => {
    const c = classifyReason(text, { field: 'containers[].reason' });
    expect(c.category).toBe(category);
    expect(c.hint).toBe(HINTS[category]);
  });

  it('an architecture mismatch is exec-format whatever class carries it, never a plain start error', () => {
    // The corpus's Docker message, as the EC2 agent reports it under its class.
    const c = classifyReason(
      'CannotStartContainerError: Error response from daemon: Cannot start container 4f61653adb0d7824eac1b2eee2fefb027f046de5558a17088b7100da3e887b49: [8] System error: exec format error',
    );
    expect(c.category).toBe('exec-format');
    expect(c.hint).toBe(HINTS['exec-format']);
  });

  it('a host port already taken gets the port hint, not the generic start hint', () => {
    const c = classifyReason('CannotStartContainerError: bind for 0.0.0.0:8080 failed: port is already allocated');
    expect(c.category).toBe('container-start-error');
    expect(c.hint).toMatch(/^The container could not bind its host port \(port is already allocated\)/);
    expect(c.hint).toMatch(/hostPort: 0/);
  });

  it('a registry that says "repository does not exist or may require docker login" gets a hint that names both causes', () => {
    const c = classifyReason(
      "CannotPullContainerError: Error response from daemon: pull access denied for FOO.dkr.ecr.us-east-1.amazonaws.com/foo/app, repository does not exist or may require 'docker login'",
    );
    expect(c.category).toBe('image-pull-auth');
    expect(c.hint).toMatch(/^The registry refused the pull, which it also does for an image that does not exist/);
  });
});

describe('stop codes in their own field', () => {
  it('InfrastructureHealth: an AWS-side replacement with its own hint, from the stopCode field alone', () => {
    // No rule reads the code's name as text: only the field says it is a stop code.
    const c = classifyReason('InfrastructureHealth', { field: 'stopCode' });
    expect(c).toMatchObject({ category: 'maintenance', severity: 'low', reason: 'InfrastructureHealth' });
    expect(c.hint).toMatch(/^ECS stopped the task because the infrastructure under it \(the EC2 host or the Fargate capacity\) was unhealthy/);
  });

  it('InfrastructureHealth on a STOPPED task without a stoppedReason', () => {
    const c = classifyEvent({
      'detail-type': 'ECS Task State Change',
      source: 'aws.ecs',
      detail: { lastStatus: 'STOPPED', stopCode: 'InfrastructureHealth', containers: [{ name: 'app', exitCode: 143 }] },
    });
    expect(c).toMatchObject({ category: 'maintenance', reason: 'InfrastructureHealth', container: undefined });
    expect(c!.hint).toMatch(/infrastructure under it/);
  });

  it.each([
    ['EssentialContainerExited', 'essential-exit'],
    ['TaskFailedToStart', 'task-failed-to-start'],
    ['ServiceSchedulerInitiated', 'deployment-benign'],
    ['SpotInterruption', 'spot'],
    ['TerminationNotice', 'spot'],
    ['UserInitiated', 'user-stop'],
    ['InfrastructureHealth', 'maintenance'],
  ] as const)('a STOPPED task with nothing but stopCode %s is %s', (stopCode, category) => {
    const c = classifyEvent({ 'detail-type': 'ECS Task State Change', source: 'aws.ecs', detail: { lastStatus: 'STOPPED', stopCode } });
    expect(c).toMatchObject({ category, severity: SEVERITY[category], reason: stopCode });
  });

  it('a stop code ECS adds one day, in the stopCode field: unknown, with the code as the reason', () => {
    expect(classifyReason('SomethingNew', { field: 'stopCode' })).toMatchObject({ category: 'unknown', reason: 'SomethingNew', hint: undefined });
  });
});

describe('fields a relay sent as null or as strings', () => {
  const exited = (containers: unknown[]) =>
    classifyEvent({
      'detail-type': 'ECS Task State Change',
      source: 'aws.ecs',
      detail: { lastStatus: 'STOPPED', stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited', containers },
    });

  it('null containers or a null container reason are absent, and do not demote an essential exit to unknown', () => {
    expect(
      classifyEvent({
        'detail-type': 'ECS Task State Change',
        source: 'aws.ecs',
        detail: { lastStatus: 'STOPPED', stoppedReason: 'Essential container in task exited', containers: null },
      }),
    ).toMatchObject({
      category: 'essential-exit',
      container: undefined,
    });
    expect(exited([{ name: 'app', reason: null, exitCode: 1 }])).toMatchObject({ category: 'essential-exit', container: 'app' });
  });

  it('an exit code sent as a decimal string counts like the number', () => {
    expect(exited([{ name: 'app', exitCode: '137' }])).toMatchObject({ category: 'essential-exit', container: 'app', hint: expect.stringMatching(/SIGKILL/) });
  });

  it('an exit code string that is not a whole decimal number is malformed', () => {
    for (const exitCode of ['137abc', 'abc137', '1.5']) {
      const c = exited([{ name: 'app', exitCode }]);
      expect(c, exitCode).toMatchObject({ category: 'unknown', reason: 'malformed ECS Task State Change: detail.containers[0].exitCode is not a number' });
    }
  });

  it('essential sent as "true" or "false" counts like the boolean', () => {
    // "false": the sidecar's cause loses to the essential container's cause of the same weight.
    const PULL_NOT_FOUND =
      'CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref 111122223333.dkr.ecr.us-east-1.amazonaws.com/envoy:v1.29: not found';
    const PULL_RATE =
      'CannotPullContainerError: inspect image has been retried 1 time(s): httpReaderSeeker: failed open: unexpected status code https://registry-1.docker.io/v2/library/node/manifests/sha256:0a1b: 429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate limit.';
    const pulls = classifyEvent({
      'detail-type': 'ECS Task State Change',
      source: 'aws.ecs',
      detail: {
        lastStatus: 'STOPPED',
        containers: [
          { name: 'envoy', essential: 'false', reason: PULL_NOT_FOUND },
          { name: 'app', reason: PULL_RATE },
        ],
      },
    });
    expect(pulls).toMatchObject({ category: 'image-pull-rate-limit', container: 'app' });
    // "true": between two equal exit codes, the essential container is the culprit.
    expect(
      exited([
        { name: 'envoy', exitCode: 1 },
        { name: 'app', exitCode: 1, essential: 'true' },
      ])?.container,
    ).toBe('app');
  });
});
