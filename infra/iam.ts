import type { CaretakerConfig } from '../functions/shared/config.ts';
import { functionKey, type FunctionId } from './functions/ids.ts';
import { dlqLogicalId, roleLogicalId, TABLE_LOGICAL_ID, type Resources } from './resources.ts';

export interface Statement {
  Sid?: string;
  Effect: 'Allow';
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, unknown>;
}

const sub = (text: string) => ({ 'Fn::Sub': text });

/** ARN helpers; account and region come from the stack, never from credentials at package time. */
export const arn = {
  cluster: (name: string) => sub(`arn:\${AWS::Partition}:ecs:\${AWS::Region}:\${AWS::AccountId}:cluster/${name}`),
  tasksOf: (cluster: string) => sub(`arn:\${AWS::Partition}:ecs:\${AWS::Region}:\${AWS::AccountId}:task/${cluster}/*`),
  taskDefinition: (familyOrArn: string) =>
    familyOrArn.startsWith('arn:')
      ? familyOrArn.replace(/:\d+$/, ':*')
      : sub(`arn:\${AWS::Partition}:ecs:\${AWS::Region}:\${AWS::AccountId}:task-definition/${familyOrArn.split(':')[0]}:*`),
  logGroup: (functionName: string) => sub(`arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${functionName}:*`),
  table: { 'Fn::GetAtt': [TABLE_LOGICAL_ID, 'Arn'] },
};

/**
 * The `ecs:cluster` condition key scopes task actions to the configured clusters. The Service
 * Authorization Reference (Amazon ECS) lists it for RunTask, StopTask, DescribeTasks, ListTasks,
 * ListServices, DescribeServices, DescribeContainerInstances and UpdateContainerInstancesState,
 * not for ListContainerInstances or DescribeCapacityProviders; test/support/iam-check.ts holds the table.
 */
export const inClusters = (clusters: string[]) => ({ ArnEquals: { 'ecs:cluster': clusters.map(arn.cluster) } });

export const tableReadWrite = (actions = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']): Statement => ({
  Sid: 'Table',
  Effect: 'Allow',
  Action: actions,
  Resource: arn.table,
});

export type StackSettings = CaretakerConfig['stack'];

/**
 * What every role of the stack carries, the functions' and the Scheduler's:
 * the configured path and permissions boundary. Tags come with the stack-wide
 * tags (infra/tags.ts), like every other resource's.
 */
export function roleProperties(stack: StackSettings): Record<string, unknown> {
  return {
    Path: stack.rolePath,
    ...(stack.permissionsBoundary ? { PermissionsBoundary: stack.permissionsBoundary } : {}),
  };
}

const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;

/**
 * The roles task-lock may pass to ECS: each job's passRoles, and the task and
 * execution roles its RunTask overrides name. A name becomes an ARN of this
 * account with the configured role path unknown, so a name must be the role's
 * whole path-less name; roles under a path are given as ARNs.
 */
export function jobPassRoles(config: CaretakerConfig): unknown[] {
  const refs = new Set<string>();
  for (const job of config.jobs) {
    for (const role of job.passRoles) refs.add(role);
    for (const field of ['taskRoleArn', 'executionRoleArn'] as const) {
      const value = job.overrides?.[field];
      if (typeof value === 'string') refs.add(value);
    }
  }
  return [...refs].map((ref) => (ROLE_NAME.test(ref) ? sub(`arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/${ref}`) : ref));
}

/**
 * One role per function. Besides its own statements every function may write
 * its logs, its traces and its DLQ. X-Ray has no resource-level permissions for
 * PutTraceSegments/PutTelemetryRecords (X-Ray developer guide, "Identity-based
 * policies"), hence its `*`: the template tests allow exactly that exception.
 */
export function functionRole(id: FunctionId, functionName: string, statements: Statement[], stack: StackSettings, extraTrust: string[] = []): Resources {
  return {
    [roleLogicalId(id)]: {
      Type: 'AWS::IAM::Role',
      Properties: {
        ...roleProperties(stack),
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: ['lambda.amazonaws.com', ...extraTrust] }, Action: 'sts:AssumeRole' }],
        },
        Policies: [
          {
            PolicyName: `${functionKey(id)}-policy`,
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                { Sid: 'Logs', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: arn.logGroup(functionName) },
                { Sid: 'Traces', Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' },
                { Sid: 'DeadLetters', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [dlqLogicalId(id), 'Arn'] } },
                ...statements,
              ],
            },
          },
        ],
      },
    },
  };
}
