/**
 * The demo's narrated timeline: simulated time, who acted (a function, or the
 * simulated world: ecs, autoscaling, ssm, sns...), what it decided, and the
 * AWS calls the decision cost. Printed as it happens; `--json` also keeps it.
 */
import type { CallRecord, Sim } from '../sim/index.ts';

export type EntryKind = 'function' | 'world' | 'note';

export interface TimelineEntry {
  at: string;
  kind: EntryKind;
  fn: string;
  text: string;
  /** `service:Operation` → attempts, throttled retries included */
  calls?: Record<string, number>;
  /** attempts answered with a throttling error (and retried by the SDK) */
  throttled?: number;
  /** further lines: a message body, a warning the function logged */
  detail?: string[];
  /** what the function logged and measured during the invocations of this entry */
  logs?: Array<{ level: string; message: string }>;
  metrics?: Record<string, number>;
}

export interface TimelineOptions {
  print: boolean;
  /** Where printed lines go; the runner passes the real stdout while it captures the bundles' own output. */
  write?: (line: string) => void;
}

const THROTTLES = new Set([
  'ThrottlingException',
  'Throttling',
  'Throttled',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
]);
const ACTOR_WIDTH = 13;
const INDENT = ' '.repeat(2 + 8 + 2 + ACTOR_WIDTH + 1);

export class Timeline {
  readonly entries: TimelineEntry[] = [];
  private callMark = 0;
  /** Invocations in flight: world lines wait for them, so that a cause is printed before what it caused. */
  private busy = 0;
  private held: TimelineEntry[] = [];

  private readonly sim: Sim;
  private readonly print: boolean;
  private readonly write: (line: string) => void;

  constructor(sim: Sim, options: TimelineOptions) {
    this.sim = sim;
    this.print = options.print;
    this.write = options.write ?? ((line) => console.log(line));
  }

  /** AWS calls made since the last function entry. */
  private takeCalls(): CallRecord[] {
    const calls = this.sim.calls.slice(this.callMark);
    this.callMark = this.sim.calls.length;
    return calls;
  }

  /** A function's decision; it is charged with every call made since the previous one. */
  log(fn: string, text: string, extra: Pick<TimelineEntry, 'detail' | 'logs' | 'metrics'> = {}): void {
    const calls = this.takeCalls();
    const counts: Record<string, number> = {};
    for (const call of calls) counts[`${call.service}:${call.op}`] = (counts[`${call.service}:${call.op}`] ?? 0) + 1;
    const throttled = calls.filter((c) => c.error !== undefined && THROTTLES.has(c.error)).length;
    this.add({
      at: this.now(),
      kind: 'function',
      fn,
      text,
      ...(calls.length ? { calls: counts } : {}),
      ...(throttled ? { throttled } : {}),
      ...(extra.detail?.length ? { detail: extra.detail } : {}),
      ...(extra.logs?.length ? { logs: extra.logs } : {}),
      ...(extra.metrics && Object.keys(extra.metrics).length ? { metrics: extra.metrics } : {}),
    });
    this.release();
  }

  /** Something the simulated world did (a task changed state, an alert reached the inbox); held while a function runs. */
  world(actor: string, text: string, detail?: string[]): void {
    const entry: TimelineEntry = { at: this.now(), kind: 'world', fn: actor, text, ...(detail?.length ? { detail } : {}) };
    if (this.busy > 0) this.held.push(entry);
    else this.add(entry);
  }

  note(text: string): void {
    this.add({ at: this.now(), kind: 'note', fn: '', text });
  }

  heading(text: string): void {
    // Setup calls (table creation and the like) belong to no function.
    this.takeCalls();
    if (this.print) this.write(`\n${text}`);
  }

  begin(): void {
    this.busy++;
  }

  end(): void {
    this.busy = Math.max(0, this.busy - 1);
    this.release();
  }

  private release(): void {
    if (this.busy > 0) return;
    const held = this.held;
    this.held = [];
    for (const entry of held) this.add(entry);
  }

  private now(): string {
    return this.sim.clock.date().toISOString();
  }

  private add(entry: TimelineEntry): void {
    this.entries.push(entry);
    if (!this.print) return;
    const time = entry.at.slice(11, 19);
    if (entry.kind === 'note') {
      this.write(`  ${time}  ${'·'.padEnd(ACTOR_WIDTH)} ${entry.text}`);
      return;
    }
    this.write(`  ${time}  ${entry.fn.padEnd(ACTOR_WIDTH)} ${entry.text}`);
    const calls = formatCalls(entry);
    if (calls) this.write(`${INDENT}${calls}`);
    for (const line of entry.detail ?? []) this.write(`${INDENT}${line}`);
  }
}

/** `ecs: ListTasks ×2, DescribeTasks · dynamodb ×5 · 1 throttled, retried`: DynamoDB is counted, not itemised, to keep lines short. */
export function formatCalls(entry: Pick<TimelineEntry, 'calls' | 'throttled'>): string {
  if (!entry.calls) return '';
  const byService = new Map<string, Array<[string, number]>>();
  for (const [key, n] of Object.entries(entry.calls)) {
    const [service, op] = key.split(':') as [string, string];
    byService.set(service, [...(byService.get(service) ?? []), [op, n]]);
  }
  const parts = [...byService].map(([service, ops]) => {
    if (service === 'dynamodb') return `dynamodb ×${ops.reduce((n, [, c]) => n + c, 0)}`;
    return `${service}: ${ops.map(([op, n]) => (n > 1 ? `${op} ×${n}` : op)).join(', ')}`;
  });
  if (entry.throttled) parts.push(`${entry.throttled} throttled, retried`);
  return `↳ ${parts.join(' · ')}`;
}
