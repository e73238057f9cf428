import { describe, expect, it } from 'vitest';
import { GENERATED_SHAPE } from '../../functions/audit/taskdef-shape.generated.ts';
import { unknownKeys } from '../../functions/audit/taskdef-shape.ts';
import { taskDefinitionShape } from '../../scripts/taskdef-shape.ts';

describe('the task-definition key model', () => {
  it('matches the pinned @aws-sdk/client-ecs (run scripts/taskdef-shape.ts after an SDK upgrade)', () => {
    expect(GENERATED_SHAPE).toEqual(taskDefinitionShape());
  });

  it('suggests the spelling for case slips and near misses, and nothing for a foreign key', () => {
    expect(unknownKeys({ family: 'x', Family: 'y', containerDefinitions: [{ name: 'a', stopTimout: 5, xyz: 1 }] })).toEqual([
      { path: 'Family', key: 'Family', suggestion: 'family' },
      { path: 'containerDefinitions[0].stopTimout', key: 'stopTimout', suggestion: 'stopTimeout' },
      { path: 'containerDefinitions[0].xyz', key: 'xyz', suggestion: undefined },
    ]);
  });
});
