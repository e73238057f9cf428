/**
 * The simulated account every scenario starts from: cluster `demo` on three
 * EC2 instances of the Auto Scaling group `demo-asg`, each registered in
 * Systems Manager, with the lifecycle hook, SSM document, alert topic and
 * table the demo deployment creates. The world narrates itself on the
 * timeline: task state changes, alerts reaching the ops inbox, Run Command.
 */
import { installDrainWorld, type DrainWorld } from '../sim/drain.ts';
import { installDynamoProxy } from '../sim/dynamo-proxy.ts';
import { installEventBridge, type EventBridgeSim } from '../sim/eventbridge.ts';
import { createTable, type Sim, type Task } from '../sim/index.ts';
import { installSns, type PublishedMessage, type SnsSim } from '../sim/sns.ts';
import { installSsm, type SsmSim } from '../sim/ssm.ts';
import { ASG, CLUSTER, demoConfig, resourcesOfType, tableName } from './deployment.ts';
import type { Timeline } from './timeline.ts';

export const INSTANCES = ['i-0feed0000000001', 'i-0feed0000000002', 'i-0feed0000000003'] as const;

export interface World {
  sim: Sim;
  timeline: Timeline;
  drain: DrainWorld;
  sns: SnsSim;
  eventBridge: EventBridgeSim;
  ssm: SsmSim;
  alertTopic: string;
  /** The alert topic's messages, in the order the inbox received them. */
  inbox: PublishedMessage[];
  /** `web/3f2a`: the service (or family) and the start of the task id. */
  taskName(ref: string | Task): string;
  /** The EC2 instance id of a container instance ARN, or the reference unchanged. */
  instanceOf(ref: string): string;
  /** Narrate the state changes of the tasks `which` selects; a string it returns is added to the line. */
  narrateTasks(which: (task: Task) => boolean | string): void;
}

export async function buildWorld(sim: Sim, timeline: Timeline): Promise<World> {
  const drain = installDrainWorld(sim);
  const sns = installSns(sim);
  const eventBridge = installEventBridge(sim);
  const ssm = installSsm(sim);
  // DynamoDB behind the dispatcher: its calls are on the timeline and under --faults.
  installDynamoProxy(sim);
  await createTable(sim.dynamo.endpoint, tableName);

  sim.ecs.addCluster(CLUSTER);
  drain.autoscaling.addGroup(ASG);
  for (const hook of resourcesOfType('AWS::AutoScaling::LifecycleHook')) {
    const p = hook.Properties;
    drain.autoscaling.putLifecycleHook(p.AutoScalingGroupName, {
      name: p.LifecycleHookName,
      heartbeatTimeoutSeconds: p.HeartbeatTimeout,
      defaultResult: p.DefaultResult,
      transition: p.LifecycleTransition,
    });
  }
  for (const document of resourcesOfType('AWS::SSM::Document')) {
    const { Name, Content } = document.Properties;
    ssm.addDocument(Name, Content.parameters, { stepName: Content.mainSteps[0].name });
  }
  for (const id of INSTANCES) {
    sim.ecs.addContainerInstance(CLUSTER, { ec2InstanceId: id });
    ssm.registerInstance(id);
  }

  const alertTopic = sns.createTopic(demoConfig.alerts.topicArn!.split(':').pop()!);
  const inbox: PublishedMessage[] = [];
  sns.subscribe(alertTopic, (event) => {
    const m = event.Records[0]!.Sns;
    const received = sns.messages(alertTopic).find((p) => p.messageId === m.MessageId);
    if (received) inbox.push(received);
    timeline.world(
      'sns',
      `ops inbox: "${m.Subject}"`,
      String(m.Message)
        .split('\n')
        .map((l) => (l ? `│ ${l}` : '│')),
    );
  });

  // Run Command's status events, once each (event faults may deliver them twice).
  const seenSsm = new Set<string>();
  sim.bus.subscribe(
    'demo-narrator-ssm',
    (e) => e.source === 'aws.ssm',
    (event) => {
      if (seenSsm.has(event.id)) return;
      seenSsm.add(event.id);
      const d = event.detail;
      timeline.world('ssm', `command ${String(d['command-id']).slice(0, 8)}… on ${d['instance-id']}: ${d.status}`);
    },
  );

  const taskName = (ref: string | Task): string => {
    const task = typeof ref === 'string' ? sim.ecs.task(ref) : ref;
    if (!task) return `task/${String(ref).split('/').pop()!.slice(0, 4)}`;
    return `${task.group.replace(/^(service|family):/, '')}/${task.id.slice(0, 4)}`;
  };
  const instanceOf = (ref: string): string => sim.ecs.containerInstance(ref)?.ec2InstanceId ?? ref;

  const narrated: Array<(task: Task) => boolean | string> = [];
  const lastStatus = new Map<string, string>();
  sim.ecs.taskListeners.push((task) => {
    if (lastStatus.get(task.id) === task.lastStatus) return;
    lastStatus.set(task.id, task.lastStatus);
    const picked = narrated.map((which) => which(task)).find((v) => v !== false);
    if (picked === undefined) return;
    const where = task.containerInstanceArn ? ` on ${instanceOf(task.containerInstanceArn)}` : '';
    const why =
      task.lastStatus === 'STOPPED' && task.stoppedReason
        ? ` (${task.stoppedReason.length > 70 ? `${task.stoppedReason.slice(0, 67)}...` : task.stoppedReason})`
        : '';
    timeline.world('ecs', `${taskName(task)}${where}: ${task.lastStatus}${why}${typeof picked === 'string' ? ` ${picked}` : ''}`);
  });

  return {
    sim,
    timeline,
    drain,
    sns,
    eventBridge,
    ssm,
    alertTopic,
    inbox,
    taskName,
    instanceOf,
    narrateTasks: (which) => void narrated.push(which),
  };
}
