import type { ServiceDef } from './dispatcher.ts';
import { SimError } from './errors.ts';
import { decodeToken, encodeToken } from './page-token.ts';
import { lastSegment, type EcsSim } from './ecs.ts';
import { runTask } from './ecs-run-task.ts';
import { apiCluster, apiTask } from './ecs-shapes.ts';
import type { Failure } from './ecs-types.ts';

const invalid = (message: string) => new SimError('InvalidParameterException', message);

// "A list of up to 100 task IDs or full ARN entries." (DescribeTasks, ECS API Reference)
const DESCRIBE_TASKS_MAX = 100;
// "A list of up to 100 cluster names or full cluster ARN entries." (DescribeClusters, ECS API Reference)
const DESCRIBE_CLUSTERS_MAX = 100;
// maxResults "can be between 1 and 100"; without it ListTasks "returns up to 100 results" (ListTasks, ECS API Reference)
const LIST_TASKS_MAX = 100;
// "Up to 255 characters are allowed in this message." (StopTask reason, ECS API Reference)
const STOP_REASON_MAX = 255;

/** ECS over awsJson1_1, as @aws-sdk/client-ecs calls it. */
export function ecsService(ecs: EcsSim): ServiceDef {
  return {
    name: 'ecs',
    sdkServiceId: 'ECS',
    protocol: 'awsJson1_1',
    target: 'AmazonEC2ContainerServiceV20141113',
    serverErrorCode: 'ServerException',
    operations: {
      RunTask: (input, ctx) => runTask(ecs, input, ctx.now),

      DescribeTasks(input, ctx) {
        const cluster = ecs.requireCluster(input.cluster);
        const refs: string[] = input.tasks ?? [];
        if (refs.length === 0) throw invalid('Tasks cannot be empty.');
        if (refs.length > DESCRIBE_TASKS_MAX) throw invalid(`Tasks cannot have more than ${DESCRIBE_TASKS_MAX} elements.`);
        const withTags = (input.include ?? []).includes('TAGS');
        const tasks = [];
        const failures: Failure[] = [];
        for (const ref of refs) {
          const task = ecs.task(ref);
          if (task && task.clusterName === cluster.name && ecs.visible(task, ctx.now)) tasks.push(apiTask(task, { tags: withTags }));
          else failures.push({ arn: ref.startsWith('arn:') ? ref : ecs.arn(`task/${cluster.name}/${ref}`), reason: 'MISSING' });
        }
        return { tasks, failures };
      },

      ListTasks(input, ctx) {
        const cluster = ecs.requireCluster(input.cluster);
        const max = input.maxResults ?? LIST_TASKS_MAX;
        if (!Number.isInteger(max) || max < 1 || max > LIST_TASKS_MAX) throw invalid(`maxResults must be between 1 and ${LIST_TASKS_MAX}.`);
        const desired = input.desiredStatus ?? 'RUNNING';
        if (!['RUNNING', 'PENDING', 'STOPPED'].includes(desired)) throw invalid(`Invalid desiredStatus: ${desired}`);
        const instance = input.containerInstance === undefined ? undefined : ecs.containerInstance(input.containerInstance)?.arn;
        if (input.containerInstance !== undefined && !instance) return { taskArns: [] };
        const after = decodeToken(input.nextToken);
        // Stable creation order with a "last seen" cursor: tasks started between pages never shift a page.
        // One instance's tasks, when the call names one: the drain's done checks, hundreds at once in a scale-in.
        const candidates = instance === undefined ? ecs.tasks() : ecs.tasksOn(instance);
        const matching = candidates.filter(
          (t) =>
            t.clusterName === cluster.name &&
            t.seq > after &&
            ecs.visible(t, ctx.now) &&
            // ECS never sets desiredStatus PENDING, so that filter is documented to return nothing.
            t.desiredStatus === desired &&
            (input.family === undefined || t.taskDefinition.family === input.family) &&
            (input.startedBy === undefined || t.startedBy === input.startedBy) &&
            (input.serviceName === undefined || t.group === `service:${input.serviceName}`) &&
            (input.launchType === undefined || t.launchType === input.launchType) &&
            (instance === undefined || t.containerInstanceArn === instance),
        );
        const page = matching.slice(0, max);
        const last = page[page.length - 1];
        return { taskArns: page.map((t) => t.arn), nextToken: matching.length > max && last ? encodeToken(last.seq) : undefined };
      },

      StopTask(input) {
        const cluster = ecs.requireCluster(input.cluster);
        const reason: string | undefined = input.reason;
        if (reason !== undefined && reason.length > STOP_REASON_MAX) throw invalid(`reason cannot be longer than ${STOP_REASON_MAX} characters.`);
        const task = input.task ? ecs.task(input.task) : undefined;
        if (!task || task.clusterName !== cluster.name) throw invalid('The referenced task was not found.');
        ecs.lifecycle.stop(task, { stopCode: 'UserInitiated', reason });
        return { task: apiTask(task) };
      },

      DescribeClusters(input) {
        const refs: string[] = input.clusters?.length ? input.clusters : ['default'];
        if (refs.length > DESCRIBE_CLUSTERS_MAX) throw invalid(`Clusters cannot have more than ${DESCRIBE_CLUSTERS_MAX} elements.`);
        const clusters = [];
        const failures: Failure[] = [];
        for (const ref of refs) {
          const cluster = ecs.clusters.get(lastSegment(ref));
          if (cluster)
            clusters.push(apiCluster(cluster, ecs.tasks({ cluster: cluster.name }), ecs.containerInstances(cluster.name).length, input.include ?? []));
          else failures.push({ arn: ref.startsWith('arn:') ? ref : ecs.arn(`cluster/${ref}`), reason: 'MISSING' });
        }
        return { clusters, failures };
      },
    },
  };
}
