/**
 * The document's allowedPattern and docker-cleanup.sh accept exactly the same
 * values: both are fed one list of hostile values. SSM does not say which
 * regex engine checks allowedPattern; with Java's, `$` also matches before a
 * final line terminator (java.util.regex.Pattern, "Line terminators"), so
 * each value is checked under JavaScript's `$` and under Java's.
 */
import { describe, expect, it } from 'vitest';
import { CLEANUP_DEADLINE_MARGIN_SECONDS, cleanupDeadlineSeconds } from '../../functions/cleanup/deadline.ts';
import { documentParameters } from '../../functions/cleanup/plan.ts';
import { cleanupSchema } from '../../functions/shared/config.ts';
import { CLEANUP_EXIT_CODES as EXIT, cleanupDocumentParameters, type CleanupDocumentParameterName } from '../../functions/cleanup/document-contract.ts';
import { PARAMETER_ENV } from '../../infra/ssm-document.ts';
import { runCleanupScript } from './harness.ts';

/** Java's `$` (no MULTILINE): the end of input, or before a line terminator that ends it. */
function javaLike(pattern: string): RegExp {
  return new RegExp(pattern.replace(/\$(?=\(\?!|$)/g, '(?=(?:\\r\\n|[\\n\\r\\u0085\\u2028\\u2029])?$)'));
}

const names = Object.keys(cleanupDocumentParameters) as CleanupDocumentParameterName[];

const everywhere = ['', ' ', '\n', '\t', ';', "'", '"', '\\', '$(reboot)', '`reboot`', '{{ DryRun }}', '&& reboot', 'x'.repeat(300), '\u2028'];
const values: Record<CleanupDocumentParameterName, { ok: string[]; bad: string[] }> = {
  DryRun: { ok: ['true', 'false'], bad: ['TRUE', 'yes', '1', 'true\n', 'true\r\n', 'true\r', 'true\u2028', 'true\u0085', '\ntrue', 'true ', 'false; reboot'] },
  Scope: { ok: ['ecs', 'all'], bad: ['ECS', 'any', 'ecs\n', 'all\r\n', 'ecs;reboot', 'all\u2029'] },
  DeadlineSeconds: {
    ok: ['30', '90', '570', '3570', '86400'],
    bad: ['29', '0', '030', '86401', '570\n', '570\r\n', '+60', '60.0', '1e3', '\u0663\u0660', '0x40'],
  },
  GraceSeconds: { ok: ['0', '1', '3600', '2592000'], bad: ['00', '0600', '2592001', '3600\n', '-1', '3600 ', '1h'] },
  Fstrim: { ok: ['auto', 'off', 'force'], bad: ['on', 'auto\n', 'AUTO', 'force\r'] },
  MinFreePercent: { ok: ['0', '9', '10', '99'], bad: ['07', '100', '10\n', '10%', '-1'] },
};

describe('allowedPattern and the script agree', () => {
  it('a plain `$` would let "true\\n" through under Java semantics (the gap the lookahead closes)', () => {
    expect(javaLike('^(true|false)$').test('true\n')).toBe(true);
    expect(javaLike(cleanupDocumentParameters.DryRun.allowedPattern).test('true\n')).toBe(false);
  });

  for (const name of names) {
    it(`${name}: the same verdict from the pattern (JavaScript and Java) and from the script`, async () => {
      const { allowedPattern } = cleanupDocumentParameters[name];
      const list = [...values[name].ok.map((v) => [v, true] as const), ...[...values[name].bad, ...everywhere].map((v) => [v, false] as const)];
      for (const [value, expected] of list) {
        const shown = JSON.stringify(value);
        expect(new RegExp(allowedPattern).test(value), `pattern ${shown}`).toBe(expected);
        expect(javaLike(allowedPattern).test(value), `java pattern ${shown}`).toBe(expected);
        // Docker is down: an accepted value ends at the first docker call (10), a refused one before it (2).
        const run = await runCleanupScript({ docker: { down: true } }, { [PARAMETER_ENV[name]]: value });
        expect(run.code, `script ${shown}: ${run.stdout}`).toBe(expected ? EXIT.dockerUnresponsive : EXIT.usage);
      }
    }, 120_000);
  }
});

describe('DeadlineSeconds from the step timeout', () => {
  it('is the timeout less the margin, and what the Lambda sends matches the pattern', () => {
    expect(CLEANUP_DEADLINE_MARGIN_SECONDS).toBe(30);
    const shortest = cleanupSchema.parse({ timeoutSeconds: 120, scope: 'all' });
    const params = documentParameters(shortest, false);
    expect(params.DeadlineSeconds).toEqual(['90']);
    expect(params.Scope).toEqual(['all']);
    expect(documentParameters(cleanupSchema.parse({}), true)).toMatchObject({ DeadlineSeconds: ['570'], Scope: ['ecs'], DryRun: ['true'] });
    for (const timeout of [120, 600, 3600]) {
      const p = documentParameters(cleanupSchema.parse({ timeoutSeconds: timeout }), false);
      for (const name of names) expect(new RegExp(cleanupDocumentParameters[name].allowedPattern).test(p[name][0]!), `${name}=${p[name][0]}`).toBe(true);
    }
    expect(() => cleanupDeadlineSeconds(119)).toThrow(/at least 120/);
  });

  it('the configuration refuses a step timeout too short to leave the script a useful deadline', () => {
    expect(cleanupSchema.safeParse({ timeoutSeconds: 60 }).success).toBe(false);
    expect(cleanupSchema.safeParse({ timeoutSeconds: 119 }).success).toBe(false);
    expect(cleanupSchema.safeParse({ timeoutSeconds: 120 }).success).toBe(true);
  });
});
