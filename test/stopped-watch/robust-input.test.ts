import { describe, expect, it } from 'vitest';
import { classifyEvent } from '../../functions/stopped-watch/classify.ts';

// Relays and hand-written rules sometimes stringify numbers or send a field of
// the wrong type. One malformed field must never demote an explicit reason
// carried elsewhere in the event; it only decides when nothing else names a cause.

function stopped(detail: Record<string, unknown>) {
  return { 'detail-type': 'ECS Task State Change', source: 'aws.ecs', detail: { lastStatus: 'STOPPED', ...detail } };
}

describe('numeric fields sent as strings', () => {
  it('an explicit OutOfMemoryError reason stays oom when exitCode is the string "137"', () => {
    const c = classifyEvent(
      stopped({
        stoppedReason: 'Essential container in task exited',
        stopCode: 'EssentialContainerExited',
        containers: [{ name: 'app', exitCode: '137', reason: 'OutOfMemoryError: Container killed due to memory usage' }],
      }),
    );
    expect(c).toMatchObject({ category: 'oom', severity: 'high', container: 'app' });
  });

  it('a string exit code is read as a number for the essential-exit hint', () => {
    const c = classifyEvent(
      stopped({
        stoppedReason: 'Essential container in task exited',
        stopCode: 'EssentialContainerExited',
        containers: [{ name: 'app', exitCode: '137', essential: 'true' }],
      }),
    );
    expect(c).toMatchObject({ category: 'essential-exit', container: 'app' });
    expect(c!.hint).toMatch(/SIGKILL \(exit 137\)/);
  });
});

describe('one malformed field never demotes an explicit reason', () => {
  it('a numeric stoppedReason next to a container OOM reason', () => {
    const c = classifyEvent(stopped({ stoppedReason: 42, containers: [{ name: 'app', reason: 'OutOfMemoryError: Container killed due to memory usage' }] }));
    expect(c).toMatchObject({ category: 'oom' });
  });

  it('a malformed sidecar next to an explicit pull failure', () => {
    const c = classifyEvent(
      stopped({
        stoppedReason: 'CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref x: not found',
        containers: [{ name: 7 }, { name: 'app', exitCode: { bad: true } }],
      }),
    );
    expect(c).toMatchObject({ category: 'image-pull-not-found' });
  });

  it('an explicit stop code survives a malformed containers field', () => {
    expect(classifyEvent(stopped({ stopCode: 'SpotInterruption', containers: 'oops' }))).toMatchObject({ category: 'spot' });
  });

  it('a malformed field with nothing explicit beside it is reported as malformed', () => {
    const c = classifyEvent(stopped({ stoppedReason: 'Essential container in task exited', containers: [{ name: 'app', exitCode: 'abc' }] }));
    expect(c).toMatchObject({ category: 'unknown' });
    expect(c!.reason).toMatch(/^malformed ECS Task State Change: detail\.containers\[0\]\.exitCode is not a number/);
  });
});
