/**
 * The keys and value kinds a task definition may have, as the pinned @aws-sdk/client-ecs models
 * them, and the check against it. Its own module, imported only by the file modes: rules.ts takes
 * the check as AuditInput.checkKeys, so the audit Lambda, which audits SDK output, bundles neither.
 */
import type { TaskDefinition } from '@aws-sdk/client-ecs';
import { GENERATED_SHAPE } from './taskdef-shape.generated.ts';
import { decodeShape, type KeyProblem, type KeyShape, keyProblems } from './taskdef-shape.ts';

export const TASK_DEFINITION_SHAPE: KeyShape = decodeShape(GENERATED_SHAPE);

export const checkTaskDefinitionKeys = (td: TaskDefinition): KeyProblem[] => keyProblems(td, TASK_DEFINITION_SHAPE);
