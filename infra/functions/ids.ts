/**
 * The CloudFormation and osls spellings of a function, derived from its id
 * (functions/shared/function-ids.ts, re-exported here): the stem `TaskLock`
 * of its logical ids, its handler module and export.
 */
export { FUNCTION_IDS, type FunctionId, type FunctionKey, functionKey, functionName } from '../../functions/shared/function-ids.ts';
import { functionKey, type FunctionId } from '../../functions/shared/function-ids.ts';

/** The stem of the function's logical ids (`TaskLock` in TaskLockLambdaFunction, TaskLockRole, TaskLockDlq), as osls derives it from the key. */
export const logicalIdStem = (id: FunctionId): string => {
  const key = functionKey(id);
  return `${key[0]!.toUpperCase()}${key.slice(1)}`;
};

/** The handler module of the function, relative to the repository root. */
export const handlerFile = (id: FunctionId): string => `functions/${id}/handler.ts`;

/** The osls `handler` of the function: its handler module's `handler` export. */
export const handlerExport = (id: FunctionId): string => handlerFile(id).replace(/\.ts$/, '.handler');
