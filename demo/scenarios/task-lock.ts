/**
 * task-lock: a nightly job whose schedule fires three times runs once; a
 * 15-minute job whose runs take 20 minutes never overlaps itself.
 */
import type { Context } from 'aws-lambda';
import { parseConfig } from '../../functions/shared/config.ts';
import { taskStoppedPattern } from '../../functions/task-lock/events.ts';
import { createTable, type Sim } from '../../sim/index.ts';
import type { Timeline } from '../timeline.ts';

type Handler = (event: unknown, context: Context) => Promise<any>;

export const config = parseConfig({
  clusters: [{ name: 'demo' }],
  jobs: [
    { name: 'nightly-report', cluster: 'demo', taskDefinition: 'nightly-report', launchType: 'EC2', schedule: { expression: 'cron(0 2 * * ? *)', timezone: 'Europe/Paris' }, maxRunSeconds: 3600 },
    { name: 'sync-inventory', cluster: 'demo', taskDefinition: 'sync-inventory', launchType: 'EC2', schedule: { expression: 'rate(15 minutes)' }, maxRunSeconds: 3600 },
  ],
});
const scheduleNames = { 'nightly-report': 'ecs-caretaker-demo-nightly-report', 'sync-inventory': 'ecs-caretaker-demo-sync-inventory' };

export interface ScenarioResult {
  summary: Array<[string, string]>;
}

export async function taskLockScenario(sim: Sim, timeline: Timeline, loadHandler: (env: Record<string, string>) => Promise<Handler>, context: () => Context): Promise<ScenarioResult> {
  sim.ecs.addCluster('demo');
  sim.ecs.addContainerInstance('demo', { ec2InstanceId: 'i-0demo00000000001' });
  sim.ecs.addContainerInstance('demo', { ec2InstanceId: 'i-0demo00000000002' });
  sim.ecs.defineTaskDefinition('nightly-report', { runSeconds: 25 * 60 });
  sim.ecs.defineTaskDefinition('sync-inventory', { runSeconds: 20 * 60 });
  await createTable(sim.dynamo.endpoint, 'ecs-caretaker-demo-state');
  const handler = await loadHandler({
    TABLE_NAME: 'ecs-caretaker-demo-state',
    POWERTOOLS_SERVICE_NAME: 'taskLock',
    TASK_LOCK_CONFIG: JSON.stringify({ jobs: config.jobs, scheduleNames, lockRetentionHours: 168 }),
  });
  const invoke = (event: unknown) => handler(event, context());
  const shortArn = (arn: string) => `task/${arn.split('/').pop()!.slice(0, 8)}…`;
  const describe = (r: any) =>
    r.outcome === 'started' ? `started ${shortArn(r.taskArn)}` : r.outcome === 'skipped' ? `skipped: previous run ${shortArn(r.runningTaskArn)} still running` : `duplicate delivery, nothing started (lock is ${r.state})`;

  sim.bus.subscribePattern('task-lock', taskStoppedPattern, async (event) => {
    const result = await invoke(event);
    timeline.log('task-lock', `STOPPED event of ${shortArn(event.detail.taskArn)}: ${result.released ? `slot of ${result.job} released` : 'nothing to release'}`);
    return result;
  });
  const schedulerInput = (job: string, scheduledTime: string, attempt: number) => ({
    job,
    scheduledTime,
    scheduleArn: `arn:aws:scheduler:${sim.region}:${sim.account}:schedule/default/${scheduleNames[job as keyof typeof scheduleNames]}`,
    executionId: `exec-${Math.random().toString(16).slice(2, 10)}`,
    attemptNumber: String(attempt),
  });

  timeline.heading('Scenario task-lock — the Scheduler delivers the 02:00 Paris (01:00 UTC) occurrence of nightly-report three times (times below are UTC)');
  const occurrence = sim.clock.date().toISOString();
  const [a, b] = await Promise.all([invoke(schedulerInput('nightly-report', occurrence, 1)), invoke(schedulerInput('nightly-report', occurrence, 1))]);
  timeline.log('task-lock', `nightly-report ${occurrence.slice(11, 16)} delivery 1: ${describe(a)}`);
  timeline.log('task-lock', `nightly-report ${occurrence.slice(11, 16)} delivery 2 (concurrent): ${describe(b)}`);
  await sim.clock.advance(5 * 60_000);
  const c = await invoke(schedulerInput('nightly-report', occurrence, 2));
  timeline.log('task-lock', `nightly-report ${occurrence.slice(11, 16)} delivery 3 (5 min late): ${describe(c)}`);

  timeline.heading('Scenario task-lock — sync-inventory every 15 min, each run takes 20 min (overlap: skip)');
  let started = 0;
  let skipped = 0;
  for (let i = 0; i < 5; i++) {
    const at = sim.clock.date().toISOString();
    const r = await invoke(schedulerInput('sync-inventory', at, 1));
    if (r.outcome === 'started') started++;
    if (r.outcome === 'skipped') skipped++;
    timeline.log('task-lock', `sync-inventory ${at.slice(11, 16)}: ${describe(r)}`);
    await sim.clock.advance(15 * 60_000);
    await sim.bus.drain();
  }

  const nightlyTasks = sim.ecs.tasks({ family: 'nightly-report' }).length;
  const overlaps = countOverlaps(sim.ecs.tasks({ family: 'sync-inventory' }));
  return {
    summary: [
      ['nightly-report: deliveries of one occurrence', '3'],
      ['nightly-report: tasks started', String(nightlyTasks)],
      ['sync-inventory: occurrences', '5'],
      ['sync-inventory: started / skipped', `${started} / ${skipped}`],
      ['sync-inventory: overlapping runs', String(overlaps)],
    ],
  };
}

/** Pairs of runs whose lifetimes intersect. */
function countOverlaps(tasks: Array<{ createdAt?: number; stoppedAt?: number }>): number {
  let overlaps = 0;
  const spans = tasks.map((t) => [t.createdAt ?? 0, t.stoppedAt ?? Number.POSITIVE_INFINITY] as const);
  for (let i = 0; i < spans.length; i++) for (let j = i + 1; j < spans.length; j++) if (spans[i]![0] < spans[j]![1] && spans[j]![0] < spans[i]![1]) overlaps++;
  return overlaps;
}
