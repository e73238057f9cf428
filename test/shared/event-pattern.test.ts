import { describe, expect, it } from 'vitest';
import { assertValidPattern, matchesPattern, type EventPattern } from '../../functions/shared/event-pattern.ts';
import { loadAwsEvents } from '../support/fixtures.ts';

// Shaped like an EventBridge envelope, with the awkward cases close at hand:
// arrays of scalars, arrays of objects, nested arrays, null, "", numbers as strings.
const event = {
  version: '0',
  source: 'aws.ecs',
  'detail-type': 'ECS Task State Change',
  region: 'eu-west-1',
  resources: ['arn:aws:ecs:eu-west-1:123456789012:task/prod/abc', 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod'],
  detail: {
    lastStatus: 'STOPPED',
    stopCode: 'EssentialContainerExited',
    stoppedReason: 'Essential container in task exited',
    cpu: '1024',
    version: 7,
    ratio: 0.25,
    enableExecuteCommand: false,
    group: null,
    platformFamily: '',
    containers: [
      { name: 'app', exitCode: 2, lastStatus: 'STOPPED' },
      { name: 'envoy', exitCode: 0, lastStatus: 'STOPPED' },
    ],
    matrix: [
      [1, 2],
      [3, [4]],
    ],
    attachments: [],
    tags: { team: 'platform' },
    path: 'a*b\\c',
  },
};

const matches = (pattern: EventPattern, target: unknown = event): boolean => {
  assertValidPattern(pattern);
  return matchesPattern(pattern, target);
};

describe('matchesPattern: structure', () => {
  it('ANDs fields and ORs the values of one field', () => {
    expect(matches({ source: ['aws.ec2', 'aws.ecs'], 'detail-type': ['ECS Task State Change'] })).toBe(true);
    expect(matches({ source: ['aws.ecs'], 'detail-type': ['ECS Service Action'] })).toBe(false);
  });

  it('recurses into nested objects and ignores fields the pattern does not name', () => {
    expect(matches({ detail: { tags: { team: ['platform'] } } })).toBe(true);
    expect(matches({ detail: { tags: { team: ['data'] } } })).toBe(false);
  });

  it('needs the same nesting: a nested pattern does not reach a top-level field, nor the reverse', () => {
    expect(matches({ detail: { source: ['aws.ecs'] } })).toBe(false);
    expect(matches({ lastStatus: ['STOPPED'] })).toBe(false);
  });

  it('an event array matches when any element does (non-empty intersection)', () => {
    expect(matches({ resources: ['arn:aws:ecs:eu-west-1:123456789012:cluster/prod', 'something-else'] })).toBe(true);
    expect(matches({ resources: ['arn:aws:ecs:eu-west-1:123456789012:cluster/staging'] })).toBe(false);
  });

  it('looks through arrays of arrays', () => {
    expect(matches({ detail: { matrix: [4] } })).toBe(true);
    expect(matches({ detail: { matrix: [5] } })).toBe(false);
  });

  it('matches a nested pattern against each object of an event array, within one element', () => {
    expect(matches({ detail: { containers: { name: ['app'], exitCode: [2] } } })).toBe(true);
    // app exited 2 and envoy exited 0: no single container is "app with exit 0".
    expect(matches({ detail: { containers: { name: ['app'], exitCode: [0] } } })).toBe(false);
  });

  it('a leaf value never matches an object, and a nested pattern never matches a scalar', () => {
    expect(matches({ detail: { tags: ['platform'] } })).toBe(false);
    expect(matches({ detail: { lastStatus: { value: ['STOPPED'] } } })).toBe(false);
  });

  it('does not mistake inherited properties for event fields', () => {
    expect(matches({ constructor: [{ exists: true }] }, {})).toBe(false);
    expect(matches({ toString: [{ exists: false }] }, {})).toBe(true);
  });

  it('treats an event that is not an object as having no fields', () => {
    expect(matches({ source: ['aws.ecs'] }, null)).toBe(false);
    expect(matches({ source: ['aws.ecs'] }, 'aws.ecs')).toBe(false);
    expect(matchesPattern({ source: [{ exists: false }] }, undefined)).toBe(true);
    expect(matchesPattern({ source: [{ exists: true }] }, undefined)).toBe(false);
  });
});

describe('matchesPattern: exact values', () => {
  it('matches strings exactly and case-sensitively', () => {
    expect(matches({ detail: { lastStatus: ['STOPPED'] } })).toBe(true);
    expect(matches({ detail: { lastStatus: ['stopped'] } })).toBe(false);
  });

  it('compares numbers as numbers and never as strings', () => {
    expect(matches({ detail: { version: [7] } })).toBe(true);
    expect(matches({ detail: { version: [7.0] } }, JSON.parse('{"detail":{"version":7.0}}'))).toBe(true);
    expect(matches({ detail: { ratio: [2.5e-1] } })).toBe(true);
    expect(matches({ x: [300] }, JSON.parse('{"x":300.0}'))).toBe(true);
    expect(matches({ detail: { version: ['7'] } })).toBe(false);
    expect(matches({ detail: { cpu: [1024] } })).toBe(false);
  });

  it('matches booleans', () => {
    expect(matches({ detail: { enableExecuteCommand: [false] } })).toBe(true);
    expect(matches({ detail: { enableExecuteCommand: [true] } })).toBe(false);
    expect(matches({ detail: { enableExecuteCommand: ['false'] } })).toBe(false);
  });

  it('keeps null, the empty string and a missing field apart', () => {
    expect(matches({ detail: { group: [null] } })).toBe(true);
    expect(matches({ detail: { platformFamily: [''] } })).toBe(true);
    expect(matches({ detail: { group: [''] } })).toBe(false);
    expect(matches({ detail: { platformFamily: [null] } })).toBe(false);
    expect(matches({ detail: { missing: [null] } })).toBe(false);
    expect(matches({ detail: { missing: [''] } })).toBe(false);
  });
});

describe('matchesPattern: content filters', () => {
  it('prefix', () => {
    expect(matches({ detail: { stopCode: [{ prefix: 'Essential' }] } })).toBe(true);
    expect(matches({ detail: { stopCode: [{ prefix: 'essential' }] } })).toBe(false);
    expect(matches({ resources: [{ prefix: 'arn:aws:ecs:eu-west-1:123456789012:cluster/' }] })).toBe(true);
    expect(matches({ detail: { version: [{ prefix: '7' }] } })).toBe(false);
  });

  it('prefix and suffix with equals-ignore-case', () => {
    expect(matches({ detail: { stopCode: [{ prefix: { 'equals-ignore-case': 'ESSENTIAL' } }] } })).toBe(true);
    expect(matches({ detail: { stopCode: [{ prefix: { 'equals-ignore-case': 'user' } }] } })).toBe(false);
    expect(matches({ detail: { stopCode: [{ suffix: { 'equals-ignore-case': 'EXITED' } }] } })).toBe(true);
    expect(matches({ detail: { stopCode: [{ suffix: { 'equals-ignore-case': 'stopped' } }] } })).toBe(false);
  });

  it('suffix', () => {
    expect(matches({ detail: { stopCode: [{ suffix: 'Exited' }] } })).toBe(true);
    expect(matches({ detail: { stopCode: [{ suffix: 'Initiated' }] } })).toBe(false);
    expect(matches({ resources: [{ suffix: '/abc' }] })).toBe(true);
  });

  it('equals-ignore-case', () => {
    expect(matches({ detail: { lastStatus: [{ 'equals-ignore-case': 'stopped' }] } })).toBe(true);
    expect(matches({ detail: { lastStatus: [{ 'equals-ignore-case': 'stop' }] } })).toBe(false);
    expect(matches({ detail: { version: [{ 'equals-ignore-case': '7' }] } })).toBe(false);
  });

  it('wildcard, including escaped characters', () => {
    expect(matches({ detail: { stoppedReason: [{ wildcard: 'Essential*exited' }] } })).toBe(true);
    expect(matches({ detail: { stoppedReason: [{ wildcard: '*container*task*' }] } })).toBe(true);
    expect(matches({ detail: { stoppedReason: [{ wildcard: '*task*container*' }] } })).toBe(false);
    expect(matches({ detail: { stoppedReason: [{ wildcard: 'Essential' }] } })).toBe(false);
    expect(matches({ resources: [{ wildcard: 'arn:aws:ecs:*:task/prod/*' }] })).toBe(true);
    expect(matches({ detail: { path: [{ wildcard: 'a\\*b\\\\c' }] } })).toBe(true);
    expect(matches({ detail: { path: [{ wildcard: 'a\\*b*' }] } })).toBe(true);
    expect(matches({ detail: { path: [{ wildcard: 'ab*' }] } })).toBe(false);
    // The pieces around a star may not overlap: "aXa" is not "a*" followed by "*a" twice.
    expect(matches({ v: [{ wildcard: 'ab*ba' }] }, { v: 'aba' })).toBe(false);
    expect(matches({ v: [{ wildcard: 'ab*ba' }] }, { v: 'abba' })).toBe(true);
    expect(matches({ v: [{ wildcard: '*' }] }, { v: '' })).toBe(true);
  });

  it('anything-but with a string, a number and lists', () => {
    expect(matches({ detail: { lastStatus: [{ 'anything-but': 'RUNNING' }] } })).toBe(true);
    expect(matches({ detail: { lastStatus: [{ 'anything-but': 'STOPPED' }] } })).toBe(false);
    expect(matches({ detail: { lastStatus: [{ 'anything-but': ['PENDING', 'RUNNING'] }] } })).toBe(true);
    expect(matches({ detail: { lastStatus: [{ 'anything-but': ['RUNNING', 'STOPPED'] }] } })).toBe(false);
    expect(matches({ detail: { version: [{ 'anything-but': 8 }] } })).toBe(true);
    expect(matches({ detail: { version: [{ 'anything-but': [5, 6, 7] }] } })).toBe(false);
    expect(matches({ detail: { version: [{ 'anything-but': [5, 6, 7.0] }] } }, JSON.parse('{"detail":{"version":7.0}}'))).toBe(false);
  });

  it('anything-but with prefix, suffix, equals-ignore-case and wildcard', () => {
    expect(matches({ region: [{ 'anything-but': { prefix: 'us-' } }] })).toBe(true);
    expect(matches({ region: [{ 'anything-but': { prefix: 'eu-' } }] })).toBe(false);
    expect(matches({ region: [{ 'anything-but': { prefix: ['us-', 'ap-'] } }] })).toBe(true);
    expect(matches({ region: [{ 'anything-but': { prefix: ['us-', 'eu-'] } }] })).toBe(false);
    expect(matches({ region: [{ 'anything-but': { suffix: '-1' } }] })).toBe(false);
    expect(matches({ detail: { lastStatus: [{ 'anything-but': { 'equals-ignore-case': 'stopped' } }] } })).toBe(false);
    expect(matches({ detail: { lastStatus: [{ 'anything-but': { 'equals-ignore-case': ['running', 'pending'] } }] } })).toBe(true);
    expect(matches({ detail: { stoppedReason: [{ 'anything-but': { wildcard: '*OutOfMemory*' } }] } })).toBe(true);
    expect(matches({ detail: { stoppedReason: [{ 'anything-but': { wildcard: '*container*' } }] } })).toBe(false);
  });

  it('anything-but does not match a missing field', () => {
    expect(matches({ detail: { reason: [{ 'anything-but': 'x' }] } })).toBe(false);
    expect(matches({ detail: { reason: [{ 'anything-but': { prefix: 'x' } }] } })).toBe(false);
    expect(matches({ detail: { attachments: [{ 'anything-but': 'x' }] } })).toBe(false);
  });

  it('anything-but on an event array matches when any element is not excluded', () => {
    const arn = 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod';
    expect(matches({ resources: [{ 'anything-but': arn }] })).toBe(true);
    expect(matches({ resources: [{ 'anything-but': arn }] }, { resources: [arn, arn] })).toBe(false);
  });

  it('numeric: one bound, a range and equality', () => {
    expect(matches({ detail: { version: [{ numeric: ['>', 0, '<=', 7] }] } })).toBe(true);
    expect(matches({ detail: { version: [{ numeric: ['>', 0, '<', 7] }] } })).toBe(false);
    expect(matches({ detail: { version: [{ numeric: ['>=', 7] }] } })).toBe(true);
    expect(matches({ detail: { version: [{ numeric: ['>', 7] }] } })).toBe(false);
    expect(matches({ detail: { version: [{ numeric: ['<', 7.5] }] } })).toBe(true);
    expect(matches({ detail: { version: [{ numeric: ['<=', 6.999] }] } })).toBe(false);
    expect(matches({ detail: { version: [{ numeric: ['=', 7] }] } })).toBe(true);
    expect(matches({ detail: { ratio: [{ numeric: ['=', 2.5e-1] }] } })).toBe(true);
    expect(matches({ detail: { ratio: [{ numeric: ['=', 0.3] }] } })).toBe(false);
  });

  it('numeric only applies to JSON numbers, and any element of an event array may satisfy it', () => {
    expect(matches({ detail: { cpu: [{ numeric: ['>', 0] }] } })).toBe(false);
    expect(matches({ detail: { matrix: [{ numeric: ['>', 3.5] }] } })).toBe(true);
    expect(matches({ detail: { containers: { exitCode: [{ numeric: ['>', 0] }] } } })).toBe(true);
    expect(matches({ detail: { containers: { exitCode: [{ numeric: ['>', 2] }] } } })).toBe(false);
  });

  it('exists: true and false on leaves', () => {
    expect(matches({ detail: { stopCode: [{ exists: true }] } })).toBe(true);
    expect(matches({ detail: { stopCode: [{ exists: false }] } })).toBe(false);
    expect(matches({ detail: { stoppingAt: [{ exists: false }] } })).toBe(true);
    expect(matches({ detail: { stoppingAt: [{ exists: true }] } })).toBe(false);
    expect(matches({ detail: { group: [{ exists: true }] } })).toBe(true);
    expect(matches({ detail: { platformFamily: [{ exists: true }] } })).toBe(true);
  });

  it('exists only sees leaf nodes: an object or an empty array counts as absent', () => {
    expect(matches({ detail: { tags: [{ exists: false }] } })).toBe(true);
    expect(matches({ detail: { tags: [{ exists: true }] } })).toBe(false);
    expect(matches({ detail: { attachments: [{ exists: false }] } })).toBe(true);
    expect(matches({ detail: { resources: [{ exists: true }] } })).toBe(false);
    expect(matches({ resources: [{ exists: true }] })).toBe(true);
  });

  it('exists: false holds below a missing intermediate object', () => {
    expect(matches({ nothing: { here: [{ exists: false }] } })).toBe(true);
    expect(matches({ nothing: { here: [{ exists: true }] } })).toBe(false);
    expect(matches({ detail: { containers: { reason: [{ exists: false }] } } })).toBe(true);
    expect(matches({ detail: { containers: { exitCode: [{ exists: false }] } } })).toBe(false);
  });

  it('mixes exact values and filters in one array (OR)', () => {
    expect(matches({ detail: { stopCode: ['UserInitiated', { prefix: 'Essential' }] } })).toBe(true);
    expect(matches({ detail: { stoppingAt: ['x', { exists: false }] } })).toBe(true);
    expect(matches({ detail: { stopCode: ['UserInitiated', { suffix: 'Initiated' }] } })).toBe(false);
  });
});

describe('matchesPattern: $or', () => {
  it('matches when any alternative does, ANDed with the other fields', () => {
    const pattern: EventPattern = {
      source: ['aws.ecs'],
      $or: [{ detail: { stopCode: ['UserInitiated'] } }, { detail: { containers: { exitCode: [{ numeric: ['>', 0] }] } } }],
    };
    expect(matches(pattern)).toBe(true);
    expect(matches({ ...pattern, source: ['aws.ec2'] })).toBe(false);
  });

  it('fails when no alternative matches', () => {
    expect(matches({ $or: [{ region: ['us-east-1'] }, { detail: { lastStatus: ['RUNNING'] } }] })).toBe(false);
  });

  it('works at a nested level, several times, and nested in itself', () => {
    expect(
      matches({
        detail: {
          $or: [{ lastStatus: ['RUNNING'] }, { stopCode: [{ suffix: 'Exited' }] }],
          tags: { $or: [{ team: ['data'] }, { owner: [{ exists: false }] }] },
        },
        $or: [{ region: ['us-east-1'] }, { $or: [{ version: ['1'] }, { version: ['0'] }] }],
      }),
    ).toBe(true);
    expect(matches({ detail: { $or: [{ lastStatus: ['RUNNING'] }, { stopCode: [{ prefix: 'Task' }] }] } })).toBe(false);
  });

  it('applies to each element of an event array', () => {
    expect(matches({ detail: { containers: { $or: [{ exitCode: [137] }, { name: ['envoy'] }] } } })).toBe(true);
    expect(matches({ detail: { containers: { $or: [{ exitCode: [137] }, { name: ['sidecar'] }] } } })).toBe(false);
  });
});

describe('assertValidPattern', () => {
  const errorOf = (pattern: unknown, path?: string): string => {
    try {
      assertValidPattern(pattern, path);
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error('expected the pattern to be rejected');
  };

  it('accepts every operator this module matches', () => {
    expect(() =>
      assertValidPattern({
        source: ['aws.ecs', 1, true, null, ''],
        detail: {
          a: [{ prefix: 'x' }, { prefix: { 'equals-ignore-case': 'x' } }, { suffix: 'x' }, { suffix: { 'equals-ignore-case': 'x' } }],
          b: [{ 'equals-ignore-case': 'x' }, { wildcard: 'a*b\\*c\\\\' }, { exists: true }, { exists: false }],
          c: [{ numeric: ['=', 1] }, { numeric: ['>=', 0, '<', 5] }, { numeric: ['<=', -1e9] }],
          d: [{ 'anything-but': 'x' }, { 'anything-but': 1 }, { 'anything-but': ['a', 'b'] }, { 'anything-but': [1, 2] }],
          e: [{ 'anything-but': { prefix: 'x' } }, { 'anything-but': { suffix: ['x', 'y'] } }],
          f: [{ 'anything-but': { 'equals-ignore-case': 'x' } }, { 'anything-but': { wildcard: ['*x*', 'y*'] } }],
          $or: [{ g: ['1'] }, { h: { i: ['2'] } }],
        },
      }),
    ).not.toThrow();
  });

  it.each([
    [{ detail: { lastStatus: 'STOPPED' } }, 'detail.lastStatus: must be an array of values to match or a nested pattern object, got string "STOPPED"'],
    [{ detail: { lastStatus: [] } }, 'detail.lastStatus: an empty array matches nothing and EventBridge rejects it'],
    [{ detail: { lastStatus: [{ prefx: 'STOP' }] } }, 'detail.lastStatus[0]: unknown content filter "prefx"'],
    [
      { detail: { lastStatus: ['RUNNING', { prefix: 'S', suffix: 'D' }] } },
      'detail.lastStatus[1]: a content filter takes exactly one operator, got prefix, suffix',
    ],
    [{ detail: { lastStatus: [{}] } }, 'detail.lastStatus[0]: a content filter takes exactly one operator, got none'],
    [{ detail: { lastStatus: [['STOPPED']] } }, 'detail.lastStatus: element 0 must be a string, number, boolean, null or content filter, got an array'],
    [{ detail: {} }, 'detail: empty objects are not allowed in a pattern'],
    [{ detail: { version: [{ numeric: ['>', '1'] }] } }, 'detail.version[0].numeric: the bound after ">" must be a number'],
    [{ detail: { version: [{ numeric: ['!=', 1] }] } }, 'detail.version[0].numeric: unknown numeric operator "!="'],
    [{ detail: { version: [{ numeric: ['<', 5, '>', 1] }] } }, 'detail.version[0].numeric: takes [operator, number] or [">"|">=", number, "<"|"<=", number]'],
    [{ detail: { version: [{ numeric: ['>', 5, '<', 1] }] } }, 'detail.version[0].numeric: the lower bound must be below the upper bound'],
    [{ detail: { version: [{ numeric: ['>', 1, '<'] }] } }, 'detail.version[0].numeric: takes [operator, number] or [">"|">=", number, "<"|"<=", number]'],
    [{ detail: { x: [{ exists: 'yes' }] } }, 'detail.x[0].exists: takes true or false'],
    [{ detail: { x: [{ prefix: 1 }] } }, 'detail.x[0].prefix: takes a string or {"equals-ignore-case": string}'],
    [{ detail: { x: [{ wildcard: 'a**b' }] } }, 'detail.x[0].wildcard: consecutive wildcard characters are not allowed'],
    [{ detail: { x: [{ wildcard: 'a\\b' }] } }, 'detail.x[0].wildcard: a backslash may only escape "*" or "\\"'],
    [{ detail: { x: [{ 'anything-but': ['a', 1] }] } }, 'detail.x[0].anything-but: a list must be non-empty and hold only strings or only numbers'],
    [{ detail: { x: [{ 'anything-but': { prefix: [] } }] } }, 'detail.x[0].anything-but.prefix: takes a string or a non-empty list of strings'],
    [
      { detail: { x: [{ 'anything-but': { exists: false } }] } },
      'detail.x[0].anything-but: takes a string, a number, a list, or one of {"prefix": ...}, {"suffix": ...}, {"equals-ignore-case": ...}, {"wildcard": ...}',
    ],
    [{ detail: { x: [{ 'anything-but': true }] } }, 'detail.x[0].anything-but: takes a string, a number, a list or a string filter, got boolean true'],
    [{ detail: { x: [{ cidr: '10.0.0.0/24' }] } }, 'detail.x[0].cidr: is valid EventBridge syntax, but this matcher does not implement it'],
    [{ $or: [{ a: ['1'] }] }, '$or: must be an array of at least two patterns'],
    [{ detail: { $or: [{ a: ['1'] }, { b: '2' }] } }, 'detail.$or[1].b: must be an array of values to match or a nested pattern object, got string "2"'],
    [['aws.ecs'], '(pattern): a pattern must be a JSON object, got an array'],
    [null, '(pattern): a pattern must be a JSON object, got null'],
    [{ detail: { x: undefined } }, 'detail.x: must be an array of values to match or a nested pattern object, got undefined'],
    [{ detail: { x: [Infinity] } }, 'detail.x: element 0 is not a finite number'],
    [{ detail: { x: [{ 'equals-ignore-case': 5 }] } }, 'detail.x[0].equals-ignore-case: takes a string'],
    [{ detail: { x: [{ wildcard: 5 }] } }, 'detail.x[0].wildcard: takes a string'],
    [{ detail: { x: [{ prefix: { 'equals-ignore-case': 5 } }] } }, 'detail.x[0].prefix: takes a string or {"equals-ignore-case": string}'],
    [{ detail: { x: [{ prefix: { 'equals-ignore-case': 'a', suffix: 'b' } }] } }, 'detail.x[0].prefix: takes a string or {"equals-ignore-case": string}'],
    [{ detail: { x: [{ prefix: ['a'] }] } }, 'detail.x[0].prefix: takes a string or {"equals-ignore-case": string}'],
    [{ detail: { version: [{ numeric: ['>', 1, '<', 1] }] } }, 'detail.version[0].numeric: the lower bound must be below the upper bound'],
    [{ detail: { version: [{ numeric: ['>', 1, '>', 10] }] } }, 'detail.version[0].numeric: takes [operator, number] or [">"|">=", number, "<"|"<=", number]'],
    [{ detail: { version: [{ numeric: ['>', Infinity] }] } }, 'detail.version[0].numeric: the bound after ">" must be a number'],
    [{ detail: { x: [{ 'anything-but': [] }] } }, 'detail.x[0].anything-but: a list must be non-empty and hold only strings or only numbers'],
    [{ detail: { x: [{ 'anything-but': [1, Infinity] }] } }, 'detail.x[0].anything-but: a list must be non-empty and hold only strings or only numbers'],
    [{ detail: { x: [{ 'anything-but': { prefix: ['a', 1] } }] } }, 'detail.x[0].anything-but.prefix: takes a string or a non-empty list of strings'],
    [
      { detail: { x: [{ 'anything-but': { prefix: 'a', suffix: 'b' } }] } },
      'detail.x[0].anything-but: takes a string, a number, a list, or one of {"prefix": ...}, {"suffix": ...}, {"equals-ignore-case": ...}, {"wildcard": ...}',
    ],
    [
      { detail: { x: [{ 'anything-but': { wildcard: ['ok*', 'a**b'] } }] } },
      'detail.x[0].anything-but.wildcard: consecutive wildcard characters are not allowed',
    ],
  ])('rejects %j', (pattern, message) => {
    expect(errorOf(pattern)).toBe(message);
  });

  it('rejects an anything-but of a number that is not finite', () => {
    expect(errorOf({ detail: { x: [{ 'anything-but': Infinity }] } })).toMatch(
      /^detail\.x\[0\]\.anything-but: takes a string, a number, a list or a string filter/,
    );
  });

  it('accepts an escaped asterisk right before a wildcard, and matches it literally', () => {
    const pattern = { detail: { price: [{ wildcard: 'price\\**' }] } };
    expect(() => assertValidPattern(pattern)).not.toThrow();
    expect(matchesPattern(pattern, { detail: { price: 'price*99' } })).toBe(true);
    expect(matchesPattern(pattern, { detail: { price: 'price99' } })).toBe(false);
  });

  it('prefixes the path it is given', () => {
    expect(errorOf({ detail: { lastStatus: 'STOPPED' } }, 'drain.events[2]')).toBe(
      'drain.events[2].detail.lastStatus: must be an array of values to match or a nested pattern object, got string "STOPPED"',
    );
  });

  it('throws at match time too when handed a pattern that skipped validation', () => {
    expect(() => matchesPattern({ detail: { lastStatus: [{ prefx: 'S' }] } }, event)).toThrow('"prefx"');
  });
});

// Real payloads: each pattern lists the full set of files it must select, so a new fixture
// that a pattern accidentally matches (or stops matching) fails here by name.
describe('realistic patterns against every real AWS payload', () => {
  const events = loadAwsEvents();
  const matching = (pattern: EventPattern): string[] => {
    assertValidPattern(pattern);
    return [...events].filter(([, payload]) => matchesPattern(pattern, payload)).map(([file]) => file);
  };

  it('has the fixtures this suite reasons about', () => {
    expect(events.size).toBeGreaterThanOrEqual(25);
  });

  it.each<[string, EventPattern, string[]]>([
    [
      'ECS tasks that stopped',
      { source: ['aws.ecs'], 'detail-type': ['ECS Task State Change'], detail: { lastStatus: ['STOPPED'] } },
      ['ecs-task-state-change-stopped-essential-exit-multicontainer.json', 'ecs-task-state-change-stopped-scaling-ec2-exit137.json'],
    ],
    [
      'ECS tasks that stopped on EC2 (the drain function cares about container instances)',
      {
        source: ['aws.ecs'],
        'detail-type': ['ECS Task State Change'],
        detail: { lastStatus: ['STOPPED'], containerInstanceArn: [{ exists: true }] },
      },
      ['ecs-task-state-change-stopped-scaling-ec2-exit137.json'],
    ],
    [
      'ECS tasks with a container that exited non-zero',
      { source: ['aws.ecs'], detail: { containers: { exitCode: [{ numeric: ['>', 0] }] } } },
      ['ecs-task-state-change-stopped-essential-exit-multicontainer.json', 'ecs-task-state-change-stopped-scaling-ec2-exit137.json'],
    ],
    [
      'ECS task state changes without a container instance (Fargate)',
      { source: ['aws.ecs'], 'detail-type': ['ECS Task State Change'], detail: { containerInstanceArn: [{ exists: false }] } },
      ['ecs-task-state-change-running-fargate-docs.json', 'ecs-task-state-change-stopped-essential-exit-multicontainer.json'],
    ],
    [
      'the Auto Scaling terminate lifecycle hook',
      { source: ['aws.autoscaling'], 'detail-type': ['EC2 Instance-terminate Lifecycle Action'] },
      ['asg-terminate-lifecycle-action-eventbridge-docs.json'],
    ],
    [
      'the Auto Scaling terminate lifecycle hook, by transition',
      { source: ['aws.autoscaling'], detail: { LifecycleTransition: ['autoscaling:EC2_INSTANCE_TERMINATING'] } },
      ['asg-terminate-lifecycle-action-eventbridge-docs.json'],
    ],
    ['scheduled rule ticks', { source: ['aws.events'], 'detail-type': ['Scheduled Event'] }, ['scheduled-event-rule-dotnet.json']],
    [
      'container instances whose agent disconnected',
      { source: ['aws.ecs'], 'detail-type': ['ECS Container Instance State Change'], detail: { agentConnected: [false] } },
      [],
    ],
    [
      'container instances whose agent is connected',
      { source: ['aws.ecs'], 'detail-type': ['ECS Container Instance State Change'], detail: { agentConnected: [true] } },
      ['ecs-container-instance-state-change-active-docs.json'],
    ],
    [
      'CloudWatch alarms entering ALARM (not the direct Lambda alarm action payload)',
      { source: ['aws.cloudwatch'], 'detail-type': ['CloudWatch Alarm State Change'], detail: { state: { value: ['ALARM'] } } },
      [
        'cloudwatch-alarm-state-change-anomaly-detection-docs.json',
        'cloudwatch-alarm-state-change-composite-docs.json',
        'cloudwatch-alarm-state-change-metric-math-docs.json',
        'cloudwatch-alarm-state-change-single-metric-docs.json',
      ],
    ],
    [
      'CloudWatch alarms entering ALARM from a state other than OK',
      {
        source: ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm State Change'],
        detail: { state: { value: ['ALARM'] }, previousState: { value: [{ 'anything-but': 'OK' }] } },
      },
      ['cloudwatch-alarm-state-change-metric-math-docs.json'],
    ],
    [
      'CloudWatch alarms on an EC2 metric, through the configuration.metrics array',
      {
        source: ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm State Change'],
        detail: { configuration: { metrics: { metricStat: { metric: { namespace: ['AWS/EC2'] } } } } },
      },
      [
        'cloudwatch-alarm-state-change-anomaly-detection-docs.json',
        'cloudwatch-alarm-state-change-metric-math-docs.json',
        'cloudwatch-alarm-state-change-single-metric-docs.json',
      ],
    ],
    [
      'ECS service actions that need attention',
      { source: ['aws.ecs'], 'detail-type': ['ECS Service Action'], detail: { eventType: ['WARN', 'ERROR'] } },
      [
        'ecs-service-action-placement-failure-ec2-cpu-docs.json',
        'ecs-service-action-placement-failure-fargate-spot-docs.json',
        'ecs-service-action-task-start-impaired-docs.json',
      ],
    ],
    [
      'the stopped-watch subscription, written with $or',
      {
        source: ['aws.ecs'],
        $or: [
          { 'detail-type': ['ECS Task State Change'], detail: { lastStatus: ['STOPPED'] } },
          { 'detail-type': ['ECS Service Action'], detail: { eventName: [{ suffix: '_FAILURE' }] } },
          { 'detail-type': ['ECS Container Instance State Change'] },
        ],
      },
      [
        'ecs-container-instance-state-change-active-docs.json',
        'ecs-service-action-placement-failure-ec2-cpu-docs.json',
        'ecs-service-action-placement-failure-fargate-spot-docs.json',
        'ecs-task-state-change-stopped-essential-exit-multicontainer.json',
        'ecs-task-state-change-stopped-scaling-ec2-exit137.json',
      ],
    ],
    [
      'EC2 instance interruption signals',
      {
        source: ['aws.ec2'],
        'detail-type': [{ wildcard: 'EC2 * Interruption Warning' }, 'EC2 Instance Rebalance Recommendation'],
      },
      ['ec2-rebalance-recommendation-docs.json', 'ec2-spot-interruption-warning-docs.json'],
    ],
    ['events from anywhere but AWS (a payload without source does not count)', { source: [{ 'anything-but': { prefix: 'aws.' } }] }, []],
    [
      'ECS resources by ARN prefix, in the resources array',
      { resources: [{ prefix: 'arn:aws:ecs:us-west-2:' }], detail: { eventType: ['ERROR'] } },
      [
        'ecs-deployment-failed-docs.json',
        'ecs-service-action-placement-failure-ec2-cpu-docs.json',
        'ecs-service-action-placement-failure-fargate-spot-docs.json',
      ],
    ],
  ])('%s', (_name, pattern, expected) => {
    expect(matching(pattern)).toEqual([...expected].sort());
  });
});

describe('wildcards with several stars and arrays of arrays', () => {
  const wild = (pattern: string, value: string) => matchesPattern({ detail: { x: [{ wildcard: pattern }] } }, { detail: { x: value } });

  it('a middle piece may not overlap the last one', () => {
    expect(wild('a*bc*c', 'abc')).toBe(false);
    expect(wild('a*bc*c', 'abcc')).toBe(true);
  });

  it('a middle piece may start the value when the pattern starts with a star', () => {
    expect(wild('*ab*', 'abx')).toBe(true);
  });

  it('two middle pieces need two places', () => {
    expect(wild('*ab*ab*', 'xaby')).toBe(false);
    expect(wild('*ab*ab*', 'abab')).toBe(true);
  });

  it('finds objects inside nested arrays, and skips the nulls and scalars around them', () => {
    expect(matchesPattern({ detail: { tags: { key: ['env'] } } }, { detail: { tags: [null, 'x', [{ key: 'env' }]] } })).toBe(true);
    expect(matchesPattern({ detail: { tags: { key: ['env'] } } }, { detail: { tags: [null, 'x', [{ key: 'prod' }]] } })).toBe(false);
  });

  it('an array of scalars has no fields below it: only exists false matches there', () => {
    expect(matchesPattern({ detail: { tags: { key: [{ exists: false }] } } }, { detail: { tags: ['a', 'b'] } })).toBe(true);
    expect(matchesPattern({ detail: { tags: { key: [{ exists: true }] } } }, { detail: { tags: ['a', 'b'] } })).toBe(false);
    expect(matchesPattern({ detail: { tags: { key: [{ exists: false }] } } }, { detail: { tags: [{ key: 'env' }] } })).toBe(false);
  });
});

describe('string filters against numbers, numeric bounds, and literal text in filters', () => {
  it('anything-but a prefix excludes strings only: a number is never excluded by it', () => {
    const pattern = { detail: { exitCode: [{ 'anything-but': { prefix: '4' } }] } };
    expect(matchesPattern(pattern, { detail: { exitCode: 42 } })).toBe(true);
    expect(matchesPattern(pattern, { detail: { exitCode: '42' } })).toBe(false);
  });

  it('numeric >= includes its bound and nothing below it', () => {
    const pattern = { detail: { runningTasksCount: [{ numeric: ['>=', 10] }] } };
    expect(matchesPattern(pattern, { detail: { runningTasksCount: 9 } })).toBe(false);
    expect(matchesPattern(pattern, { detail: { runningTasksCount: 10 } })).toBe(true);
  });

  it('throws at match time on a numeric operator that skipped validation', () => {
    expect(() => matchesPattern({ detail: { x: [{ numeric: ['!=', 10] }] } }, { detail: { x: 10 } })).toThrow('event pattern uses the numeric operator "!="');
  });

  it('only wildcard gives backslash and star a meaning: other string filters take any text', () => {
    expect(() => assertValidPattern({ detail: { path: [{ 'equals-ignore-case': 'C:\\Temp\\**' }] } })).not.toThrow();
    expect(() =>
      assertValidPattern({ detail: { path: [{ 'anything-but': { prefix: 'C:\\Temp' } }, { 'anything-but': { 'equals-ignore-case': ['a**b'] } }] } }),
    ).not.toThrow();
    expect(matchesPattern({ detail: { path: [{ 'equals-ignore-case': 'C:\\Temp' }] } }, { detail: { path: 'c:\\temp' } })).toBe(true);
  });
});
