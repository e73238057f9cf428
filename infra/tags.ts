/**
 * Stack-wide tags (config.stack.tags) on every resource that can carry them.
 * Stack tags passed at deploy time would reach most resources too, but a
 * reviewer reads the template, and a service control policy that requires a
 * tag on CreateRole judges the role's own Tags, so they are written into it.
 */
import type { Resources } from './resources.ts';

/**
 * The resource types of this stack whose CloudFormation schema has a `Tags`
 * property, all as a list of {Key, Value} (CloudFormation resource type
 * reference, each type's "Tags" property; cross-checked against cfn-lint's
 * provider schemas, where these types are `tagging.taggable`).
 */
export const TAGGABLE_TYPES = new Set([
  'AWS::IAM::Role',
  'AWS::Lambda::Function',
  'AWS::SQS::Queue',
  'AWS::DynamoDB::Table',
  'AWS::Logs::LogGroup',
  'AWS::CloudWatch::Alarm',
  'AWS::SSM::Document',
  'AWS::Events::Rule',
  'AWS::SNS::Topic',
  'AWS::S3::Bucket',
]);

/** Types of this stack that have no Tags property at all; a type in neither set fails the template tests until it is placed. */
export const UNTAGGABLE_TYPES = new Set([
  'AWS::CloudWatch::Dashboard',
  'AWS::Scheduler::Schedule',
  'AWS::AutoScaling::LifecycleHook',
  'AWS::Lambda::Permission',
  'AWS::Lambda::EventInvokeConfig',
  'AWS::Lambda::Version',
  'AWS::SQS::QueuePolicy',
  'AWS::SNS::Subscription',
  'AWS::S3::BucketPolicy',
]);

export const cfnTags = (tags: Record<string, string>): Array<{ Key: string; Value: string }> => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

/**
 * The resources with the stack tags merged into the Tags of each taggable one.
 * A tag a resource already sets keeps its value: the resource knows better.
 */
export function withStackTags(resources: Resources, tags: Record<string, string>): Resources {
  if (Object.keys(tags).length === 0) return resources;
  return Object.fromEntries(
    Object.entries(resources).map(([id, resource]) => {
      if (!TAGGABLE_TYPES.has(resource.Type)) return [id, resource];
      const own = (resource.Properties?.Tags as Array<{ Key: string; Value: unknown }> | undefined) ?? [];
      const ownKeys = new Set(own.map((t) => t.Key));
      const merged = [...own, ...cfnTags(tags).filter((t) => !ownKeys.has(t.Key))];
      return [id, { ...resource, Properties: { ...resource.Properties, Tags: merged } }];
    }),
  );
}
