/**
 * The keys a task definition may have, as the pinned @aws-sdk/client-ecs models them. Its own
 * module, imported only by the file modes: rules.ts takes it as AuditInput.keyModel, so the
 * audit Lambda, which audits SDK output, does not bundle it.
 */
import { GENERATED_SHAPE } from './taskdef-shape.generated.ts';
import { decodeShape, type KeyShape } from './taskdef-shape.ts';

export const TASK_DEFINITION_SHAPE: KeyShape = decodeShape(GENERATED_SHAPE);
