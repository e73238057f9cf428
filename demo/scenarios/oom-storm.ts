/**
 * oom-storm: the checkout service is killed for memory 100 times in five
 * minutes, its scheduler replacing each task. The on-call gets one alert at
 * the first kill, and one summary once the alert window has ended, not 100
 * pages.
 */
import type { Describer } from '../lambda.ts';
import { describeStoppedRecord } from '../describe.ts';
import type { Scenario } from '../runner.ts';
import { INSTANCES } from '../world.ts';

const KILLS = 100;
const EVERY_MS = 3_000;
const OOM_REASON = 'OutOfMemoryError: Container killed due to memory usage';
const PROGRESS_EVERY = 25;

export const oomStormScenario: Scenario = {
  name: 'oom-storm',
  title: '100 OOM kills of one service in 5 minutes: one alert, then one summary after the window',
  start: '2026-11-24T18:00:00Z',
  async run({ world, sim, timeline, fn, check }) {
    const service = world.drain.services.addService('demo', {
      name: 'checkout',
      taskDefinition: 'checkout',
      on: INSTANCES.map((instance) => ({ instance, count: 1 })).concat([{ instance: INSTANCES[0], count: 1 }]),
    });
    await sim.clock.advance(10_000);
    const watch = await fn('stopped-watch');
    const windowMinutes = 10;

    // One line for the first alert, then progress every 25 stops: 100 identical lines would hide the point.
    let stops = 0;
    const counts = { alerted: 0, counted: 0, duplicate: 0, other: 0 };
    const usual = watch.describe;
    const storm: Describer = (event, outcome, invocation) => {
      if (!outcome.result?.records) return usual(event, outcome, invocation);
      const records = outcome.result.records as Array<{ outcome: string; alert?: string }>;
      for (const r of records) {
        const key = r.alert === 'alerted' || r.alert === 'counted' || r.alert === 'duplicate' ? r.alert : 'other';
        counts[key]++;
        if (r.alert !== 'duplicate') stops++;
      }
      if (records.some((r) => r.alert === 'alerted') || records.some((r) => r.alert === 'alert-failed')) {
        return { text: records.map((r) => describeStoppedRecord(world, event, r as any)).join('; ') };
      }
      if (stops % PROGRESS_EVERY === 0 && records.some((r) => r.alert === 'counted')) {
        const dup = counts.duplicate ? `, ${counts.duplicate} duplicate deliveries recognised` : '';
        return { text: `${stops} OOM stops of checkout so far: ${counts.alerted} alert sent, ${counts.counted} counted in the window${dup}` };
      }
      return undefined;
    };
    watch.describe = storm;

    timeline.heading(`Scenario oom-storm — checkout runs out of memory every ${EVERY_MS / 1000} s, ${KILLS} times; alerts.windowMinutes is ${windowMinutes}`);
    const start = sim.clock.now();
    let kills = 0;
    for (; kills < KILLS; kills++) {
      const victim = sim.ecs.tasks((t) => t.group === 'service:checkout' && t.lastStatus === 'RUNNING' && t.desiredStatus === 'RUNNING')[0];
      if (victim) {
        // The agent reports the kernel's OOM kill on the container, the task only says that an essential container exited.
        victim.containers[0]!.reason = OOM_REASON;
        sim.ecs.exitTask(victim.arn, { exitCode: 137, stopCode: 'EssentialContainerExited', reason: 'Essential container in task exited' });
        if (kills < 2)
          timeline.world(
            'ecs',
            `${world.taskName(victim)} on ${world.instanceOf(victim.containerInstanceArn!)}: OOM-killed (exit 137); the service starts a replacement`,
          );
        world.drain.services.runStandalone(victim.containerInstanceArn!, 'checkout', { group: 'service:checkout', startedBy: service.startedBy });
      } else {
        kills--;
      }
      await sim.clock.advance(EVERY_MS);
    }
    timeline.note(`${kills} OOM kills in ${((sim.clock.now() - start) / 60_000).toFixed(1)} min; the flush runs every minute`);

    const summaries = () => world.sns.messages(world.alertTopic).filter((m) => / more /.test(m.subject ?? ''));
    for (let t = 0; t < 15 * 60_000 && summaries().length === 0; t += 60_000) await sim.clock.advance(60_000);
    // A few more flushes: nothing else may go out.
    await sim.clock.advance(3 * 60_000);

    const messages = world.sns.messages(world.alertTopic);
    const firsts = messages.filter((m) => !/ more /.test(m.subject ?? ''));
    const summary = summaries()[0];
    const oomEvents = new Set(
      watch.invocations.flatMap(({ outcome }) => (outcome.result?.records ?? []).filter((r: any) => r.category === 'oom').map((r: any) => r.eventId)),
    );
    check('every OOM stop was classified oom', oomEvents.size === KILLS, `${oomEvents.size} of ${KILLS}`);
    check('exactly one alert during the storm', firsts.length === 1, firsts.map((m) => `"${m.subject}"`).join(', ') || 'none');
    const windowEnd = firsts[0] ? firsts[0].at + windowMinutes * 60_000 : Number.NaN;
    check(
      'exactly one summary, after the window, counting the other 99',
      summaries().length === 1 && summary!.at >= windowEnd && /^99 more /.test(summary!.message),
      summary ? `"${summary.message.split('\n')[0]}" at ${new Date(summary.at).toISOString().slice(11, 19)}` : 'none',
    );
    check('nothing else sent to the topic', messages.length === 2, `${messages.length} messages`);
  },
};
