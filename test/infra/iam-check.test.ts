/** The template tests' wildcard check catches the grants the issue found, not only a literal "*". */
import { describe, expect, it } from 'vitest';
import { conditionKeyProblems, wildcardFindings, wildcardOf } from '../support/iam-check.ts';
import type { Template } from '../support/package.ts';

const sub = (text: string) => ({ 'Fn::Sub': text });

describe('wildcard grant check', () => {
  it('flags PassRole on every role of the account, even with iam:PassedToService (the statement task-lock had)', () => {
    const findings = wildcardFindings({
      Sid: 'PassTaskRoles',
      Action: 'iam:PassRole',
      Resource: sub('arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*'),
      Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
    });
    expect(findings).toEqual(['iam:PassRole on "arn:aws:iam::123456789012:role/*" is every role (permissions management)']);
  });

  it('flags SendCommand on every instance without a tag condition (cleanup with a cluster that has no ASG)', () => {
    const statement = { Action: 'ssm:SendCommand', Resource: sub('arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:instance/*') };
    expect(wildcardFindings(statement)).toEqual(['ssm:SendCommand on "arn:aws:ec2:eu-west-1:123456789012:instance/*" is every instance']);
    // The same ARN narrowed by the operator's tag names the instances.
    expect(wildcardFindings({ ...statement, Condition: { StringEquals: { 'ssm:resourceTag/ecs-caretaker:cleanup': 'true' } } })).toEqual([]);
  });

  it('flags a literal "*", another account or region, and action wildcards', () => {
    expect(wildcardFindings({ Action: ['ecs:StopTask', 'ecs:DescribeTasks'], Resource: '*' })).toEqual(['ecs:StopTask on "*"']);
    expect(wildcardOf('arn:aws:iam::*:role/deployer')).toBe('"arn:aws:iam::*:role/deployer" spans every account');
    expect(wildcardOf('arn:aws:lambda:eu-west-1:123456789012:function:*')).toBe('"arn:aws:lambda:eu-west-1:123456789012:function:*" is every function');
    // The subscriptions of one topic, not every topic.
    expect(wildcardOf('arn:aws:sns:eu-west-1:123456789012:ecs-events:*')).toBeUndefined();
    expect(wildcardOf('arn:aws:sqs:*:123456789012:q')).toBe('"arn:aws:sqs:*:123456789012:q" spans every region');
    expect(wildcardFindings({ Action: 'iam:*', Resource: 'arn:aws:iam::123456789012:role/x' })).toEqual([]);
    expect(wildcardFindings({ Action: 'iam:*', Resource: 'arn:aws:iam::123456789012:role/*' })).toHaveLength(1);
  });

  it('leaves reads, X-Ray, named resources and cluster-scoped task ARNs alone', () => {
    expect(wildcardFindings({ Action: ['ecs:ListTasks', 'ecs:DescribeCapacityProviders'], Resource: '*' })).toEqual([]);
    expect(wildcardFindings({ Action: ['xray:PutTraceSegments'], Resource: '*' })).toEqual([]);
    expect(wildcardFindings({ Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': ['DrainDlq', 'Arn'] } })).toEqual([]);
    expect(wildcardFindings({ Action: ['ecs:StopTask'], Resource: sub('arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task/prod/*') })).toEqual([]);
    expect(
      wildcardFindings({
        Action: 'logs:PutLogEvents',
        Resource: sub('arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/fn:*'),
      }),
    ).toEqual([]);
  });

  it('does not let an ecs:cluster condition excuse a permissions grant', () => {
    const findings = wildcardFindings({
      Action: 'iam:PassRole',
      Resource: 'arn:aws:iam::123456789012:role/*',
      Condition: { ArnEquals: { 'ecs:cluster': ['arn:aws:ecs:eu-west-1:123456789012:cluster/prod'] } },
    });
    expect(findings).toHaveLength(1);
  });
});

describe('condition key check', () => {
  const role = (Statement: unknown[]): Template => ({
    Resources: { R: { Type: 'AWS::IAM::Role', Properties: { Policies: [{ PolicyDocument: { Statement } }] } } },
  });

  it('flags a key an action in the statement does not support, which would make the grant allow nothing', () => {
    // ListContainerInstances has no ecs:cluster key: the condition never matches for it.
    const template = role([
      { Sid: 'S', Action: ['ecs:DescribeContainerInstances', 'ecs:ListContainerInstances'], Resource: '*', Condition: { ArnEquals: { 'ecs:cluster': 'arn' } } },
    ]);
    expect(conditionKeyProblems(template)).toEqual(['R/S: ecs:ListContainerInstances has no ecs:cluster']);
    expect(
      conditionKeyProblems(role([{ Sid: 'T', Action: 'ssm:SendCommand', Resource: '*', Condition: { StringEquals: { 'ec2:ResourceTag/x': 'y' } } }])),
    ).toEqual(['R/T: ssm:SendCommand has no ec2:ResourceTag/x']);
  });

  it('accepts the keys the reference lists, any tag key after a tag prefix', () => {
    const template = role([
      { Action: 'ssm:SendCommand', Resource: '*', Condition: { StringEquals: { 'ssm:resourceTag/team:cleanup': 'true' } } },
      {
        Action: 'iam:PassRole',
        Resource: 'arn:aws:iam::123456789012:role/a',
        Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      },
    ]);
    expect(conditionKeyProblems(template)).toEqual([]);
  });
});
