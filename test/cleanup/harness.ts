/**
 * Runs infra/ssm/docker-cleanup.sh with bash against the fake commands in
 * ./fakes (docker, curl, df, lvs, fstrim, ionice; the real timeout, flock and
 * coreutils), in a fresh directory that holds the scenario, the call log and
 * the fakes' state. Used by the script tests and by the benchmark.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CleanupReport } from '../../functions/cleanup/document-contract.ts';

const here = dirname(fileURLToPath(import.meta.url));
export const cleanupScriptPath = resolve(here, '..', '..', 'infra', 'ssm', 'docker-cleanup.sh');
/**
 * The script the runs use: CC_SCRIPT_UNDER_TEST=<file> runs the same tests
 * against another version (e.g. `git show HEAD~5:infra/ssm/docker-cleanup.sh`),
 * to see which tests fail without a fix.
 */
const scriptUnderTest = process.env.CC_SCRIPT_UNDER_TEST || cleanupScriptPath;
export const fakesDir = join(here, 'fakes');

export type ContainerState = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface FakeContainer {
  /** 64 hex characters, as `docker ps --no-trunc` prints them. */
  id: string;
  name?: string;
  state: ContainerState;
  /** RFC 3339 UTC; Docker's zero time when absent. */
  finishedAt?: string;
  created?: string;
  /** Defaults to 4242 when running, 0 otherwise. */
  pid?: number;
  /** Absent: `Config.Labels` is null. */
  labels?: Record<string, string>;
  /**
   * fail: `docker rm` always fails; fail-unless-force: only `rm -f` succeeds;
   * vanished: gone by the time rm runs ("No such container").
   */
  rm?: 'ok' | 'fail' | 'fail-unless-force' | 'vanished';
  rmError?: string;
  /** What `docker inspect` shows in .Mounts: volumes (driver local unless said) and bind mounts. */
  mounts?: ({ type?: 'volume'; name: string; driver?: string; destination?: string } | { type: 'bind'; source?: string; destination?: string })[];
}

export interface FakeVolume {
  name: string;
  driver?: string;
  /** Default true. A volume that is not dangling is "in use" for `volume rm`. */
  dangling?: boolean;
  /**
   * in-use: listed as dangling, taken by a new container by the time rm runs;
   * vanished: removed by someone else by then ("get <name>: no such volume");
   * vanished-legacy: the same on Docker 17-20 ("Error: No such volume: <name>").
   */
  rm?: 'ok' | 'fail' | 'in-use' | 'vanished' | 'vanished-legacy';
  rmError?: string;
}

export interface DiskFigures {
  size: number;
  avail: number;
  inodes?: number;
  freeInodes?: number;
}

export interface ThinPoolFigures {
  dataTotal: number;
  dataAvailable: number;
  metaTotal: number;
  metaAvailable: number;
}

/** First measurement answers `before`; later ones `after` (or `before` when absent). */
export interface Phased<T> {
  before: T;
  after?: T;
}

export interface FakeTask {
  arn: string;
  containers?: { dockerId: string; name?: string; dockerName?: string }[];
  desiredStatus?: string;
  knownStatus?: string;
}

export interface Scenario {
  /** Default overlay2. */
  driver?: string;
  rootDir?: string;
  /** devicemapper pool name in `docker info`; default docker-docker--pool (lvs: docker/docker-pool). */
  poolName?: string;
  /** The VG/LV the fake lvs answers for; default docker/docker-pool. */
  lvName?: string;
  containers?: FakeContainer[];
  volumes?: FakeVolume[];
  /** Default: an empty task list. */
  introspection?: { tasks: FakeTask[]; pretty?: boolean } | { raw: string } | { status: number } | 'fail' | 'hang';
  /** Absent: IMDS unreachable. */
  imds?: { instanceId: string };
  /** df of the Docker root; default 50 of 100 GB free. */
  disk?: Phased<DiskFigures> | 'fail';
  thinPool?: Phased<ThinPoolFigures>;
  /** false: lvs fails, so the script falls back to `docker info`. */
  lvs?: boolean;
  systemDf?: Phased<{ images?: number; containers?: number; volumes?: number; buildCache?: number }>;
  fstrim?: { bytes?: Record<number, number>; fail?: number[]; gone?: number[]; sleepSeconds?: number };
  docker?: {
    /** true, or the subcommands ("info", "ps", "rm", "volume rm", ...) that never answer. */
    hang?: boolean | string[];
    delaySeconds?: Record<string, number>;
    /** Every docker call fails as if the daemon were not running. */
    down?: boolean;
    /** Subcommands that fail at once with failMessage. */
    fail?: string[];
    failMessage?: string;
  };
}

export interface FakeCall {
  cmd: string;
  args: string[];
  at: number;
  /** The fake's process id (not recorded by the bash fake ionice). */
  pid?: number;
}

export interface CleanupRun {
  /** Exit status; null only if bash itself was killed by a signal. */
  code: number | null;
  stdout: string;
  stderr: string;
  calls: FakeCall[];
  /** stdout parsed when it is exactly one line of JSON. */
  report?: CleanupReport;
  durationMs: number;
  dir: string;
}

/** Values set to undefined remove the harness default. */
export type CleanupEnv = Record<string, string | undefined>;

export interface CleanupRunOptions {
  /** Run this program instead of the script file, e.g. the document's rendered runCommand. */
  scriptText?: string;
  /** Interpreter for the program; default bash. */
  shell?: string;
  /** Keep the run directory (scenario, calls.log, fake state) for inspection. */
  keepDir?: boolean;
  /** Commands that must not exist for this run: no fake, and no system directory that holds one. */
  without?: string[];
  /** Called with the run directory (also TMPDIR) before bash starts. */
  prepare?: (dir: string) => void;
  /** Start bash as the leader of a process group of its own, as Run Command starts a step: pid is then also the group id. */
  detached?: boolean;
}

export interface StartedCleanupRun {
  dir: string;
  /** The bash process, e.g. to signal it. */
  pid: number | undefined;
  /** Calls recorded so far (for waiting on a run in progress). */
  calls(): FakeCall[];
  result: Promise<CleanupRun>;
}

function readCalls(dir: string): FakeCall[] {
  let text = '';
  try {
    text = readFileSync(join(dir, 'calls.log'), 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as FakeCall);
}

export function startCleanupScript(scenario: Scenario = {}, env: CleanupEnv = {}, options: CleanupRunOptions = {}): StartedCleanupRun {
  const dir = mkdtempSync(join(tmpdir(), 'cc-cleanup-'));
  writeFileSync(join(dir, 'scenario.json'), JSON.stringify(scenario));
  let program = scriptUnderTest;
  if (options.scriptText !== undefined) {
    program = join(dir, 'program.sh');
    writeFileSync(program, options.scriptText);
  }

  // A fixed PATH: the fakes first, then the node running the tests (the fakes
  // are node scripts), then the system tools; nothing else from this machine.
  let fakes = fakesDir;
  let system = ['/usr/local/bin', '/usr/bin', '/bin', '/usr/sbin', '/sbin'];
  const without = options.without ?? [];
  if (without.length > 0) {
    fakes = join(dir, 'fakes');
    mkdirSync(fakes);
    for (const f of readdirSync(fakesDir)) if (!without.includes(f)) symlinkSync(join(fakesDir, f), join(fakes, f));
    system = system.filter((d) => without.every((cmd) => !existsSync(join(d, cmd))));
  }
  const merged: CleanupEnv = {
    PATH: [fakes, dirname(process.execPath), ...system].join(':'),
    HOME: dir,
    TMPDIR: dir,
    CC_FAKE_DIR: dir,
    CC_LOCK_FILE: join(dir, 'cleanup.lock'),
    CC_INSTANCE_ID: 'i-0123456789abcdef0',
    CC_DOCKER_TIMEOUT: '10',
    ...env,
  };
  const childEnv = Object.fromEntries(Object.entries(merged).filter((e): e is [string, string] => e[1] !== undefined));

  options.prepare?.(dir);
  const started = Date.now();
  const child = spawn(options.shell ?? 'bash', [program], { env: childEnv, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], detached: options.detached ?? false });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));

  const result = new Promise<CleanupRun>((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const stdout = Buffer.concat(out).toString('utf8');
      const run: CleanupRun = {
        code,
        stdout,
        stderr: Buffer.concat(err).toString('utf8'),
        calls: readCalls(dir),
        durationMs: Date.now() - started,
        dir,
      };
      const lines = stdout.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1);
      if (lines.length === 1) {
        try {
          run.report = JSON.parse(lines[0]!) as CleanupReport;
        } catch {
          // Left undefined: the tests assert on it.
        }
      }
      if (!options.keepDir) rmSync(dir, { recursive: true, force: true });
      resolvePromise(run);
    });
  });
  return { dir, pid: child.pid, calls: () => readCalls(dir), result };
}

export function runCleanupScript(scenario: Scenario = {}, env: CleanupEnv = {}, options: CleanupRunOptions = {}): Promise<CleanupRun> {
  return startCleanupScript(scenario, env, options).result;
}

// Scenario helpers.

/** A deterministic 64-hex id; `group` keeps containers and volumes apart. */
export function hexId(n: number, group = 0xc): string {
  return group.toString(16).padStart(4, '0') + n.toString(16).padStart(60, '0');
}

/** An RFC 3339 UTC time `seconds` ago, with Docker's nanosecond precision. */
export function secondsAgo(seconds: number): string {
  return new Date(Date.now() - seconds * 1000).toISOString().replace(/\.(\d{3})Z$/, '.$1456789Z');
}

export const TASK_ARN_LABEL = 'com.amazonaws.ecs.task-arn';

const DAY = 86_400;

/** The labels the ECS agent puts on every container it starts, for a task nobody knows any more. */
export const ecsLabels = (id: number, arn = `arn:aws:ecs:eu-west-1:123456789012:task/demo/${id.toString(16).padStart(32, 'f')}`) => ({
  [TASK_ARN_LABEL]: arn,
  'com.amazonaws.ecs.container-name': 'web',
  'com.amazonaws.ecs.cluster': 'demo',
  'com.amazonaws.ecs.task-definition-family': 'app',
  'com.amazonaws.ecs.task-definition-version': '1',
});

/** An ECS container that exited two days ago. */
export const old = (id: number, extra: Partial<FakeContainer> = {}): FakeContainer => ({
  id: hexId(id),
  name: `old-${id}`,
  state: 'exited',
  finishedAt: secondsAgo(2 * DAY),
  labels: ecsLabels(id),
  ...extra,
});

/** docker calls with the given subcommand, e.g. dockerCalls(run, 'rm'). */
export function dockerCalls(run: CleanupRun, ...sub: string[]): FakeCall[] {
  return run.calls.filter((c) => c.cmd === 'docker' && sub.every((s, i) => c.args[i] === s));
}

/** Every container id passed to `docker rm`. */
export function removedContainerIds(run: CleanupRun): string[] {
  return dockerCalls(run, 'rm').flatMap((c) => c.args.slice(1).filter((a) => !a.startsWith('-')));
}
