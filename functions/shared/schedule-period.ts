/**
 * The shortest time between two occurrences of a schedule expression, as far
 * as it matters to task-lock: whether the next occurrence comes within the hour.
 * rate(...) says it; cron(...) is read from its minutes and hours fields over
 * one day; at(...) happens once.
 */

const UNIT_SECONDS: Record<string, number> = { minute: 60, minutes: 60, hour: 3600, hours: 3600, day: 86_400, days: 86_400 };

/** The values a cron field of `min..max` matches: `*`, `n`, `a-b`, `a/s`, `*\/s`, `a-b/s`, and lists of them. */
export function cronFieldValues(field: string, min: number, max: number): number[] | undefined {
  const values = new Set<number>();
  for (const part of field.split(',')) {
    const m = /^(\*|\d+)(?:-(\d+))?(?:\/(\d+))?$/.exec(part.trim());
    if (!m) return undefined;
    const from = m[1] === '*' ? min : Number(m[1]);
    // "a/s" runs from a to the end of the range (EventBridge cron, like Quartz).
    const to = m[2] !== undefined ? Number(m[2]) : m[1] === '*' || m[3] !== undefined ? max : from;
    const step = m[3] !== undefined ? Number(m[3]) : 1;
    if (from < min || to > max || from > to || step < 1) return undefined;
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return [...values].sort((a, b) => a - b);
}

/** Seconds between the closest two occurrences, or undefined when unknown (at(...), an unreadable expression). */
export function schedulePeriodSeconds(expression: string): number | undefined {
  const rate = /^rate\(\s*(\d+)\s+([a-z]+)\s*\)$/.exec(expression);
  if (rate) {
    const unit = UNIT_SECONDS[rate[2]!];
    return unit === undefined ? undefined : Number(rate[1]) * unit;
  }
  const cron = /^cron\((.+)\)$/.exec(expression);
  if (!cron) return undefined;
  // cron(Minutes Hours Day-of-month Month Day-of-week Year) (EventBridge user guide, "Cron expressions").
  const [minutes, hours] = cron[1]!.trim().split(/\s+/);
  const mins = minutes === undefined ? undefined : cronFieldValues(minutes, 0, 59);
  const hrs = hours === undefined ? undefined : cronFieldValues(hours, 0, 23);
  if (!mins?.length || !hrs?.length) return undefined;
  const times = hrs.flatMap((h) => mins.map((m) => h * 60 + m));
  // Across midnight too: the day fields may allow the next day, and assuming so only shortens the period.
  let gap = times[0]! + 1440 - times[times.length - 1]!;
  for (let i = 1; i < times.length; i++) gap = Math.min(gap, times[i]! - times[i - 1]!);
  return gap * 60;
}

/** An occurrence later than this is refused: by default one schedule period, at most one hour. */
export const MAX_DELAY_CAP_SECONDS = 3600;
export const defaultMaxDelaySeconds = (expression: string): number =>
  Math.min(schedulePeriodSeconds(expression) ?? MAX_DELAY_CAP_SECONDS, MAX_DELAY_CAP_SECONDS);
