/**
 * What a reviewer looks for first in a template's IAM: grants of a write or
 * permissions-management action on every resource of a type. A literal `*`
 * is the obvious one; `role/*` or `instance/*` in an ARN is the same grant
 * spelled differently, and `arn:aws:iam::*:…` reaches other accounts.
 */
import type { Template } from './package.ts';

/** Reads; only these may have "*" or a type-wide ARN. */
const READ_ONLY = /^[a-z0-9-]+:(Describe|List|Get|BatchGet|Validate)/;
/** X-Ray has no resource-level permissions for these (X-Ray developer guide), so "*" is the only possible resource. */
const STAR_ALLOWED = new Set(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']);
/** Permissions management (Service Authorization Reference access level): never on a wildcard, whatever the condition. */
const PERMISSIONS_MANAGEMENT = /^(iam:|sts:|organizations:|[a-z0-9-]+:(Put|Delete|Set)[A-Za-z]*(Policy|Permission))|^[a-z0-9-]+:\*$|^\*$/;
/**
 * Conditions that narrow a write on a type-wide ARN to named resources: their
 * tags, or the ECS cluster. `iam:PassedToService` is not one: it says to whom,
 * not which role.
 */
const SCOPING_KEYS = /^(ssm:resourceTag\/|aws:ResourceTag\/|ecs:cluster$)/;

const asArray = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

/** The ARN text of a resource entry with the stack's pseudo parameters filled in; undefined for a Ref/GetAtt of a stack resource. */
function arnText(resource: unknown): string | undefined {
  if (typeof resource === 'string') return resource;
  const sub = (resource as { 'Fn::Sub'?: unknown })?.['Fn::Sub'];
  const text = Array.isArray(sub) ? sub[0] : sub;
  if (typeof text !== 'string') return undefined;
  return text
    .replaceAll('${AWS::Partition}', 'aws')
    .replaceAll('${AWS::Region}', 'eu-west-1')
    .replaceAll('${AWS::AccountId}', '123456789012')
    .replace(/\$\{[^}]+\}/g, 'param');
}

/** Why `arn` grants a whole resource type (or more), or undefined when it names resources. */
export function wildcardOf(arn: string): string | undefined {
  if (arn === '*') return '"*"';
  const parts = arn.split(':');
  if (parts.length < 6) return `"${arn}" is not an ARN`;
  const [, , , region, account] = parts;
  if (account === '*' || region === '*') return `"${arn}" spans every ${account === '*' ? 'account' : 'region'}`;
  const resource = parts.slice(5).join(':');
  // `type/*`, or `type:*` for the services that separate with a colon; `topic:*` (SNS) is that topic's subscriptions, not every topic.
  if (resource === '*' || /^[A-Za-z-]+\/\*$/.test(resource) || /^(function|log-group|alarm|secret|stateMachine|layer):\*$/.test(resource)) {
    return `"${arn}" is every ${resource.split(/[/:]/)[0] || 'resource'}`;
  }
  return undefined;
}

export interface Statement {
  Sid?: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/** The findings for one statement, as "<action> on <why>". */
export function wildcardFindings(statement: Statement): string[] {
  const findings: string[] = [];
  const conditionKeys = Object.values(statement.Condition ?? {}).flatMap((block) => Object.keys(block));
  const scoped = conditionKeys.some((key) => SCOPING_KEYS.test(key));
  for (const action of asArray(statement.Action)) {
    if (STAR_ALLOWED.has(action)) continue;
    const permissions = PERMISSIONS_MANAGEMENT.test(action);
    if (READ_ONLY.test(action) && !permissions) continue;
    for (const resource of asArray(statement.Resource)) {
      const text = arnText(resource);
      const why = text === undefined ? undefined : wildcardOf(text);
      if (!why) continue;
      // A write on a type-wide ARN is fine when a tag or cluster condition names the resources; a permissions grant never is.
      if (!permissions && scoped) continue;
      findings.push(`${action} on ${why}${permissions ? ' (permissions management)' : ''}`);
    }
  }
  return findings;
}

/** Every finding of every role's inline policies, as "<role>/<sid>: <finding>". */
export function wildcardGrants(template: Template): string[] {
  const out: string[] = [];
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::IAM::Role') continue;
    for (const policy of resource.Properties.Policies ?? []) {
      for (const statement of asArray<Statement>(policy.PolicyDocument.Statement)) {
        for (const finding of wildcardFindings(statement)) out.push(`${id}/${statement.Sid ?? '?'}: ${finding}`);
      }
    }
  }
  return out;
}

/**
 * The condition keys each conditioned action supports, as the Service
 * Authorization Reference lists them ("Actions defined by" tables of Amazon
 * ECS, AWS Systems Manager, IAM and Amazon EventBridge). A key an action does
 * not support is absent from its request context, so a condition on it never
 * matches and the grant silently allows nothing. `…/` entries take any tag key.
 */
export const SAR_CONDITION_KEYS: Record<string, string[]> = {
  'ecs:RunTask': [
    'ecs:cluster',
    'ecs:capacity-provider',
    'ecs:enable-ebs-volumes',
    'ecs:enable-execute-command',
    'aws:ResourceTag/',
    'aws:RequestTag/',
    'aws:TagKeys',
  ],
  'ecs:StopTask': ['ecs:cluster', 'aws:ResourceTag/'],
  'ecs:DescribeTasks': ['ecs:cluster', 'aws:ResourceTag/'],
  'ecs:ListTasks': ['ecs:cluster', 'aws:ResourceTag/'],
  'ecs:ListServices': ['ecs:cluster'],
  'ecs:DescribeServices': ['ecs:cluster', 'aws:ResourceTag/'],
  'ecs:DescribeContainerInstances': ['ecs:cluster', 'aws:ResourceTag/'],
  'ecs:UpdateContainerInstancesState': ['ecs:cluster', 'aws:ResourceTag/'],
  'ecs:TagResource': ['ecs:CreateAction', 'aws:ResourceTag/', 'aws:RequestTag/', 'aws:TagKeys'],
  'ssm:SendCommand': ['ssm:resourceTag/', 'aws:ResourceTag/'],
  'iam:PassRole': ['iam:PassedToService', 'iam:AssociatedResourceArn'],
  'events:PutEvents': ['events:source', 'events:detail-type', 'events:eventBusInvocation'],
};

/** Every (action, condition key) pair of the roles' policies that the table above does not list, as "<role>/<sid>: <action> has no <key>". */
export function conditionKeyProblems(template: Template): string[] {
  const out: string[] = [];
  const supports = (action: string, key: string) => (SAR_CONDITION_KEYS[action] ?? []).some((k) => (k.endsWith('/') ? key.startsWith(k) : key === k));
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::IAM::Role') continue;
    for (const policy of resource.Properties.Policies ?? []) {
      for (const statement of asArray<Statement>(policy.PolicyDocument.Statement)) {
        const keys = Object.values(statement.Condition ?? {}).flatMap((block) => Object.keys(block));
        for (const action of asArray(statement.Action)) {
          for (const key of keys) if (!supports(action, key)) out.push(`${id}/${statement.Sid ?? '?'}: ${action} has no ${key}`);
        }
      }
    }
  }
  return out;
}
