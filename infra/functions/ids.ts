/**
 * The one spelling of each function: its id is its folder under functions/
 * (`task-lock`). Every other spelling is derived here from the id, never
 * written out: the osls function key `taskLock` (which also makes the
 * deployed name `<service>-<stage>-taskLock` and POWERTOOLS_SERVICE_NAME) and
 * the stem `TaskLock` of its CloudFormation logical ids.
 */
export const FUNCTION_IDS = ['task-lock', 'drain', 'stopped-watch', 'cleanup', 'audit'] as const;

export type FunctionId = (typeof FUNCTION_IDS)[number];

type CamelCase<S extends string> = S extends `${infer Head}-${infer Tail}` ? `${Head}${Capitalize<CamelCase<Tail>>}` : S;

/** The osls function key, e.g. `taskLock`. */
export type FunctionKey = CamelCase<FunctionId>;

export const functionKey = <I extends FunctionId>(id: I): CamelCase<I> => id.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase()) as CamelCase<I>;

/** The stem of the function's logical ids (`TaskLock` in TaskLockLambdaFunction, TaskLockRole, TaskLockDlq), as osls derives it from the key. */
export const logicalIdStem = (id: FunctionId): string => {
  const key = functionKey(id);
  return `${key[0]!.toUpperCase()}${key.slice(1)}`;
};

/** The deployed function name, `<service>-<stage>-<key>`. */
export const functionName = (prefix: string, id: FunctionId): string => `${prefix}-${functionKey(id)}`;

/** The handler module of the function, relative to the repository root. */
export const handlerFile = (id: FunctionId): string => `functions/${id}/handler.ts`;

/** The osls `handler` of the function: its handler module's `handler` export. */
export const handlerExport = (id: FunctionId): string => handlerFile(id).replace(/\.ts$/, '.handler');
