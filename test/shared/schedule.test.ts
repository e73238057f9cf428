import { describe, expect, it } from 'vitest';
import {
  cronLongestGapSeconds,
  defaultMaxDelaySeconds,
  longestGapSeconds,
  rateSeconds,
  scheduleGrammarIssue,
  shortestGapSeconds,
} from '../../functions/shared/schedule.ts';

const gap = (expression: string) => {
  const g = longestGapSeconds(expression);
  return 'seconds' in g ? g.seconds : g.issue;
};

describe('rate(...) as EventBridge and Scheduler accept it', () => {
  it.each([
    ['rate(1 minute)', 60],
    ['rate(15 minutes)', 900],
    ['rate(1 hour)', 3600],
    ['rate(2 hours)', 7200],
    ['rate(1 day)', 86_400],
    ['rate(7 days)', 604_800],
  ])('%s runs every %i s', (expression, seconds) => {
    expect(rateSeconds(expression)).toEqual({ seconds });
  });

  it.each([
    ['rate(5 minute)', 'write rate(5 minutes)'],
    ['rate(1 hours)', 'write rate(1 hour)'],
    ['rate(0 minutes)', 'positive integer'],
    ['rate(-5 minutes)', 'positive integer'],
    ['rate(1.5 hours)', 'positive integer'],
    ['rate(five minutes)', 'positive integer'],
    ['rate(30 seconds)', 'minute(s), hour(s) or day(s)'],
    ['rate(5)', 'is not rate(value unit)'],
  ])('refuses %s', (expression, reason) => {
    expect(scheduleGrammarIssue(expression)).toContain(reason);
  });
});

describe('the longest gap of a cron(...)', () => {
  it.each([
    ['cron(* * * * ? *)', 60],
    ['cron(*/5 * * * ? *)', 300],
    // "1/10": every tenth minute from minute 1 (EventBridge cron reference): 1, 11, ... 51, then 51 → 1 is 10 minutes.
    ['cron(1/10 * * * ? *)', 600],
    ['cron(0,15,30,45 * ? * * *)', 900],
    // 0, 10, 20, 30, then 30 → 0 is half an hour.
    ['cron(0-30/10 * * * ? *)', 1800],
    ['cron(0 * * * ? *)', 3600],
    // Runs at 00:00 and 12:00 only.
    ['cron(0 0,12 * * ? *)', 43_200],
    // Every minute of 22:00-01:59, across midnight: the gap is 02:00 → 22:00 = 20 h.
    ['cron(* 22-23,0-1 * * ? *)', 72_060],
    // Days written out in full still run every day.
    ['cron(*/2 * 1-31 JAN-DEC ? *)', 120],
    ['cron(*/2 * ? * SUN-SAT *)', 120],
  ])('%s: %i s', (expression, seconds) => {
    expect(cronLongestGapSeconds(expression)).toEqual({ seconds });
  });

  it.each([
    ['cron(0 10 * * ? 2026-2030)', 'does not run every day (year "2026-2030")'],
    ['cron(* * ? * 2-6 *)', 'does not run every day (day-of-week "2-6")'],
    ['cron(* * ? * 3#2 *)', 'does not run every day (day-of-week "3#2")'],
    ['cron(* * 3W * ? *)', 'does not run every day (day-of-month "3W")'],
    ['cron(* * * 1,7 ? *)', 'does not run every day (month "1,7")'],
    ['cron(60 * * * ? *)', 'minutes "60" has a value outside 0-59'],
    ['cron(* 24 * * ? *)', 'hours "24" has a value outside 0-23'],
    ['cron(*/0 * * * ? *)', 'an increment must be at least 1'],
    ['cron(* * * * *)', 'has six fields'],
    ['cron(* * ? * ? *)', 'exactly one of day-of-month and day-of-week must be ?'],
  ])('cannot bound %s', (expression, reason) => {
    expect(gap(expression)).toContain(reason);
  });
});

describe('shortestGapSeconds', () => {
  it.each([
    ['rate(1 minute)', 60],
    ['rate(5 minutes)', 300],
    ['rate(2 hours)', 7200],
    ['rate(1 day)', 86_400],
    // every 15 minutes during office hours: the closest two are 15 minutes apart
    ['cron(0/15 8-17 ? * MON-FRI *)', 900],
    ['cron(*/10 * * * ? *)', 600],
    // 23:50 and 00:10 the next day are 20 minutes apart
    ['cron(10,50 0,23 * * ? *)', 1200],
    ['cron(0 2 * * ? *)', 86_400],
    ['cron(0 6,18 * * ? *)', 43_200],
  ])('%s: %i s', (expression, seconds) => {
    expect(shortestGapSeconds(expression)).toBe(seconds);
  });

  it('is unknown for a one-time schedule and for what it cannot read', () => {
    expect(shortestGapSeconds('at(2026-12-24T18:00:00)')).toBeUndefined();
    expect(shortestGapSeconds('cron(0 L * * ? *)')).toBeUndefined();
    expect(shortestGapSeconds('rate(3 weeks)')).toBeUndefined();
  });
});

describe('defaultMaxDelaySeconds', () => {
  it('is one schedule period, at most one hour, and one hour when the period is unknown', () => {
    expect(defaultMaxDelaySeconds('rate(5 minutes)')).toBe(300);
    expect(defaultMaxDelaySeconds('rate(1 day)')).toBe(3600);
    expect(defaultMaxDelaySeconds('at(2026-12-24T18:00:00)')).toBe(3600);
  });
});
