/**
 * The one spelling of each function: its id is its folder under functions/
 * (`task-lock`). Every other spelling is derived from the id, never written
 * out: the osls function key `taskLock` (which also makes the deployed name
 * `<service>-<stage>-taskLock` and POWERTOOLS_SERVICE_NAME). It lives here,
 * not in infra/, because the command line (redrive) names deployed functions
 * too; infra/functions/ids.ts adds the CloudFormation spellings.
 */
export const FUNCTION_IDS = ['task-lock', 'drain', 'stopped-watch', 'cleanup', 'audit'] as const;

export type FunctionId = (typeof FUNCTION_IDS)[number];

type CamelCase<S extends string> = S extends `${infer Head}-${infer Tail}` ? `${Head}${Capitalize<CamelCase<Tail>>}` : S;

/** The osls function key, e.g. `taskLock`. */
export type FunctionKey = CamelCase<FunctionId>;

export const functionKey = <I extends FunctionId>(id: I): CamelCase<I> => id.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase()) as CamelCase<I>;

/** `<service>-<stage>`, the prefix of every resource name of a deployment. */
export const stackPrefix = (service: string, stage: string): string => `${service}-${stage}`;

/** The deployed function name, `<service>-<stage>-<key>`. */
export const functionName = (prefix: string, id: FunctionId): string => `${prefix}-${functionKey(id)}`;
