import { describe, expect, it } from 'vitest';
import { drainFunction, hookLogicalId } from '../../infra/functions/drain.ts';
import { parseConfig, type CaretakerConfigInput, ConfigError } from '../../functions/shared/config.ts';
import { drainPatterns } from '../../functions/drain/events.ts';

const context = (input: Partial<CaretakerConfigInput> = {}) => {
  const config = parseConfig({
    clusters: [
      { name: 'prod', asgs: ['prod-asg-a', 'prod-asg-b'] },
      { name: 'batch', asgs: ['batch.asg'] },
    ],
    ...input,
  });
  return { config, stage: 'test', prefix: 'cc-test', tableName: 'cc-test-state' };
};
const asArray = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);
const READ_ONLY = /^(ecs|autoscaling):(Describe|List)/;

describe('drain FunctionSpec', () => {
  it('creates the termination hook on every configured ASG with the configured timeout and CONTINUE', () => {
    const spec = drainFunction(context({ drain: { heartbeatTimeoutSeconds: 600, hookName: 'my-drain' } }))!;
    const hooks = Object.entries(spec.resources!).filter(([, r]) => r.Type === 'AWS::AutoScaling::LifecycleHook');
    expect(hooks.map(([, r]) => r.Properties)).toEqual(
      ['prod-asg-a', 'prod-asg-b', 'batch.asg'].map((asg) => ({
        AutoScalingGroupName: asg,
        LifecycleHookName: 'my-drain',
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        HeartbeatTimeout: 600,
        DefaultResult: 'CONTINUE',
      })),
    );
    for (const [id] of hooks) expect(id).toMatch(/^[A-Za-z0-9]+$/);
    expect(hookLogicalId('a-b')).not.toBe(hookLogicalId('ab'));
  });

  it('subscribes every rule with a dead-letter queue and a retry policy, and the reconcile schedule', () => {
    const ctx = context({ drain: { spotInterruption: true, reconcileSchedule: 'rate(2 minutes)', heartbeatTimeoutSeconds: 420 } });
    const spec = drainFunction(ctx)!;
    const rules = spec.definition.events!.map((e) => (e as { eventBridge: Record<string, any> }).eventBridge);
    const patterns = drainPatterns(ctx.config);
    expect(rules.filter((r) => r.pattern).map((r) => r.pattern)).toEqual([patterns.lifecycle, patterns.taskStopped, patterns.containerInstance, patterns.spot]);
    expect(rules.filter((r) => r.schedule).map((r) => r.schedule)).toEqual(['rate(2 minutes)']);
    for (const rule of rules) {
      expect(rule.deadLetterQueueArn).toEqual({ 'Fn::GetAtt': ['DrainDlq', 'Arn'] });
      expect(rule.retryPolicy.maximumRetryAttempts).toBeGreaterThan(0);
    }
    expect(patterns.lifecycle).toMatchObject({
      detail: { AutoScalingGroupName: ['prod-asg-a', 'prod-asg-b', 'batch.asg'], LifecycleHookName: ['ecs-caretaker-drain'] },
    });
    expect(drainFunction(context())!.definition.events).toHaveLength(4);
  });

  it('scopes lifecycle actions to the configured ASGs and ECS actions to the configured clusters, with no "*" on a mutating action', () => {
    const spec = drainFunction(context())!;
    const lifecycle = spec.statements.find((s) => asArray(s.Action).includes('autoscaling:CompleteLifecycleAction'))!;
    expect(asArray(lifecycle.Action).sort()).toEqual(['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat']);
    expect(lifecycle.Resource).toEqual(
      ['prod-asg-a', 'prod-asg-b', 'batch.asg'].map((n) => ({
        'Fn::Sub': `arn:\${AWS::Partition}:autoscaling:\${AWS::Region}:\${AWS::AccountId}:autoScalingGroup:*:autoScalingGroupName/${n}`,
      })),
    );
    const clusterCondition = {
      ArnEquals: { 'ecs:cluster': [{ 'Fn::Sub': expect.stringMatching(/:cluster\/prod$/) }, { 'Fn::Sub': expect.stringMatching(/:cluster\/batch$/) }] },
    };
    for (const statement of spec.statements) {
      const actions = asArray(statement.Action);
      if (asArray(statement.Resource).includes('*')) for (const action of actions) expect(READ_ONLY.test(action), action).toBe(true);
      if (actions.some((a) => ['ecs:UpdateContainerInstancesState', 'ecs:StopTask', 'ecs:DescribeTasks', 'ecs:ListTasks', 'ecs:ListServices'].includes(a)))
        expect(statement.Condition, actions.join()).toEqual(clusterCondition);
    }
    const all = spec.statements.flatMap((s) => asArray(s.Action)).sort();
    expect(all).toEqual(
      [
        'autoscaling:CompleteLifecycleAction',
        'autoscaling:DescribeAutoScalingGroups',
        'autoscaling:RecordLifecycleActionHeartbeat',
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Scan',
        'dynamodb:UpdateItem',
        'ecs:DescribeCapacityProviders',
        'ecs:DescribeContainerInstances',
        'ecs:DescribeServices',
        'ecs:DescribeTasks',
        'ecs:ListContainerInstances',
        'ecs:ListServices',
        'ecs:ListTasks',
        'ecs:StopTask',
        'ecs:UpdateContainerInstancesState',
      ].sort(),
    );
  });

  it('passes its configuration in DRAIN_CONFIG', () => {
    const spec = drainFunction(context())!;
    const env = spec.definition.environment!.DRAIN_CONFIG as string;
    expect(JSON.parse(env)).toMatchObject({
      clusters: [
        { name: 'prod', asgs: ['prod-asg-a', 'prod-asg-b'] },
        { name: 'batch', asgs: ['batch.asg'] },
      ],
      drain: { hookName: 'ecs-caretaker-drain' },
    });
  });

  it('is not deployed when no ASG is configured', () => {
    expect(drainFunction({ ...context(), config: parseConfig({ clusters: [{ name: 'prod' }] }) })).toBeUndefined();
  });

  it('takes more clusters than the 4 KB environment held; timing is refused by the schema (test/shared/config.test.ts)', () => {
    expect(() => context({ drain: { heartbeatTimeoutSeconds: 90 } })).toThrow(ConfigError);
    const many = Array.from({ length: 40 }, (_, i) => ({
      name: `cluster-${i}-with-a-long-name`,
      asgs: [`asg-${i}-with-a-rather-long-name-too`, `asg-${i}-b-with-a-rather-long-name-too`],
    }));
    // The settings go into the bundle (infra/embedded-settings.ts), not the environment.
    const settings = drainFunction({ ...context(), config: parseConfig({ clusters: many }) })!.definition.environment!.DRAIN_CONFIG as string;
    expect(Buffer.byteLength(settings)).toBeGreaterThan(4096);
  });
});
