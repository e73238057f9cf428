/**
 * Events for the stopped-watch tests, derived from the real payloads in
 * test/fixtures/aws-events (deep copies; the fixtures are never touched) with the
 * fields a scenario needs changed.
 */
import { randomUUID } from 'node:crypto';
import { loadAwsEvent } from '../support/fixtures.ts';

const EC2_STOPPED = 'ecs-task-state-change-stopped-scaling-ec2-exit137.json';

export const REGION = 'eu-west-1';
export const ACCOUNT = '123456789012';
export const OOM_REASON = 'OutOfMemoryError: Container killed due to memory usage';
/** The devicemapper thin-pool message (ECS developer guide, CannotCreateContainerError), on an image pull. */
export const THIN_POOL_REASON =
  'CannotPullContainerError: failed to register layer: devmapper: Thin Pool has 4350 free data blocks which is less than minimum required 4454 free data blocks. Create more free space in thin pool or use dm.min_free_space option to change behavior';

export interface StopOptions {
  cluster?: string;
  /** ECS service name; undefined for a standalone task. */
  service?: string | null;
  family?: string;
  stoppedReason?: string;
  stopCode?: string;
  /** reason of the task's only container */
  containerReason?: string;
  exitCode?: number | null;
  /** undefined: keep an EC2 container instance; null: Fargate-like, none. */
  containerInstanceId?: string | null;
  id?: string;
  taskId?: string;
  time?: string;
}

/** A real EC2 "ECS Task State Change" STOPPED event, re-homed in `cluster`. */
export function stoppedTask(opts: StopOptions = {}): any {
  const event = structuredClone(loadAwsEvent(EC2_STOPPED));
  const cluster = opts.cluster ?? 'prod';
  const taskId = opts.taskId ?? randomUUID().replaceAll('-', '');
  const arn = (resource: string) => `arn:aws:ecs:${REGION}:${ACCOUNT}:${resource}`;
  const d = event.detail;
  event.id = opts.id ?? randomUUID();
  event.account = ACCOUNT;
  event.region = REGION;
  event.time = opts.time ?? event.time;
  event.resources = [arn(`task/${cluster}/${taskId}`)];
  d.clusterArn = arn(`cluster/${cluster}`);
  d.taskArn = arn(`task/${cluster}/${taskId}`);
  const family = opts.family ?? 'web';
  d.taskDefinitionArn = arn(`task-definition/${family}:7`);
  if (opts.service === null) {
    d.group = `family:${family}`;
    d.startedBy = 'ecs-caretaker-test';
  } else {
    d.group = `service:${opts.service ?? 'web'}`;
  }
  if (opts.containerInstanceId === null) delete d.containerInstanceArn;
  else d.containerInstanceArn = arn(`container-instance/${cluster}/${opts.containerInstanceId ?? 'c2df6e33804b4e12aab6ec6496fdef5d'}`);
  if (opts.stoppedReason !== undefined) d.stoppedReason = opts.stoppedReason;
  if (opts.stopCode !== undefined) d.stopCode = opts.stopCode;
  const container = d.containers[0];
  container.taskArn = d.taskArn;
  if (opts.containerReason !== undefined) container.reason = opts.containerReason;
  if (opts.exitCode === null) delete container.exitCode;
  else if (opts.exitCode !== undefined) container.exitCode = opts.exitCode;
  return event;
}

/** An OOM kill: ECS says "Essential container in task exited" and the container carries the memory reason. */
export const oomStop = (opts: StopOptions = {}) =>
  stoppedTask({
    stoppedReason: 'Essential container in task exited',
    stopCode: 'EssentialContainerExited',
    containerReason: OOM_REASON,
    exitCode: 137,
    ...opts,
  });

/** The thin-pool pull failure on an EC2 task (no container ever ran). */
export const thinPoolStop = (opts: StopOptions = {}) =>
  stoppedTask({ stoppedReason: THIN_POOL_REASON, stopCode: 'TaskFailedToStart', exitCode: null, ...opts });

/** An event as SNS hands it to a Lambda subscriber (Lambda developer guide, "Using Lambda with Amazon SNS"). */
export function snsWrapped(...messages: Array<unknown>): any {
  const topicArn = `arn:aws:sns:${REGION}:${ACCOUNT}:ecs-events`;
  return {
    Records: messages.map((message) => ({
      EventSource: 'aws:sns',
      EventVersion: '1.0',
      EventSubscriptionArn: `${topicArn}:${randomUUID()}`,
      Sns: {
        Type: 'Notification',
        MessageId: randomUUID(),
        TopicArn: topicArn,
        Subject: null,
        Message: typeof message === 'string' ? message : JSON.stringify(message),
        Timestamp: new Date().toISOString(),
        SignatureVersion: '1',
        Signature: 'EXAMPLE',
        SigningCertUrl: 'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem',
        UnsubscribeUrl: 'https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe',
        MessageAttributes: {},
      },
    })),
  };
}

/** The Scheduled Event of the flush rule. */
export const flushEvent = (time = '2026-11-23T10:00:00Z') => ({
  version: '0',
  id: randomUUID(),
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: ACCOUNT,
  time,
  region: REGION,
  resources: [`arn:aws:events:${REGION}:${ACCOUNT}:rule/ecs-caretaker-test-stoppedWatch-flush`],
  detail: {},
});
