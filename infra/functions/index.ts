import { auditFunction } from './audit.ts';
import { cleanupFunction } from './cleanup.ts';
import { drainFunction } from './drain.ts';
import { stoppedWatchFunction } from './stopped-watch.ts';
import { taskLockFunction } from './task-lock.ts';
import type { DeployContext, FunctionSpec } from './types.ts';

/**
 * Every function to deploy for this configuration. A function with nothing to
 * look after (no ASG to drain, say) returns undefined and is left out.
 */
export function functionSpecs(context: DeployContext): FunctionSpec[] {
  return [taskLockFunction(context), drainFunction(context), stoppedWatchFunction(context), cleanupFunction(context), auditFunction(context)].filter(
    (spec): spec is FunctionSpec => spec !== undefined,
  );
}
