import type { CaretakerConfig } from '../../functions/shared/config.ts';
import { stackPrefix } from '../../functions/shared/function-ids.ts';
import type { Statement } from '../iam.ts';
import type { FunctionId } from './ids.ts';
import type { Resources } from '../resources.ts';

/** What serverless.ts knows when it asks each function for its definition. */
export interface DeployContext {
  config: CaretakerConfig;
  stage: string;
  /** `<service>-<stage>`, the prefix of every resource name */
  prefix: string;
  tableName: string;
}

/** Where a stage of the configuration deploys: `<service>-<stage>` prefixes every resource name, and the table is `<prefix>-state`. */
export function deployContext(config: CaretakerConfig, stage: string): DeployContext {
  const prefix = stackPrefix(config.service, stage);
  return { config, stage, prefix, tableName: `${prefix}-state` };
}

/**
 * One Lambda function as infra/ describes it. serverless.ts adds the parts
 * every function has: its own role (logs, traces, DLQ plus `statements`), its
 * DLQ with an alarm, the on-failure destination, TABLE_NAME and the service name.
 */
export interface FunctionSpec {
  /** the function's folder under functions/, e.g. `task-lock`; its osls key is derived from it (ids.ts) */
  id: FunctionId;
  /** osls function definition without name/role (handler, events, environment, timeout, ...) */
  definition: Record<string, unknown> & { environment?: Record<string, unknown>; events?: unknown[] };
  statements: Statement[];
  /** extra CloudFormation resources this function needs */
  resources?: Resources;
  /** extra services that may assume the function's role */
  extraTrust?: string[];
}

/** EventBridge retries a failed delivery to a target for up to 24 h by default; one hour is plenty for a Lambda target. */
export const ruleRetryPolicy = { maximumEventAge: 3600, maximumRetryAttempts: 10 };
