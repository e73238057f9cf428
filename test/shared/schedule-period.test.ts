import { describe, expect, it } from 'vitest';
import { cronFieldValues, defaultMaxDelaySeconds, schedulePeriodSeconds } from '../../functions/shared/schedule-period.ts';

describe('schedulePeriodSeconds', () => {
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
    expect(schedulePeriodSeconds(expression)).toBe(seconds);
  });

  it('is unknown for a one-time schedule and for what it cannot read', () => {
    expect(schedulePeriodSeconds('at(2026-12-24T18:00:00)')).toBeUndefined();
    expect(schedulePeriodSeconds('cron(0 L * * ? *)')).toBeUndefined();
    expect(schedulePeriodSeconds('rate(3 weeks)')).toBeUndefined();
  });

  it('reads cron fields with ranges, steps and lists, and refuses values out of range', () => {
    expect(cronFieldValues('5-20/5', 0, 59)).toEqual([5, 10, 15, 20]);
    expect(cronFieldValues('50/5', 0, 59)).toEqual([50, 55]);
    expect(cronFieldValues('1,1,3', 0, 59)).toEqual([1, 3]);
    expect(cronFieldValues('61', 0, 59)).toBeUndefined();
    expect(cronFieldValues('20-10', 0, 59)).toBeUndefined();
  });
});

describe('defaultMaxDelaySeconds', () => {
  it('is one schedule period, at most one hour, and one hour when the period is unknown', () => {
    expect(defaultMaxDelaySeconds('rate(5 minutes)')).toBe(300);
    expect(defaultMaxDelaySeconds('rate(1 day)')).toBe(3600);
    expect(defaultMaxDelaySeconds('at(2026-12-24T18:00:00)')).toBe(3600);
  });
});
