/**
 * The AWS::SSM::Document built around docker-cleanup.sh: its shape, its
 * parameters' allowedPattern, and the rendered runCommand run for real.
 */
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cleanupSchema } from '../../functions/shared/config.ts';
import { CLEANUP_EXIT_CODES, cleanupDocumentParameters, type CleanupDocumentParameterName } from '../../functions/cleanup/document-contract.ts';
import { CLEANUP_SCRIPT_PATH, SCRIPT_HEREDOC_DELIMITER, cleanupDocumentResource, readCleanupScript } from '../../infra/ssm-document.ts';
import { dockerCalls, hexId, runCleanupScript, secondsAgo } from './harness.ts';

const resource = cleanupDocumentResource({});
const content = resource.Properties.Content;
const step = content.mainSteps[0]!;
const runCommand = step.inputs.runCommand;
const names = Object.keys(cleanupDocumentParameters) as CleanupDocumentParameterName[];
const pattern = (name: CleanupDocumentParameterName) => new RegExp(cleanupDocumentParameters[name].allowedPattern);

/** What SSM does before the agent sees the lines: substitute `{{ Name }}`. */
function render(values: Partial<Record<CleanupDocumentParameterName, string>> = {}): string {
  return runCommand
    .map((line) =>
      line.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name: CleanupDocumentParameterName) => {
        const value = values[name] ?? cleanupDocumentParameters[name].default;
        if (!pattern(name).test(value)) throw new Error(`SSM would reject ${name}=${JSON.stringify(value)}`);
        return value;
      }),
    )
    .join('\n');
}

describe('cleanup SSM document', () => {
  it('is a Command document, schema 2.2, with one aws:runShellScript step', () => {
    expect(resource.Type).toBe('AWS::SSM::Document');
    expect(resource.Properties).toMatchObject({ DocumentType: 'Command', DocumentFormat: 'JSON', TargetType: '/AWS::EC2::Instance' });
    expect(content.schemaVersion).toBe('2.2');
    expect(content.mainSteps).toHaveLength(1);
    expect(step.action).toBe('aws:runShellScript');
    expect(step.precondition).toEqual({ StringEquals: ['platformType', 'Linux'] });
    expect(step.inputs.timeoutSeconds).toBe('600');
    expect(Array.isArray(runCommand)).toBe(true);
  });

  it('takes its timeout from the options and keeps the fstrim budget inside it', () => {
    const custom = cleanupDocumentResource({ timeoutSeconds: 900 }).Properties.Content.mainSteps[0]!.inputs;
    expect(custom.timeoutSeconds).toBe('900');
    expect(custom.runCommand).toContain("export CC_FSTRIM_BUDGET='300'");
    const short = cleanupDocumentResource({ timeoutSeconds: 120 }).Properties.Content.mainSteps[0]!.inputs;
    expect(short.runCommand).toContain("export CC_FSTRIM_BUDGET='40'");
    for (const bad of [0, 59, 60, 119, 172_801, 1.5, Number.NaN]) {
      expect(() => cleanupDocumentResource({ timeoutSeconds: bad })).toThrow(/timeoutSeconds/);
    }
  });

  it('declares DryRun, Scope, DeadlineSeconds, GraceSeconds, Fstrim and MinFreePercent, each a String with an allowedPattern its default matches', () => {
    expect(Object.keys(content.parameters).sort()).toEqual(['DeadlineSeconds', 'DryRun', 'Fstrim', 'GraceSeconds', 'MinFreePercent', 'Scope']);
    for (const name of names) {
      const p = cleanupDocumentParameters[name];
      expect(p.type).toBe('String');
      // Anchored at both ends, with no room for a final newline after `$`.
      expect(p.allowedPattern).toMatch(/^\^.*\$\(\?!\[\\s\\S\]\)$/);
      expect(pattern(name).test(p.default), name).toBe(true);
      expect(p.description.length).toBeGreaterThan(10);
    }
  });

  it('has the same defaults as config.cleanup', () => {
    const defaults = cleanupSchema.parse({});
    expect(cleanupDocumentParameters.DryRun.default).toBe(String(defaults.dryRun));
    expect(cleanupDocumentParameters.GraceSeconds.default).toBe(String(defaults.graceSeconds));
    expect(cleanupDocumentParameters.Fstrim.default).toBe(defaults.fstrim);
    expect(cleanupDocumentParameters.MinFreePercent.default).toBe(String(defaults.minFreePercent));
    expect(cleanupDocumentParameters.Scope.default).toBe(defaults.scope);
  });

  it('defaults DeadlineSeconds to the step timeout less the margin', () => {
    expect(content.parameters.DeadlineSeconds.default).toBe('570');
    const custom = cleanupDocumentResource({ timeoutSeconds: 120 }).Properties.Content;
    expect(custom.parameters.DeadlineSeconds.default).toBe('90');
    expect(cleanupSchema.safeParse({ timeoutSeconds: 119 }).success).toBe(false);
    expect(cleanupSchema.safeParse({ timeoutSeconds: 120 }).success).toBe(true);
  });

  const accepted: Record<CleanupDocumentParameterName, string[]> = {
    DryRun: ['true', 'false'],
    Scope: ['ecs', 'all'],
    DeadlineSeconds: ['30', '39', '40', '99', '100', '570', '999', '1000', '9999', '10000', '79999', '80000', '85999', '86000', '86399', '86400'],
    GraceSeconds: [
      '0',
      '1',
      '59',
      '3600',
      '86400',
      '999999',
      '1000000',
      '1999999',
      '2000000',
      '2499999',
      '2500000',
      '2589999',
      '2590000',
      '2591999',
      '2592000',
    ],
    Fstrim: ['auto', 'off', 'force'],
    MinFreePercent: ['0', '5', '10', '99'],
  };
  const injections = [
    'true; rm -rf /',
    "false' ; rm -rf / ; '",
    '$(reboot)',
    '`reboot`',
    'true\nrm -rf /',
    'auto && curl evil',
    "'",
    '"',
    '\\',
    '{{ DryRun }}',
    '',
    ' ',
  ];
  const rejected: Record<CleanupDocumentParameterName, string[]> = {
    DryRun: ['TRUE', 'yes', '1', 'true ', ' false', 'true\n'],
    Scope: ['ECS', 'any', 'ecs\n', 'al'],
    DeadlineSeconds: ['0', '29', '030', '86401', '100000', '3600\n'],
    GraceSeconds: ['-1', '2592001', '2600000', '3000000', '99999999', '1h', '1e3', '0x10', '3600\n', '36 00', '0600', '00'],
    Fstrim: ['on', 'AUTO', 'auto\n', 'forced'],
    MinFreePercent: ['100', '-1', '10%', '1.5', '10\n', '07'],
  };

  for (const name of names) {
    it(`${name}: allowedPattern accepts the valid range and rejects injection`, () => {
      for (const value of accepted[name]) expect(pattern(name).test(value), JSON.stringify(value)).toBe(true);
      for (const value of [...rejected[name], ...injections]) expect(pattern(name).test(value), JSON.stringify(value)).toBe(false);
    });
  }

  it('agrees with the config ranges: every GraceSeconds pattern match is 0..2592000', () => {
    for (let v = 0; v <= 2_600_000; v += 997) {
      expect(pattern('GraceSeconds').test(String(v)), String(v)).toBe(v <= 2_592_000);
    }
    for (let v = 0; v <= 120; v++) expect(pattern('MinFreePercent').test(String(v)), String(v)).toBe(v <= 99);
    for (let v = 0; v <= 90_000; v += v < 200 ? 1 : 37) expect(pattern('DeadlineSeconds').test(String(v)), String(v)).toBe(v >= 30 && v <= 86_400);
  });

  it('embeds the whole script, line for line, between the heredoc markers', () => {
    const script = readCleanupScript();
    expect(script).toBe(readFileSync(CLEANUP_SCRIPT_PATH, 'utf8'));
    const lines = script.replace(/\n$/, '').split('\n');
    const start = runCommand.indexOf(`cat > "$cc_script" <<'${SCRIPT_HEREDOC_DELIMITER}'`);
    expect(start).toBeGreaterThan(0);
    expect(runCommand.slice(start + 1, start + 1 + lines.length)).toEqual(lines);
    expect(runCommand[start + 1 + lines.length]).toBe(SCRIPT_HEREDOC_DELIMITER);
    expect(lines.filter((l) => l.trim() === SCRIPT_HEREDOC_DELIMITER)).toEqual([]);
  });

  it('passes each parameter to the script in single quotes, and has no other double brace', () => {
    for (const [name, env] of [
      ['DryRun', 'CC_DRY_RUN'],
      ['Scope', 'CC_SCOPE'],
      ['DeadlineSeconds', 'CC_DEADLINE_SECONDS'],
      ['GraceSeconds', 'CC_GRACE_SECONDS'],
      ['Fstrim', 'CC_FSTRIM'],
      ['MinFreePercent', 'CC_MIN_FREE_PERCENT'],
    ]) {
      expect(runCommand).toContain(`export ${env}='{{ ${name} }}'`);
    }
    const json = JSON.stringify(content);
    const references = [...json.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]);
    expect(references.sort()).toEqual([...names].sort());
    expect(json.split('{{').length - 1).toBe(names.length);
    expect(readCleanupScript()).not.toContain('{{');
  });

  it('fits the 64 KB SSM document size quota with room to spare', () => {
    // https://docs.aws.amazon.com/systems-manager/latest/userguide/documents-creating-content.html
    // 56 KB: the deadline, the label and mount parsing and the introspection
    // checks (jq and python3) grew the script; 8 KB stay free.
    expect(Buffer.byteLength(JSON.stringify(content))).toBeLessThan(56 * 1024);
  });

  it('mentions every exit code in its description', () => {
    for (const code of Object.values(CLEANUP_EXIT_CODES).filter((c) => c !== 1)) {
      expect(content.description).toMatch(new RegExp(`\\b${code} `));
    }
  });
});

describe('cleanup SSM document, rendered as SSM would and run with sh', () => {
  const labels = {
    'com.amazonaws.ecs.task-arn': 'arn:aws:ecs:eu-west-1:123456789012:task/demo/0a1b2c3d4e5f46a7b8c9d0e1f2a3b4c5',
    'com.amazonaws.ecs.container-name': 'web',
    'com.amazonaws.ecs.cluster': 'demo',
  };
  const old = { id: hexId(1), name: 'old', state: 'exited' as const, finishedAt: secondsAgo(2 * 86_400), labels };
  const recent = { id: hexId(2), name: 'recent', state: 'exited' as const, finishedAt: secondsAgo(600), labels };

  it('runs the embedded script with the defaults', async () => {
    const run = await runCleanupScript({ containers: [old, recent] }, {}, { scriptText: render(), shell: 'sh', keepDir: true });
    try {
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout.split('\n')).toHaveLength(2);
      expect(run.report).toMatchObject({ dryRun: false, minFreePercent: 10, status: 'ok' });
      expect(dockerCalls(run, 'rm').map((c) => c.args)).toEqual([['rm', hexId(1)]]);
      // The temporary copy of the script is gone.
      expect(readdirSync(run.dir).filter((f) => f.startsWith('ecs-caretaker-cleanup.'))).toEqual([]);
    } finally {
      rmSync(run.dir, { recursive: true, force: true });
    }
  });

  it('hands the parameter values to the script', async () => {
    const run = await runCleanupScript(
      { containers: [old, recent] },
      {},
      { scriptText: render({ DryRun: 'true', GraceSeconds: '0', MinFreePercent: '0', Fstrim: 'off' }), shell: 'sh' },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.report).toMatchObject({ dryRun: true, minFreePercent: 0, containers: { wouldRemove: 2, removed: 0 } });
    expect(dockerCalls(run, 'rm')).toEqual([]);
  });

  it('a value that got past the pattern still cannot leave its quotes, and the script rejects it', async () => {
    // Java-style `$` also matches before a final newline; were SSM to accept
    // "true\n", the value would stay inside the quotes and fail validation.
    const text = runCommand
      .join('\n')
      .replace('{{ DryRun }}', 'true\n')
      .replace(/\{\{\s*(\w+)\s*\}\}/g, (_, n: CleanupDocumentParameterName) => cleanupDocumentParameters[n].default);
    const run = await runCleanupScript({ containers: [old] }, {}, { scriptText: text, shell: 'sh' });
    expect(run.code).toBe(CLEANUP_EXIT_CODES.usage);
    expect(run.calls).toEqual([]);
  });

  it('SSM refuses a quote-breaking value before it reaches the instance', () => {
    expect(() => render({ DryRun: "true'; reboot; '" })).toThrow(/SSM would reject/);
  });
});
