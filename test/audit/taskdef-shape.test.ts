import { describe, expect, it } from 'vitest';
import { GENERATED_SHAPE } from '../../functions/audit/taskdef-shape.generated.ts';
import { TASK_DEFINITION_SHAPE } from '../../functions/audit/taskdef-model.ts';
import { decodeShape, type KeyShape, keyProblems } from '../../functions/audit/taskdef-shape.ts';
import { encodeShape, taskDefinitionShape } from '../../scripts/taskdef-shape.ts';

describe('the task-definition key model', () => {
  it('matches the pinned @aws-sdk/client-ecs (run scripts/taskdef-shape.ts after an SDK upgrade)', () => {
    expect(GENERATED_SHAPE).toBe(encodeShape(taskDefinitionShape()));
    expect(TASK_DEFINITION_SHAPE).toEqual(taskDefinitionShape());
  });

  it('decodes what it encodes: scalars, lists of scalars, lists of structures, nested structures', () => {
    const shape: KeyShape = {
      a: 'string',
      b: { struct: { c: 'number', d: { list: { struct: { e: 'boolean', f: 'any' } } } } },
      g: { list: 'string' },
    };
    expect(encodeShape(shape)).toBe('a$ b(c# d[(e? f*)) g[$');
    expect(decodeShape(encodeShape(shape))).toEqual(shape);
  });

  it('suggests the spelling for case slips and near misses, and nothing for a foreign key', () => {
    expect(keyProblems({ family: 'x', Family: 'y', containerDefinitions: [{ name: 'a', stopTimout: 5, xyz: 1 }] }, TASK_DEFINITION_SHAPE)).toEqual([
      { path: 'Family', key: 'Family', kind: 'unknown', suggestion: 'family' },
      { path: 'containerDefinitions[0].stopTimout', key: 'stopTimout', kind: 'unknown', suggestion: 'stopTimeout' },
      { path: 'containerDefinitions[0].xyz', key: 'xyz', kind: 'unknown', suggestion: undefined },
    ]);
  });

  it('reports a value of the wrong kind once, without looking inside it', () => {
    expect(keyProblems({ containerDefinitions: { name: 'a' }, volumes: [{ name: 'v', host: 'x' }] }, TASK_DEFINITION_SHAPE)).toEqual([
      { path: 'containerDefinitions', key: 'containerDefinitions', kind: 'type', expected: 'a list', got: 'an object' },
      { path: 'volumes[0].host', key: 'host', kind: 'type', expected: 'an object', got: 'a string' },
    ]);
  });
});
