/**
 * What a schedule expression means for timing: does AWS accept it, and how far
 * apart can two of its runs be. The drain's heartbeats depend on the second
 * answer, so a cron whose gap cannot be worked out here is refused, not guessed.
 *
 * Grammar: EventBridge user guide, "Rate expressions reference"
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rate-expressions.html) and
 * "Cron expressions reference" (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html).
 * EventBridge Scheduler documents the same rate(value unit) with a positive integer value.
 */

export type Gap = { seconds: number } | { issue: string };

const UNIT_SECONDS: Record<string, number> = { minute: 60, hour: 3600, day: 86_400 };
const RATE = /^rate\((\S+)\s+(\S+)\)$/;

/** The period of a rate(...) expression, or why AWS would reject it. */
export function rateSeconds(expression: string): Gap {
  const m = RATE.exec(expression);
  if (!m) return { issue: `"${expression}" is not rate(value unit)` };
  const [, value, unit] = m as unknown as [string, string, string];
  if (!/^\d+$/.test(value) || Number(value) < 1) return { issue: `"${expression}": the value must be a positive integer` };
  const n = Number(value);
  const singular = unit.replace(/s$/, '');
  if (!(singular in UNIT_SECONDS)) return { issue: `"${expression}": the unit must be minute(s), hour(s) or day(s)` };
  // "If the value is equal to 1, then the unit must be singular. If the value is greater than 1, the unit must be plural."
  const expected = n === 1 ? singular : `${singular}s`;
  if (unit !== expected) return { issue: `"${expression}": AWS rejects it; write rate(${n} ${expected}) (singular unit only for 1)` };
  return { seconds: n * UNIT_SECONDS[singular]! };
}

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const MINUTES: FieldSpec = { name: 'minutes', min: 0, max: 59 };
const HOURS: FieldSpec = { name: 'hours', min: 0, max: 23 };
const DAY_OF_MONTH: FieldSpec = { name: 'day-of-month', min: 1, max: 31 };
const MONTH: FieldSpec = { name: 'month', min: 1, max: 12, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] };
const DAY_OF_WEEK: FieldSpec = { name: 'day-of-week', min: 1, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] };
const YEAR: FieldSpec = { name: 'year', min: 1970, max: 2199 };

/**
 * The values a cron field selects, for the `, - * /` forms. Anything else
 * (`L`, `W`, `#`, a value out of range) returns a reason instead.
 */
export function cronField(text: string, spec: FieldSpec): Set<number> | string {
  const value = (token: string): number | undefined => {
    const named = spec.names?.indexOf(token.toUpperCase()) ?? -1;
    if (named >= 0) return spec.min + named;
    if (!/^\d+$/.test(token)) return undefined;
    const n = Number(token);
    return n >= spec.min && n <= spec.max ? n : undefined;
  };
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^([^/]+)(?:\/(\d+))?$/.exec(part);
    if (!m) return `${spec.name} "${text}" is not a list of values, ranges, * or increments`;
    const [, base, stepText] = m as unknown as [string, string, string | undefined];
    const step = stepText === undefined ? 1 : Number(stepText);
    if (step < 1) return `${spec.name} "${text}": an increment must be at least 1`;
    let from: number | undefined;
    let to: number | undefined;
    if (base === '*') [from, to] = [spec.min, spec.max];
    else if (base.includes('-')) {
      const [a, b] = base.split('-');
      [from, to] = [value(a ?? ''), value(b ?? '')];
    } else {
      from = value(base);
      // "1/10" means every tenth from 1 to the end of the range.
      to = stepText === undefined ? from : spec.max;
    }
    if (from === undefined || to === undefined || from > to)
      return `${spec.name} "${text}" has a value outside ${spec.min}-${spec.max} or a form this check cannot compute (L, W, #)`;
    for (let v = from; v <= to; v += step) out.add(v);
  }
  return out;
}

const covers = (set: Set<number>, spec: FieldSpec): boolean => set.size === spec.max - spec.min + 1;

/**
 * The longest time between two runs of a cron(...) expression, in UTC. Only a
 * cron that runs every day can have a gap shorter than a day; for it the gap
 * follows from the minutes and hours alone, around the clock. A cron that
 * skips days, months or years is refused with that reason, since its gap is a
 * day at least, longer than any HeartbeatTimeout allows (7200 s at most).
 */
export function cronLongestGapSeconds(expression: string): Gap {
  const m = /^cron\((.*)\)$/.exec(expression);
  const fields = m?.[1]?.trim().split(/\s+/) ?? [];
  if (fields.length !== 6) return { issue: `"${expression}": a cron expression has six fields (minutes hours day-of-month month day-of-week year)` };
  const [minutes, hours, dom, month, dow, year] = fields as [string, string, string, string, string, string];
  // "You can't use * in both the Day-of-month and Day-of-week fields. If you use it in one, you must use ? in the other."
  if ((dom === '?') === (dow === '?')) return { issue: `"${expression}": exactly one of day-of-month and day-of-week must be ?` };
  const fires = dailyMinutes(minutes, hours);
  if (typeof fires === 'string') return { issue: `"${expression}": ${fires}` };
  const everyDay: Array<[string, FieldSpec]> = [
    [dom, DAY_OF_MONTH],
    [month, MONTH],
    [dow, DAY_OF_WEEK],
    [year, YEAR],
  ];
  for (const [text, spec] of everyDay) {
    if (text === '?' || text === '*') continue;
    const set = cronField(text, spec);
    // A year range never covers every year to come, so any year but * skips time for good.
    if (typeof set === 'string' || spec === YEAR || !covers(set, spec)) {
      return { issue: `"${expression}": it does not run every day (${spec.name} "${text}"), so its longest gap is a day or more` };
    }
  }
  let longest = fires[0]! + 1440 - fires[fires.length - 1]!;
  for (let i = 1; i < fires.length; i++) longest = Math.max(longest, fires[i]! - fires[i - 1]!);
  return { seconds: longest * 60 };
}

/** The minutes of the day (UTC) at which a cron with these minutes and hours fields runs, in order, or why they cannot be read. */
function dailyMinutes(minutes: string, hours: string): number[] | string {
  const mins = cronField(minutes, MINUTES);
  if (typeof mins === 'string') return mins;
  const hrs = cronField(hours, HOURS);
  if (typeof hrs === 'string') return hrs;
  return [...hrs].flatMap((h) => [...mins].map((mi) => h * 60 + mi)).sort((a, b) => a - b);
}

/**
 * The shortest time between two runs: a rate's period, or for a cron the
 * closest two of its daily times, across midnight too (the day fields may
 * allow the next day, and assuming so only shortens it). Undefined for
 * at(...) and for what cannot be read.
 */
export function shortestGapSeconds(expression: string): number | undefined {
  if (expression.startsWith('rate(')) {
    const rate = rateSeconds(expression);
    return 'seconds' in rate ? rate.seconds : undefined;
  }
  const fields = /^cron\((.*)\)$/.exec(expression)?.[1]?.trim().split(/\s+/);
  if (fields?.length !== 6) return undefined;
  const fires = dailyMinutes(fields[0]!, fields[1]!);
  if (typeof fires === 'string') return undefined;
  let shortest = fires[0]! + 1440 - fires[fires.length - 1]!;
  for (let i = 1; i < fires.length; i++) shortest = Math.min(shortest, fires[i]! - fires[i - 1]!);
  return shortest * 60;
}

/** task-lock refuses an occurrence later than this: by default one schedule period, at most one hour. */
export const MAX_DELAY_CAP_SECONDS = 3600;
export const defaultMaxDelaySeconds = (expression: string): number => Math.min(shortestGapSeconds(expression) ?? MAX_DELAY_CAP_SECONDS, MAX_DELAY_CAP_SECONDS);

/** The longest time between two runs of a rate(...) or cron(...) expression, or why it is refused. */
export function longestGapSeconds(expression: string): Gap {
  if (expression.startsWith('rate(')) return rateSeconds(expression);
  if (expression.startsWith('cron(')) return cronLongestGapSeconds(expression);
  return { issue: `"${expression}": expected rate(...) or cron(...)` };
}

/** Why AWS would reject a rate(...) expression at deploy, if it would; cron(...) is left to AWS except for its field count. */
export function scheduleGrammarIssue(expression: string): string | undefined {
  if (expression.startsWith('rate(')) {
    const rate = rateSeconds(expression);
    return 'issue' in rate ? rate.issue : undefined;
  }
  if (expression.startsWith('cron(')) {
    const fields = /^cron\((.*)\)$/.exec(expression)?.[1]?.trim().split(/\s+/) ?? [];
    return fields.length === 6 ? undefined : `"${expression}": a cron expression has six fields (minutes hours day-of-month month day-of-week year)`;
  }
  return undefined;
}
