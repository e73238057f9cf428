/**
 * The SSM Command document that runs infra/ssm/docker-cleanup.sh on ECS
 * container instances, as an `AWS::SSM::Document` CloudFormation resource.
 *
 * The script stays a real file (linted by shellcheck, run by the tests) and is
 * embedded whole in `runCommand`. Schema 2.2, one `aws:runShellScript` step:
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/documents-schemas-features.html
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/documents-syntax-data-elements-parameters.html
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CLEANUP_MIN_TIMEOUT_SECONDS, cleanupDeadlineSeconds } from '../functions/cleanup/deadline.ts';
import { cleanupDocumentParameters, type CleanupDocumentParameterName } from '../functions/cleanup/document-contract.ts';

export const CLEANUP_SCRIPT_PATH = fileURLToPath(new URL('./ssm/docker-cleanup.sh', import.meta.url));

export const PARAMETER_ENV: Record<CleanupDocumentParameterName, string> = {
  DryRun: 'CC_DRY_RUN',
  Scope: 'CC_SCOPE',
  DeadlineSeconds: 'CC_DEADLINE_SECONDS',
  GraceSeconds: 'CC_GRACE_SECONDS',
  Fstrim: 'CC_FSTRIM',
  MinFreePercent: 'CC_MIN_FREE_PERCENT',
};

/** Must never appear as a line of the script, or the heredoc would end early. */
export const SCRIPT_HEREDOC_DELIMITER = 'ECS_CARETAKER_CLEANUP_SCRIPT_END';

export function readCleanupScript(): string {
  return readFileSync(CLEANUP_SCRIPT_PATH, 'utf8');
}

export interface CleanupDocumentOptions {
  /** Run Command step timeout; the script's fstrim budget is a third of it. Default 600. */
  timeoutSeconds?: number;
}

export function cleanupDocumentContent(opts: CleanupDocumentOptions = {}) {
  const timeoutSeconds = opts.timeoutSeconds ?? 600;
  // 172800 s (48 h) is the Run Command maximum execution timeout.
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < CLEANUP_MIN_TIMEOUT_SECONDS || timeoutSeconds > 172_800) {
    throw new Error(`cleanupDocumentResource: timeoutSeconds must be an integer from ${CLEANUP_MIN_TIMEOUT_SECONDS} to 172800, got ${timeoutSeconds}`);
  }
  const script = readCleanupScript();
  // SSM would read a double brace as a parameter reference and break the document.
  if (script.includes('{{')) throw new Error(`${CLEANUP_SCRIPT_PATH} contains "{{", which SSM takes for a parameter reference`);
  const scriptLines = script.replace(/\n$/, '').split('\n');
  if (scriptLines.some((line) => line.trim() === SCRIPT_HEREDOC_DELIMITER)) {
    throw new Error(`${CLEANUP_SCRIPT_PATH} contains the line ${SCRIPT_HEREDOC_DELIMITER}`);
  }
  // Leave the script time to print its report before Run Command kills it.
  const fstrimBudget = Math.min(300, Math.floor(timeoutSeconds / 3));

  // Run Command may hand the lines to sh rather than bash, so the wrapper is
  // plain POSIX sh. The script goes to a file, not to `bash -s`: a command in
  // the script that reads stdin would otherwise eat the rest of the script.
  // The file is read by bash, never executed, so a noexec /tmp is no obstacle.
  const runCommand = [
    '#!/bin/sh',
    ...Object.entries(PARAMETER_ENV).map(([name, env]) => `export ${env}='{{ ${name} }}'`),
    `export CC_FSTRIM_BUDGET='${fstrimBudget}'`,
    'cc_script=$(mktemp "${TMPDIR:-/tmp}/ecs-caretaker-cleanup.XXXXXX") || { echo \'{"v":1,"exitCode":1,"status":"internal-error","errors":["mktemp failed"]}\'; exit 1; }',
    // The copy goes on every exit path of this wrapper, a signal included.
    'trap \'rm -f "$cc_script"\' EXIT',
    "trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM",
    `cat > "$cc_script" <<'${SCRIPT_HEREDOC_DELIMITER}'`,
    ...scriptLines,
    SCRIPT_HEREDOC_DELIMITER,
    'bash "$cc_script"',
    'cc_status=$?',
    'rm -f "$cc_script"',
    'exit "$cc_status"',
  ];

  return {
    schemaVersion: '2.2',
    description:
      'ecs-caretaker: remove exited/dead containers that the ECS agent no longer tracks and dangling anonymous volumes, ' +
      'fstrim devicemapper thin devices, and print one JSON report line. Exit codes: 0 ok, 2 bad parameter, ' +
      '10 Docker unresponsive, 11 ECS agent introspection unavailable, 12 cleanup errors, 13 still low on space, 14 another run in progress, ' +
      '15 deadline reached, 16 free space not measurable.',
    parameters: {
      ...cleanupDocumentParameters,
      DeadlineSeconds: { ...cleanupDocumentParameters.DeadlineSeconds, default: String(cleanupDeadlineSeconds(timeoutSeconds)) },
    },
    mainSteps: [
      {
        action: 'aws:runShellScript',
        name: 'dockerCleanup',
        precondition: { StringEquals: ['platformType', 'Linux'] },
        inputs: {
          timeoutSeconds: String(timeoutSeconds),
          runCommand,
        },
      },
    ],
  };
}

export function cleanupDocumentResource(opts: CleanupDocumentOptions = {}) {
  return {
    Type: 'AWS::SSM::Document' as const,
    Properties: {
      DocumentType: 'Command',
      DocumentFormat: 'JSON',
      TargetType: '/AWS::EC2::Instance',
      Content: cleanupDocumentContent(opts),
    },
  };
}
