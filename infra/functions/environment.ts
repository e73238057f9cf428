/**
 * The one builder of a function's Lambda environment. serverless.ts deploys
 * it; the demo, the E2E suite and the benchmark run the bundles with it,
 * CloudFormation references resolved as the stack would resolve them.
 */
import { METRICS_NAMESPACE } from '../../functions/shared/metric-names.ts';
import { functionKey } from './ids.ts';
import type { FunctionSpec } from './types.ts';

/** What every function gets from the provider section of serverless.ts. */
export const PROVIDER_ENVIRONMENT = {
  POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
  POWERTOOLS_LOG_LEVEL: 'INFO',
};

/** The function's own environment in the template: TABLE_NAME, its service name (its osls key), then the variables infra/functions gives it. */
export function functionEnvironment(spec: FunctionSpec, tableName: unknown): Record<string, unknown> {
  return { TABLE_NAME: tableName, POWERTOOLS_SERVICE_NAME: functionKey(spec.id), ...spec.definition.environment };
}

/** A CloudFormation value in an environment variable, as the stack would resolve it. */
function resolveValue(spec: FunctionSpec, name: string, value: unknown): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  const ref = (value as { Ref?: string } | null)?.Ref;
  // Ref of an AWS::SSM::Document is its name (CloudFormation, AWS::SSM::Document return values).
  const resourceName = ref ? (spec.resources?.[ref] as { Properties?: { Name?: unknown } } | undefined)?.Properties?.Name : undefined;
  if (typeof resourceName === 'string') return resourceName;
  throw new Error(`cannot resolve ${spec.id}'s environment variable ${name} without a deployment: ${JSON.stringify(value)}`);
}

/**
 * The environment the deployed function runs with: the provider's variables,
 * then its own, references resolved; `runtime` (log level, tracing, ...) is
 * laid over them by whoever runs the bundle.
 */
export function lambdaEnvironment(spec: FunctionSpec, tableName: string, runtime: Record<string, string> = {}): Record<string, string> {
  const own = Object.entries(functionEnvironment(spec, tableName)).map(([name, value]) => [name, resolveValue(spec, name, value)]);
  return { ...PROVIDER_ENVIRONMENT, ...Object.fromEntries(own), ...runtime };
}
