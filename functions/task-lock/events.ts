import type { EventPattern } from '../shared/event-pattern.ts';

/**
 * The STOPPED events of tasks that task-lock started (startedBy carries the
 * prefix), which release the job's slot. Schedules are not patterns: they are
 * generated per job in serverless.ts.
 */
export const taskStoppedPattern = {
  source: ['aws.ecs'],
  'detail-type': ['ECS Task State Change'],
  detail: {
    lastStatus: ['STOPPED'],
    startedBy: [{ prefix: 'ecs-caretaker-lock/' }],
  },
} satisfies EventPattern;
