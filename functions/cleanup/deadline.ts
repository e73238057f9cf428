import { CLEANUP_MIN_TIMEOUT_SECONDS } from '../shared/config.ts';

/**
 * How long docker-cleanup.sh may run, from the document step's timeoutSeconds.
 *
 * Run Command ends a step that outlives its timeoutSeconds by killing it, and
 * a killed script prints no report (aws:runShellScript "timeoutSeconds",
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/documents-command-ssm-plugin-reference.html).
 * The script therefore gets a deadline of its own, DeadlineSeconds, a margin
 * before that: at its deadline it kills the work in flight (each call's
 * `timeout -k 2`, then half a second for the process group) and prints its
 * report, which takes seconds; 30 leave room for a loaded host and for the
 * agent starting the step.
 */
export const CLEANUP_DEADLINE_MARGIN_SECONDS = 30;

// The shortest step timeout lives with the configuration that enforces it.
export { CLEANUP_MIN_TIMEOUT_SECONDS };

/** DeadlineSeconds for a step timeout: what the document defaults to and what the Lambda sends. */
export function cleanupDeadlineSeconds(timeoutSeconds: number): number {
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < CLEANUP_MIN_TIMEOUT_SECONDS) {
    throw new Error(`cleanup timeoutSeconds must be an integer of at least ${CLEANUP_MIN_TIMEOUT_SECONDS}, got ${timeoutSeconds}`);
  }
  // The script accepts 30..86400 (its DeadlineSeconds allowedPattern).
  return Math.min(86_400, timeoutSeconds - CLEANUP_DEADLINE_MARGIN_SECONDS);
}
