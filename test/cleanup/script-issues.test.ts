/**
 * docker-cleanup.sh against the cases of the "cleanup script breaks" issue,
 * one block per numbered case, with the project's fakes. Each test fails on
 * the script before the fix: run them against any version with
 * `CC_SCRIPT_UNDER_TEST=<file> npx vitest run test/cleanup/script-issues.test.ts`.
 * No test measures wall time: deadlines are proven by what was called, by the
 * report and by the processes being gone.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLEANUP_EXIT_CODES as EXIT } from '../../functions/cleanup/document-contract.ts';
import {
  TASK_ARN_LABEL,
  ecsLabels,
  old,
  dockerCalls,
  hexId,
  removedContainerIds,
  runCleanupScript,
  secondsAgo,
  startCleanupScript,
  type CleanupRun,
  type FakeContainer,
} from './harness.ts';

const DAY = 86_400;
const TASK_A = 'arn:aws:ecs:eu-west-1:123456789012:task/demo/0a1b2c3d4e5f46a7b8c9d0e1f2a3b4c5';
const TASK_GONE = 'arn:aws:ecs:eu-west-1:123456789012:task/demo/2c3d4e5f6a7b48c9d0e1f2a3b4c5d6e7';

function oneLine(run: CleanupRun) {
  const lines = run.stdout.split('\n');
  expect(lines.length, `stdout: ${run.stdout}\nstderr: ${run.stderr}`).toBe(2);
  expect(lines[0]!.length).toBeLessThanOrEqual(2000);
  expect(run.report, `stdout: ${run.stdout}`).toBeDefined();
  expect(run.report!.exitCode).toBe(run.code);
  return run.report!;
}

/** Alive and not a zombie (a zombie holds no resources and does no work). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function waitFor(predicate: () => boolean, timeoutMs = 30_000) {
  const until = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > until) throw new Error('waitFor: timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Run directories kept for inspection; removed after each test. */
const kept: string[] = [];
afterEach(() => {
  for (const dir of kept.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const keep = (run: CleanupRun) => {
  kept.push(run.dir);
  return run;
};
const tempLeftovers = (run: CleanupRun) => readdirSync(run.dir).filter((f) => f.startsWith('ecs-caretaker-cleanup.'));
const removedByFake = (run: CleanupRun) =>
  existsSync(join(run.dir, 'removed-containers')) ? readFileSync(join(run.dir, 'removed-containers'), 'utf8').split('\n').filter(Boolean) : [];

describe('issue 1: one deadline for the whole run', () => {
  // The per-call cap (600 s) is far beyond the test's timeout: only the run's own deadline can end it.
  it('at DeadlineSeconds, kills the docker rm in flight, reports status deadline and leaves no temporary files', async () => {
    const run = keep(
      await runCleanupScript(
        { containers: [old(1), old(2)], volumes: [{ name: hexId(1, 0xa) }], docker: { hang: ['rm'] } },
        { CC_DOCKER_TIMEOUT: '600', CC_DEADLINE_SECONDS: '30' },
        { keepDir: true },
      ),
    );
    const report = oneLine(run);
    expect(run.code).toBe(EXIT.deadline);
    expect(report.status).toBe('deadline');
    expect(report.errors.join(' ')).toMatch(/deadline of 30s reached at docker rm/);
    // Nothing was started after the deadline: the hung rm was the last call.
    const docker = run.calls.filter((c) => c.cmd === 'docker');
    expect(docker.at(-1)!.args[0]).toBe('rm');
    expect(dockerCalls(run, 'volume', 'ls')).toEqual([]);
    expect(alive(docker.at(-1)!.pid!)).toBe(false);
    expect(removedByFake(run)).toEqual([]);
    expect(tempLeftovers(run)).toEqual([]);
  }, 120_000);

  it('handles SIGTERM while a docker call hangs: report, no survivor, no temporary files', async () => {
    const started = startCleanupScript({ containers: [old(1)], docker: { hang: ['rm'] } }, { CC_DOCKER_TIMEOUT: '600' }, { keepDir: true });
    await waitFor(() => started.calls().some((c) => c.cmd === 'docker' && c.args[0] === 'rm'));
    process.kill(started.pid!, 'SIGTERM');
    const run = keep(await started.result);
    const report = oneLine(run);
    expect(run.code).toBe(143);
    expect(report.status).toBe('terminated');
    const rm = dockerCalls(run, 'rm')[0]!;
    expect(alive(rm.pid!)).toBe(false);
    expect(removedByFake(run)).toEqual([]);
    expect(tempLeftovers(run)).toEqual([]);
  }, 60_000);

  it('when Run Command kills the step’s process group, the docker rm in flight dies with it', async () => {
    const started = startCleanupScript({ containers: [old(1)], docker: { hang: ['rm'] } }, { CC_DOCKER_TIMEOUT: '600' }, { keepDir: true, detached: true });
    await waitFor(() => started.calls().some((c) => c.cmd === 'docker' && c.args[0] === 'rm'));
    const rm = started.calls().find((c) => c.cmd === 'docker' && c.args[0] === 'rm')!;
    // SIGKILL cannot be trapped: what survives the group kill is what a report can never count.
    process.kill(-started.pid!, 'SIGKILL');
    const run = keep(await started.result);
    expect(run.stdout).toBe('');
    await waitFor(() => !alive(rm.pid!), 10_000);
    expect(alive(rm.pid!)).toBe(false);
    expect(removedByFake(run)).toEqual([]);
  }, 60_000);

  it('gives each call the time left before the deadline, not a fixed 60 s', async () => {
    const run = await runCleanupScript({ containers: [old(1)] }, { CC_DOCKER_TIMEOUT: undefined, CC_DEADLINE_SECONDS: '300' });
    expect(run.code).toBe(EXIT.ok);
    // curl is the one call whose own limit shows in its arguments.
    const curl = run.calls.find((c) => c.cmd === 'curl')!;
    const maxTime = Number(curl.args[curl.args.indexOf('--max-time') + 1]);
    expect(maxTime).toBeGreaterThan(60);
    expect(maxTime).toBeLessThanOrEqual(300);
  });

  it('removes what a killed run left in TMPDIR more than 48 hours ago, and nothing younger', async () => {
    const threeDaysAgo = new Date(Date.now() - 3 * DAY * 1000);
    const run = keep(
      await runCleanupScript(
        {},
        {},
        {
          keepDir: true,
          prepare: (dir) => {
            mkdirSync(join(dir, 'ecs-caretaker-cleanup.AAAAAA', 'sub'), { recursive: true });
            utimesSync(join(dir, 'ecs-caretaker-cleanup.AAAAAA'), threeDaysAgo, threeDaysAgo);
            writeFileSync(join(dir, 'ecs-caretaker-cleanup.BBBBBB'), 'a copy of the script in use');
          },
        },
      ),
    );
    expect(run.code).toBe(EXIT.ok);
    expect(tempLeftovers(run)).toEqual(['ecs-caretaker-cleanup.BBBBBB']);
  });

  it('refuses a DeadlineSeconds outside 30..86400', async () => {
    for (const value of ['29', '0', '86401']) {
      const run = await runCleanupScript({ containers: [old(1)] }, { CC_DEADLINE_SECONDS: value });
      expect(oneLine(run).status, value).toBe('usage');
      expect(run.calls).toEqual([]);
    }
  });
});

describe('issue 2: ECS-owned by default, -v only for a container’s own anonymous volumes', () => {
  const containers: FakeContainer[] = [
    old(1, { mounts: [{ name: hexId(1, 0xb) }] }), // its own anonymous volume: rm -v
    { id: hexId(3), name: 'by-hand', state: 'exited', finishedAt: secondsAgo(2 * DAY), mounts: [{ name: hexId(3, 0xb) }] }, // no ECS labels
    old(4, { mounts: [{ name: hexId(4, 0xb) }] }), // an anonymous volume shared with container 5: plain rm
    { ...old(5), state: 'running', pid: 505, mounts: [{ name: hexId(4, 0xb) }] },
    old(6, { mounts: [{ name: 'pgdata' }] }), // a named volume: plain rm
    old(7, { mounts: [{ name: hexId(7, 0xb) }, { type: 'bind', source: '/etc/app' }] }), // bind mounts are never volumes
    old(8, { labels: { [TASK_ARN_LABEL]: TASK_GONE } }), // a task ARN without the agent's other labels: doubt
  ];
  const rmArgs = (run: CleanupRun) => dockerCalls(run, 'rm').map((c) => c.args);

  it('default scope: a container without ECS labels stays, with its volume', async () => {
    const run = await runCleanupScript({ containers });
    const report = oneLine(run);
    expect(run.code).toBe(EXIT.ok);
    expect(removedContainerIds(run)).not.toContain(hexId(3));
    expect(removedContainerIds(run)).not.toContain(hexId(8));
    expect(rmArgs(run)).toEqual([
      ['rm', hexId(4), hexId(6)],
      ['rm', '-v', hexId(1), hexId(7)],
    ]);
    expect(report.scope).toBe('ecs');
    expect(report.containers).toMatchObject({ removed: 4, notEcs: 1 });
    expect(report.volumes).toMatchObject({ removed: 2, withContainers: 2 });
  });

  it('Scope=all: removes it too (its volume is its own), never the doubtful one', async () => {
    const run = await runCleanupScript({ containers }, { CC_SCOPE: 'all' });
    const report = oneLine(run);
    expect(run.code).toBe(EXIT.ok);
    expect(rmArgs(run)).toEqual([
      ['rm', hexId(4), hexId(6)],
      ['rm', '-v', hexId(1), hexId(3), hexId(7)],
    ]);
    expect(report).toMatchObject({ scope: 'all', containers: { removed: 5, notEcs: 0 }, volumes: { withContainers: 3 } });
  });
});

describe('issue 3: label contents cannot forge a row', () => {
  it('a newline and tabs in the task-arn label never make a running container removable', async () => {
    const victim = hexId(1);
    const forged = `${TASK_GONE}\n${victim}\tdead\t0\t${secondsAgo(2 * DAY)}\t2020-01-01T00:00:00Z\t/victim\t`;
    const run = await runCleanupScript({
      containers: [
        { ...old(1), name: 'victim', state: 'running', pid: 4242 },
        old(2, { labels: { ...ecsLabels(2), [TASK_ARN_LABEL]: forged } }),
        old(3, { labels: { ...ecsLabels(3), 'com.amazonaws.ecs.container-name': 'web"\t"x' } }),
      ],
    });
    const report = oneLine(run);
    expect(dockerCalls(run, 'rm').flatMap((c) => c.args)).not.toContain(victim);
    // Labels that are not plain are doubt: those containers stay too.
    expect(removedContainerIds(run)).toEqual([]);
    expect(report.containers).toMatchObject({ removed: 0, failed: 0 });
    expect(run.code).toBe(EXIT.ok);
  });
});

describe('issue 3: rows docker prints that do not parse stop the run before any removal', () => {
  for (const [label, odd] of [
    ['a state docker does not have', { id: hexId(9), state: 'zombie' as FakeContainer['state'] }],
    ['an id that is not 64 hex characters', { id: 'not-a-container-id', state: 'exited' as const }],
  ] as const) {
    it(`${label}: exit 10, nothing removed, and the report says why`, async () => {
      const run = await runCleanupScript({ containers: [old(1), odd], volumes: [{ name: hexId(1, 0xa) }] });
      const report = oneLine(run);
      expect(run.code).toBe(EXIT.dockerUnresponsive);
      expect(report.errors[0]).toMatch(/nothing removed/);
      expect(dockerCalls(run, 'rm')).toEqual([]);
      expect(dockerCalls(run, 'volume', 'rm')).toEqual([]);
    });
  }
});

describe('issue 4: a missing fstrim is a failure', () => {
  it('reports every running container untrimmed and exits 12', async () => {
    const run = await runCleanupScript(
      {
        driver: 'devicemapper',
        thinPool: { before: { dataTotal: 100e9, dataAvailable: 50e9, metaTotal: 1e9, metaAvailable: 0.9e9 } },
        containers: [
          { id: hexId(1), name: 'web', state: 'running', pid: 101 },
          { id: hexId(2), name: 'worker', state: 'running', pid: 202 },
        ],
      },
      {},
      { without: ['fstrim'] },
    );
    const report = oneLine(run);
    expect(run.code).toBe(EXIT.cleanupErrors);
    expect(report.trim).toMatchObject({ enabled: true, runs: 0, skipped: 0, failed: 2 });
    expect(report.errors.join(' ')).toMatch(/fstrim is not installed/);
  });
});

describe('issue 5: the introspection answer is checked structurally', () => {
  const full = JSON.stringify({
    Tasks: [
      {
        Arn: TASK_A,
        DesiredStatus: 'RUNNING',
        KnownStatus: 'RUNNING',
        Family: 'app',
        Version: '1',
        Containers: [{ DockerId: hexId(1), DockerName: 'ecs-app-1-web-abcdef', Name: 'web' }],
      },
    ],
  });
  // Container 1 exited but its task is RUNNING: only the agent's answer protects it.
  const containers = [old(1, { labels: ecsLabels(1, TASK_GONE) }), old(2)];
  const bodies: [string, string][] = [
    ['cut inside the task ARN', full.slice(0, full.indexOf(TASK_A) + 20)],
    ['cut inside the DockerId', full.slice(0, full.indexOf(hexId(1)) + 30)],
    ['cut before the closing brackets', full.slice(0, -2)],
    ['followed by garbage', `${full}<html>`],
    ['two documents', full + full],
    ['Tasks is an object', full.replace('"Tasks":[', '"Tasks":').replace(/\]\}$/, '}')],
    ['Tasks is a string', '{"Tasks":"none"}'],
    ['no Tasks key', '{"tasks":[]}'],
    ['a list, not an object', '[]'],
    ['an ARN with a newline before a valid one', full.replace(TASK_A, `junk\\n${TASK_A}`)],
    ['a DockerId that is not hex', full.replace(hexId(1), 'not-a-docker-id')],
    ['a container without DockerId', full.replace(`"DockerId":"${hexId(1)}",`, '')],
  ];
  // jq 1.7 reads NaN as a number (an extension); python3 refuses it, as JSON does.
  const strictOnly: [string, string][] = [['NaN', full.replace('"Version":"1"', '"Version":NaN')]];

  for (const tool of ['jq', 'python3'] as const) {
    for (const [label, raw] of tool === 'python3' ? [...bodies, ...strictOnly] : bodies) {
      it(`${tool}: removes nothing when the answer is ${label}`, async () => {
        const run = await runCleanupScript({ containers, volumes: [{ name: hexId(1, 0xa) }], introspection: { raw } }, { CC_JSON_TOOL: tool });
        const report = oneLine(run);
        expect(run.code).toBe(EXIT.introspectionUnavailable);
        expect(report.errors[0]).toMatch(/introspection/);
        expect(dockerCalls(run, 'rm')).toEqual([]);
        expect(dockerCalls(run, 'volume', 'rm')).toEqual([]);
      });
    }

    it(`${tool}: the whole answer protects the listed container`, async () => {
      const run = await runCleanupScript({ containers, introspection: { raw: full } }, { CC_JSON_TOOL: tool });
      expect(oneLine(run).containers.protected).toBe(1);
      expect(removedContainerIds(run)).toEqual([hexId(2)]);
    });
  }
});

describe('issue 6: free space that cannot be measured is not ok', () => {
  it('devicemapper without lvs and without figures in docker info: exit 16', async () => {
    const run = await runCleanupScript({ driver: 'devicemapper', lvs: false, containers: [old(1)] });
    const report = oneLine(run);
    expect(run.code).toBe(EXIT.spaceUnmeasured);
    expect(report.status).toBe('space-unmeasured');
    expect(report.freePercentAfter).toBeNull();
    expect(report.errors.join(' ')).toMatch(/thin pool free space cannot be measured/);
    expect(report.containers.removed).toBe(1);
  });

  it('a df that fails on overlay2: exit 16', async () => {
    const run = await runCleanupScript({ disk: 'fail' });
    expect(run.code).toBe(EXIT.spaceUnmeasured);
  });
});

describe('issue 7: a volume already gone counts as removed', () => {
  it('on Docker 17-20 ("Error: No such volume") and later engines alike', async () => {
    const run = await runCleanupScript({
      volumes: [{ name: hexId(1, 0xa), rm: 'vanished-legacy' }, { name: hexId(2, 0xa), rm: 'vanished' }, { name: hexId(3, 0xa) }],
    });
    const report = oneLine(run);
    expect(report.volumes).toMatchObject({ removed: 3, failed: 0 });
    expect(run.code).toBe(EXIT.ok);
  });
});

describe('issue 8: the minor cases', () => {
  it('a hung docker system df stops the run before anything is removed (exit 10)', async () => {
    const run = await runCleanupScript({ containers: [old(1)], docker: { hang: ['system df'] } }, { CC_DOCKER_TIMEOUT: '1' });
    const report = oneLine(run);
    expect(run.code).toBe(EXIT.dockerUnresponsive);
    expect(report.errors[0]).toMatch(/docker system df did not answer/);
    expect(run.calls.filter((c) => c.cmd === 'curl')).toEqual([]);
    expect(dockerCalls(run, 'rm')).toEqual([]);
  });

  it('a failed docker volume ls is an error (exit 12)', async () => {
    const run = await runCleanupScript({ containers: [old(1)], docker: { fail: ['volume ls'] } });
    const report = oneLine(run);
    expect(run.code).toBe(EXIT.cleanupErrors);
    expect(report.errors.join(' ')).toMatch(/docker volume ls failed/);
  });

  it('a dry run names what it would remove, as many as fit, and counts the rest', async () => {
    const containers = Array.from({ length: 300 }, (_, i) => old(i, { name: `ecs-app-12-web-${'c'.repeat(30)}-${i}` }));
    const run = await runCleanupScript({ containers, volumes: [{ name: hexId(1, 0xa) }] }, { CC_DRY_RUN: 'true' });
    const report = oneLine(run);
    const names = report.dryRunNames!;
    expect(names.containers.length).toBeGreaterThan(10);
    expect(names.containers).toEqual(containers.slice(0, names.containers.length).map((c) => c.name));
    expect(names.containers.length + names.volumes.length + names.omitted).toBe(301);
    expect(report.containers.wouldRemove).toBe(300);
  });
});
