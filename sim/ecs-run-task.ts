import { SimError } from './errors.ts';
import type { EcsSim } from './ecs.ts';
import { place } from './ecs-placement.ts';
import { apiTask } from './ecs-shapes.ts';
import type { Cluster, Failure, LaunchType, Task } from './ecs-types.ts';

const invalid = (message: string) => new SimError('InvalidParameterException', message);

// "You can specify up to 10 tasks for each call." (RunTask count, ECS API Reference)
const MAX_COUNT = 10;
// "Up to 36 letters (uppercase and lowercase), numbers, hyphens (-), forward slash (/), and underscores (_)" (RunTask startedBy).
// The sim rejects other characters too, so that a caller that would break on real ECS breaks here first.
const STARTED_BY_MAX = 36;
// "up to 64 ASCII characters", kept 24 hours per cluster ("Ensuring idempotency", ECS API Reference).
const CLIENT_TOKEN_MAX = 64;
const CLIENT_TOKEN_TTL_MS = 24 * 3600_000;

/**
 * RunTask. A retry with the same clientToken and the same parameters gets
 * the original answer (its tasks as they are now); different parameters get
 * ConflictException ("Idempotency for RunTask", ECS API Reference).
 */
export function runTask(ecs: EcsSim, input: any, now: number) {
  const cluster = ecs.requireCluster(input.cluster);
  const token: string | undefined = input.clientToken;
  if (token !== undefined && token.length > CLIENT_TOKEN_MAX) throw invalid(`clientToken cannot be longer than ${CLIENT_TOKEN_MAX} characters.`);
  const seen = ecs.runTaskTokens;
  const key = `${cluster.arn} ${token}`;
  const fingerprint = fingerprintOf(input);
  const previous = token === undefined ? undefined : seen.get(key);
  if (previous && now - previous.at < CLIENT_TOKEN_TTL_MS) {
    if (previous.fingerprint !== fingerprint) throw new SimError('ConflictException', 'The clientToken was already used with different parameters.');
    return reply(previous);
  }

  const result = start(ecs, cluster, input);
  if (token !== undefined) seen.set(key, { fingerprint, at: now, ...result });
  return reply(result);
}

const reply = (r: { tasks: Task[]; failures: Failure[] }) => ({ tasks: r.tasks.map((t) => apiTask(t, { tags: true })), failures: r.failures });

function start(ecs: EcsSim, cluster: Cluster, input: any): { tasks: Task[]; failures: Failure[] } {
  if (!input.taskDefinition) throw invalid('taskDefinition can not be blank.');
  const definition = ecs.taskDefinition(input.taskDefinition);
  if (!definition) throw new SimError('ClientException', 'TaskDefinition not found.');
  const count = input.count ?? 1;
  if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT) throw invalid(`count must be between 1 and ${MAX_COUNT}.`);
  if (input.startedBy !== undefined && input.startedBy.length > STARTED_BY_MAX) throw invalid(`startedBy cannot be longer than ${STARTED_BY_MAX} characters.`);
  if (input.startedBy !== undefined && !/^[A-Za-z0-9/_-]*$/.test(input.startedBy))
    throw invalid('startedBy can only contain letters, numbers, hyphens (-), forward slashes (/) and underscores (_).');
  const { launchType, capacityProviderName } = launchOf(input);
  const awsvpc = definition.networkMode === 'awsvpc' || launchType === 'FARGATE';
  if (awsvpc && !input.networkConfiguration?.awsvpcConfiguration) {
    throw invalid("Network Configuration must be provided when networkMode 'awsvpc' is specified.");
  }
  const reserved = { cpu: Number(input.overrides?.cpu ?? definition.cpu), memory: Number(input.overrides?.memory ?? definition.memory) };

  const scripted = ecs.takeScriptedFailure();
  if (scripted) return { tasks: [], failures: [{ ...scripted, arn: scripted.arn ?? cluster.arn }] };

  const onEc2 = launchType === 'EC2';
  if (onEc2 && !ecs.containerInstances(cluster.name).some((i) => i.status === 'ACTIVE')) {
    throw invalid('No Container Instances were found in your cluster.');
  }
  const tasks: Task[] = [];
  for (let i = 0; i < count; i++) {
    const placement = onEc2 ? place(ecs.containerInstances(cluster.name), reserved, (ci) => ecs.runningCount(ci)) : undefined;
    if (placement && 'failures' in placement) return { tasks, failures: placement.failures };
    tasks.push(
      ecs.createTask({
        cluster,
        definition,
        launchType,
        capacityProviderName,
        instance: placement?.instance,
        group: input.group,
        startedBy: input.startedBy,
        tags: input.tags,
        overrides: input.overrides,
        networkConfiguration: input.networkConfiguration,
        awsvpc,
        reserved,
        enableExecuteCommand: input.enableExecuteCommand,
      }),
    );
  }
  return { tasks, failures: [] };
}

/** A capacity provider strategy decides the launch type; FARGATE/FARGATE_SPOT are the Fargate ones, any other is an ASG's (EC2). */
function launchOf(input: any): { launchType: LaunchType; capacityProviderName?: string } {
  const strategy: Array<{ capacityProvider: string }> | undefined = input.capacityProviderStrategy;
  if (input.launchType && strategy?.length) throw invalid('Specifying both a launch type and capacity provider strategy is not supported.');
  if (!strategy?.length) return { launchType: input.launchType ?? 'EC2' };
  const provider = strategy[0]!.capacityProvider;
  return { launchType: provider.startsWith('FARGATE') ? 'FARGATE' : 'EC2', capacityProviderName: provider };
}

function fingerprintOf(input: any): string {
  const { clientToken: _token, ...rest } = input;
  return JSON.stringify(sortKeys(rest));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
  );
}
