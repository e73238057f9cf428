import { describe, expect, it } from 'vitest';
import {
  doneTest,
  heartbeatDue,
  knownDaemons,
  learn,
  mayBeDone,
  serviceOf,
  taskIdOf,
  tasksToDescribe,
  timedOut,
  unclassifiedServices,
  unlistedCount,
  viewsOf,
  type DoneInput,
  type KnownTasks,
  type TaskView,
} from '../../functions/drain/done.ts';

const T0 = Date.parse('2026-06-01T09:00:00Z');
let n = 0;
const task = (lastStatus: string, group = 'service:web', desiredStatus = lastStatus === 'RUNNING' ? 'RUNNING' : 'STOPPED'): TaskView => ({
  taskArn: `arn:aws:ecs:eu-west-1:123456789012:task/prod/${String(++n).padStart(32, '0')}`,
  lastStatus,
  desiredStatus,
  group,
});
const input = (tasks: TaskView[], extra: Partial<DoneInput> = {}): DoneInput => ({
  tasks,
  daemonServices: new Set(['agent']),
  standalone: { policy: 'wait', stopAfterSeconds: 600 },
  drainStartedAt: T0,
  now: T0 + 60_000,
  ...extra,
});

describe('doneTest', () => {
  it('is done only when every counted task is STOPPED', () => {
    expect(doneTest(input([task('STOPPED'), task('STOPPED', 'service:api')])).done).toBe(true);
    expect(doneTest(input([])).done).toBe(true);
    for (const status of ['DEACTIVATING', 'STOPPING', 'DEPROVISIONING', 'RUNNING', 'PENDING', 'PROVISIONING', 'ACTIVATING']) {
      const verdict = doneTest(input([task('STOPPED'), task(status)]));
      expect(verdict.done, status).toBe(false);
      expect(verdict.blocking.map((t) => t.lastStatus)).toEqual([status]);
    }
  });

  it('does not take a task without a status for a stopped one', () => {
    expect(doneTest(input([{ taskArn: 'arn:aws:ecs:eu-west-1:1:task/prod/x', group: 'service:web' }])).done).toBe(false);
  });

  it('leaves daemon-service tasks out, whatever their status', () => {
    const verdict = doneTest(input([task('RUNNING', 'service:agent'), task('STOPPED')]));
    expect(verdict).toMatchObject({ done: true, stopped: 1 });
    expect(verdict.excluded).toHaveLength(1);
  });

  it('counts a task listed twice (desired RUNNING, then STOPPED) once', () => {
    const t = task('STOPPING');
    expect(doneTest(input([t, { ...t }])).blocking).toHaveLength(1);
  });

  it('names the services still on the instance, sorted, daemons excluded', () => {
    expect(
      doneTest(input([task('RUNNING', 'service:web'), task('DEACTIVATING', 'service:api'), task('RUNNING', 'service:agent'), task('STOPPED', 'service:old')]))
        .services,
    ).toEqual(['api', 'web']);
  });

  describe('standalone tasks', () => {
    const standalone = () => [task('RUNNING', 'family:batch'), task('STOPPED')];

    it('wait: block until they stop', () => {
      expect(doneTest(input(standalone())).done).toBe(false);
      expect(doneTest(input(standalone())).toStop).toEqual([]);
    });

    it('wait: never ask to stop them, however long the drain lasts', () => {
      // stopAfterSeconds belongs to stop-after; under wait it must not stop anything.
      const late = doneTest(input(standalone(), { standalone: { policy: 'wait', stopAfterSeconds: 120 }, now: T0 + 6 * 3600_000 }));
      expect(late.done).toBe(false);
      expect(late.toStop).toEqual([]);
    });

    it('ignore: never block', () => {
      const verdict = doneTest(input(standalone(), { standalone: { policy: 'ignore', stopAfterSeconds: 600 } }));
      expect(verdict.done).toBe(true);
      expect(verdict.excluded.map((t) => t.group)).toEqual(['family:batch']);
    });

    it('stop-after: block, and ask to stop them once the time is up and not before', () => {
      const policy = { policy: 'stop-after' as const, stopAfterSeconds: 120 };
      expect(doneTest(input(standalone(), { standalone: policy, now: T0 + 119_999 })).toStop).toEqual([]);
      const due = doneTest(input(standalone(), { standalone: policy, now: T0 + 120_000 }));
      expect(due.done).toBe(false);
      expect(due.toStop.map((t) => t.group)).toEqual(['family:batch']);
      // Already asked to stop: wait for it, do not ask again.
      const stopping = [task('STOPPING', 'family:batch', 'STOPPED')];
      expect(doneTest(input(stopping, { standalone: policy, now: T0 + 300_000 })).toStop).toEqual([]);
      // Service tasks are the service scheduler's, never ours to stop.
      expect(doneTest(input([task('RUNNING', 'service:web')], { standalone: policy, now: T0 + 300_000 })).toStop).toEqual([]);
    });
  });
});

describe('helpers', () => {
  it('serviceOf reads the service from the group', () => {
    expect(serviceOf(task('RUNNING', 'service:web'))).toBe('web');
    expect(serviceOf(task('RUNNING', 'family:web'))).toBeUndefined();
    expect(serviceOf({ taskArn: 'x' })).toBeUndefined();
  });

  it('taskIdOf works for both task ARN formats', () => {
    expect(taskIdOf('arn:aws:ecs:eu-west-1:1:task/prod/abc123')).toBe('abc123');
    expect(taskIdOf('arn:aws:ecs:eu-west-1:1:task/abc123')).toBe('abc123');
  });

  it('mayBeDone only when every outstanding task was seen STOPPED', () => {
    expect(mayBeDone(new Set(['a', 'b']), new Set(['a', 'b', 'c']))).toBe(true);
    expect(mayBeDone(new Set(['a', 'b']), new Set(['a']))).toBe(false);
    expect(mayBeDone(undefined, new Set(['a']))).toBe(false);
    expect(mayBeDone(new Set(), new Set(['a']))).toBe(false);
    expect(mayBeDone(new Set(['a']), undefined)).toBe(false);
  });

  it('timedOut and heartbeatDue at their exact boundaries', () => {
    expect(timedOut(T0, 600, T0 + 599_999)).toBe(false);
    expect(timedOut(T0, 600, T0 + 600_000)).toBe(true);
    expect(heartbeatDue(T0, 300, T0 + 99_999)).toBe(false);
    expect(heartbeatDue(T0, 300, T0 + 100_000)).toBe(true);
  });
});

describe('what a check describes, and what it remembers', () => {
  const arn = (id: string) => `arn:aws:ecs:eu-west-1:123456789012:task/prod/${id}`;
  const known: KnownTasks = {
    gone1: { group: 'service:web', stopped: true, daemon: false },
    up1: { group: 'service:web', daemon: false },
    agent1: { group: 'service:agent', daemon: true },
    moving1: { group: 'service:api', daemon: false },
  };

  it('describes what may have changed: new tasks, desired STOPPED ones not known STOPPED, and blockers no longer listed', () => {
    const listing = { running: [arn('up1'), arn('agent1'), arn('new1')], stopped: [arn('gone1'), arn('moving1'), arn('new2'), arn('new1')] };
    expect(tasksToDescribe(listing, known, ['up1', 'moving1', 'vanished1'])).toEqual([arn('moving1'), arn('new2'), arn('new1'), 'vanished1']);
    // Known STOPPED is never asked again, even when it blocked once.
    expect(tasksToDescribe({ running: [], stopped: [] }, known, ['gone1'])).toEqual([]);
  });

  it('lets a known task desired RUNNING block without a call, and a known STOPPED one count as stopped', () => {
    const { views } = viewsOf({ running: [arn('up1')], stopped: [arn('gone1')] }, known, { tasks: [], missing: [] });
    const verdict = doneTest(input(views));
    expect(verdict).toMatchObject({ done: false, stopped: 1 });
    expect(verdict.blocking.map((t) => t.taskArn)).toEqual([arn('up1')]);
  });

  it('keeps the later answer for a task listed under both desired statuses', () => {
    const stopping = { taskArn: arn('new1'), lastStatus: 'STOPPING', desiredStatus: 'STOPPED', group: 'service:web' };
    const { views } = viewsOf({ running: [arn('new1')], stopped: [arn('new1')] }, {}, { tasks: [stopping], missing: [] });
    expect(views).toEqual([stopping]);
  });

  it('blocks on a listed task that DescribeTasks calls MISSING, whatever the standalone policy, and never stops it', () => {
    const { views, gone } = viewsOf({ running: [arn('fresh1')], stopped: [] }, {}, { tasks: [], missing: [arn('fresh1')] });
    expect(gone).toEqual([]);
    expect(views).toEqual([{ taskArn: arn('fresh1'), missing: true }]);
    for (const policy of ['wait', 'ignore', 'stop-after'] as const) {
      const verdict = doneTest(input(views, { standalone: { policy, stopAfterSeconds: 0 }, now: T0 + 3600_000 }));
      expect(verdict.done, policy).toBe(false);
      expect(verdict.toStop, policy).toEqual([]);
      expect(verdict.excluded, policy).toEqual([]);
    }
  });

  it('takes a blocker that is neither listed nor described (MISSING) for gone from ECS', () => {
    const { views, gone } = viewsOf({ running: [], stopped: [] }, known, { tasks: [], missing: ['moving1'] }, ['moving1']);
    expect(views).toEqual([]);
    expect(gone).toEqual(['moving1']);
  });

  it('remembers groups and STOPPED, and DAEMON or not only for the services it asked about', () => {
    const views: TaskView[] = [
      { taskArn: arn('a'), lastStatus: 'RUNNING', desiredStatus: 'RUNNING', group: 'service:web' },
      { taskArn: arn('b'), lastStatus: 'STOPPED', desiredStatus: 'STOPPED', group: 'family:batch' },
      { taskArn: arn('c'), missing: true },
    ];
    expect(learn({}, views)).toEqual({ a: { group: 'service:web' }, b: { group: 'family:batch', stopped: true } });
    const asked = learn({}, views, new Set(['agent']));
    expect(asked.a).toEqual({ group: 'service:web', daemon: false });
    expect(unclassifiedServices(views, {})).toEqual(['web']);
    expect(unclassifiedServices(views, asked)).toEqual([]);
    expect(knownDaemons(known)).toEqual(new Set(['agent']));
    // STOPPED is final: a stale view cannot undo it.
    expect(learn(known, [{ taskArn: arn('gone1'), desiredStatus: 'RUNNING', group: 'service:web' }]).gone1?.stopped).toBe(true);
  });

  it('describes a new task listed only as desired RUNNING, but not a known one there, and nothing more without blockers', () => {
    // No `outstanding`: a first check has no blockers from a last one, so only the listing decides.
    expect(tasksToDescribe({ running: [arn('up1'), arn('new3')], stopped: [] }, known)).toEqual([arn('new3')]);
  });

  it('takes a task listed under both desired statuses by its STOPPED listing, even when DescribeTasks did not answer for it', () => {
    // moving1 blocked as desired RUNNING; it is now desired STOPPED too (the later ListTasks). With no description the
    // view must not fall back to the earlier desired RUNNING: nothing is known of its state, so it blocks as unknown.
    const { views } = viewsOf({ running: [arn('moving1')], stopped: [arn('moving1')] }, known, { tasks: [], missing: [] });
    expect(views).toHaveLength(1);
    expect(views[0]?.desiredStatus).not.toBe('RUNNING');
    expect(doneTest(input(views)).blocking.map((t) => t.taskArn)).toEqual([arn('moving1')]);
  });

  it('keeps what is known of a STOPPED task it did not describe again: its group still decides whether it counts', () => {
    const daemonStopped: KnownTasks = { agent2: { group: 'service:agent', stopped: true, daemon: true } };
    const { views } = viewsOf({ running: [], stopped: [arn('agent2')] }, daemonStopped, { tasks: [], missing: [] });
    expect(views).toEqual([{ taskArn: arn('agent2'), lastStatus: 'STOPPED', desiredStatus: 'STOPPED', group: 'service:agent' }]);
    // A daemon task is left out, not counted as a stopped service task.
    expect(doneTest(input(views))).toMatchObject({ done: true, stopped: 0, excluded: [views[0]] });
  });

  it('lets a known daemon task desired RUNNING stay out of the test without a call', () => {
    const { views } = viewsOf({ running: [arn('agent1')], stopped: [] }, known, { tasks: [], missing: [] });
    expect(views).toEqual([{ taskArn: arn('agent1'), desiredStatus: 'RUNNING', group: 'service:agent' }]);
    expect(doneTest(input(views))).toMatchObject({ done: true, excluded: views });
  });

  it('blocks on a known task that DescribeTasks now calls MISSING, even a daemon one: its listing is all there is', () => {
    const { views } = viewsOf({ running: [arn('agent1')], stopped: [] }, known, { tasks: [], missing: [arn('agent1')] });
    expect(views).toEqual([{ taskArn: arn('agent1'), missing: true }]);
    expect(doneTest(input(views)).done).toBe(false);
  });

  it('blocks on a listed task nobody described, known or not, rather than guessing its state', () => {
    // moving1 was desired RUNNING; desired STOPPED now, it may be STOPPING or STOPPED: only a description tells.
    const { views } = viewsOf({ running: [arn('new4')], stopped: [arn('moving1')] }, known, { tasks: [], missing: [] });
    expect(views).toEqual([
      { taskArn: arn('moving1'), missing: true },
      { taskArn: arn('new4'), missing: true },
    ]);
  });

  it('does not take a blocker that is still listed, or a known STOPPED one no longer listed, for gone', () => {
    const { views, gone } = viewsOf({ running: [arn('up1')], stopped: [] }, known, { tasks: [], missing: [] }, ['up1', 'gone1']);
    expect(gone).toEqual([]);
    expect(views.map((v) => v.taskArn)).toEqual([arn('up1')]);
  });

  it('takes the description of a blocker no longer listed, even one never learnt (it was MISSING last time)', () => {
    // A MISSING task blocks without being learnt, so `known` has no entry for it.
    const stopped = { taskArn: arn('late1'), lastStatus: 'STOPPED', desiredStatus: 'STOPPED', group: 'service:web' };
    const { views, gone } = viewsOf({ running: [], stopped: [] }, known, { tasks: [stopped], missing: [] }, ['late1']);
    expect(gone).toEqual([]);
    expect(views).toEqual([stopped]);
  });

  it('asks which services are DAEMON only for service tasks still on the instance and never classified', () => {
    const views: TaskView[] = [
      { taskArn: arn('s1'), lastStatus: 'RUNNING', desiredStatus: 'RUNNING', group: 'family:batch' },
      { taskArn: arn('s2'), lastStatus: 'STOPPED', desiredStatus: 'STOPPED', group: 'service:old' },
      { taskArn: arn('s3'), lastStatus: 'RUNNING', desiredStatus: 'RUNNING', group: 'service:api' },
    ];
    // A standalone task has no service to ask about, a STOPPED one counts whatever its service.
    expect(unclassifiedServices(views, {})).toEqual(['api']);
    // A task learnt only once STOPPED (daemon absent) does not classify its service: api is still unknown.
    expect(unclassifiedServices(views, { old1: { group: 'service:api', stopped: true } })).toEqual(['api']);
    // Learnt once with the answer, the classification is reused by the next check without asking again.
    const learnt = learn({}, views, new Set(['agent']));
    expect(unclassifiedServices([{ ...views[2]!, taskArn: arn('s4') }], learnt)).toEqual([]);
    expect(knownDaemons(learn({}, [{ taskArn: arn('d1'), lastStatus: 'RUNNING', group: 'service:agent' }], new Set(['agent'])))).toEqual(new Set(['agent']));
  });

  it('learns a task without a group as having none, and no DAEMON answer for a standalone task', () => {
    const views: TaskView[] = [
      { taskArn: arn('bare1'), lastStatus: 'RUNNING', desiredStatus: 'RUNNING' },
      { taskArn: arn('s1'), lastStatus: 'RUNNING', desiredStatus: 'RUNNING', group: 'family:batch' },
    ];
    const next = learn({}, views, new Set(['agent']));
    expect(next).toEqual({ bare1: { group: '' }, s1: { group: 'family:batch' } });
    // daemon is for services only: a standalone task carries no answer either way.
    expect(next.s1?.daemon).toBeUndefined();
  });
});

describe('unlistedCount', () => {
  const view = (id: string, lastStatus: string): TaskView => ({
    taskArn: `arn:aws:ecs:eu-west-1:123456789012:task/prod/${id}`,
    lastStatus,
    group: 'service:web',
  });

  it('counts running plus pending tasks beyond the listed ones not STOPPED', () => {
    // 3 running + 2 pending counted; 2 listed not STOPPED (the STOPPED one is not in the counts): 3 unlisted.
    expect(unlistedCount({ runningTasksCount: 3, pendingTasksCount: 2 }, [view('a', 'RUNNING'), view('b', 'PENDING'), view('c', 'STOPPED')])).toBe(3);
    expect(unlistedCount({ runningTasksCount: 1, pendingTasksCount: 0 }, [view('a', 'RUNNING')])).toBe(0);
  });

  it('reads absent counts as 0 and never goes below 0', () => {
    expect(unlistedCount({}, [])).toBe(0);
    expect(unlistedCount({ pendingTasksCount: 2 }, [])).toBe(2);
    expect(unlistedCount({ runningTasksCount: 2 }, [])).toBe(2);
    // Counts lag the listing too: more listed than counted is not a negative number of unlisted tasks.
    expect(unlistedCount({}, [view('a', 'RUNNING'), view('b', 'STOPPING')])).toBe(0);
  });
});
