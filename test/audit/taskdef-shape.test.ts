import { describe, expect, it } from 'vitest';
import { GENERATED_SHAPE } from '../../functions/audit/taskdef-shape.generated.ts';
import { TASK_DEFINITION_SHAPE } from '../../functions/audit/taskdef-model.ts';
import { decodeShape, unknownKeys } from '../../functions/audit/taskdef-shape.ts';
import { encodeShape, taskDefinitionShape } from '../../scripts/taskdef-shape.ts';

describe('the task-definition key model', () => {
  it('matches the pinned @aws-sdk/client-ecs (run scripts/taskdef-shape.ts after an SDK upgrade)', () => {
    expect(GENERATED_SHAPE).toBe(encodeShape(taskDefinitionShape()));
    expect(TASK_DEFINITION_SHAPE).toEqual(taskDefinitionShape());
  });

  it('decodes what it encodes, nested structures included', () => {
    const shape = { a: true as const, b: { c: true as const, d: { e: true as const } }, f: true as const };
    expect(encodeShape(shape)).toBe('a b(c d(e)) f');
    expect(decodeShape(encodeShape(shape))).toEqual(shape);
  });

  it('suggests the spelling for case slips and near misses, and nothing for a foreign key', () => {
    expect(unknownKeys({ family: 'x', Family: 'y', containerDefinitions: [{ name: 'a', stopTimout: 5, xyz: 1 }] }, TASK_DEFINITION_SHAPE)).toEqual([
      { path: 'Family', key: 'Family', suggestion: 'family' },
      { path: 'containerDefinitions[0].stopTimout', key: 'stopTimout', suggestion: 'stopTimeout' },
      { path: 'containerDefinitions[0].xyz', key: 'xyz', suggestion: undefined },
    ]);
  });
});
