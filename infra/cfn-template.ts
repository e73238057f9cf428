/**
 * Turns the template `osls package` writes into a plain CloudFormation
 * template, for teams that deploy with `aws cloudformation package` and a
 * reviewed change set instead of osls:
 *
 * - no deployment bucket inside the stack: each function's Code is the local
 *   path of its zip, which `aws cloudformation package --s3-bucket B
 *   --s3-prefix P` uploads to a bucket of the operator's choice and rewrites
 *   (AWS CLI, "cloudformation package": AWS::Lambda::Function Code);
 * - no osls leftovers: its bucket and bucket policy, the Lambda versions
 *   nothing refers to, and the `sls-` exports;
 * - Parameters for what differs between accounts: the alert topic, the
 *   permissions boundary and the log retention;
 * - the stack-wide tags on every taggable resource, osls's too.
 *
 * Pure: the script that runs osls and copies the zips is scripts/package-cfn.ts.
 */
import { LOG_RETENTION_DAYS, type CaretakerConfig } from '../functions/shared/config.ts';
import { isSetting } from './embedded-settings.ts';
import { functionName as deployedName } from './functions/ids.ts';
import { functionSpecs } from './functions/index.ts';
import { deployContext } from './functions/types.ts';
import { TABLE_LOGICAL_ID, type Resources } from './resources.ts';
import { withStackTags } from './tags.ts';

export interface Template {
  AWSTemplateFormatVersion?: string;
  Description?: string;
  Parameters?: Record<string, Record<string, unknown>>;
  Conditions?: Record<string, unknown>;
  Resources: Resources;
  Outputs?: Record<string, { Description?: string; Value: unknown; Export?: unknown }>;
}

/** The resources osls adds for its own deployment, which a plain stack does without. */
const OSLS_RESOURCES = new Set(['ServerlessDeploymentBucket', 'ServerlessDeploymentBucketPolicy']);

export const PARAMETERS = {
  alertTopic: 'AlertTopicArn',
  boundary: 'PermissionsBoundaryArn',
  retention: 'LogRetentionInDays',
  artifactBucket: 'ArtifactBucket',
  artifactPrefix: 'ArtifactPrefix',
} as const;
const HAS_BOUNDARY = 'HasPermissionsBoundary';

export interface PlainTemplateOptions {
  config: CaretakerConfig;
  /** The stage osls packaged: it names the functions. */
  stage: string;
  /** The zip of each function, by its logical id: a path relative to the template, or its file name in the artifact bucket. */
  code: Record<string, string>;
  /**
   * `local` (default): Code is the zip's path, for `aws cloudformation package`.
   * `parameters`: Code is `ArtifactBucket` + `ArtifactPrefix` + the zip's name, for
   * pipelines that upload the zips themselves and deploy without `package`
   * (a Service Catalog product, StackSets). Name the zips by their content,
   * since CloudFormation updates a function's code only when the key changes.
   */
  artifacts?: 'local' | 'parameters';
}

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** Every occurrence of `literal` in `value`: a whole string becomes `ref`; inside a longer string, an Fn::Sub of the parameter. */
function replaceLiteral(value: unknown, literal: string, parameter: string): unknown {
  if (typeof value === 'string') {
    if (value === literal) return { Ref: parameter };
    if (!value.includes(literal)) return value;
    // `${!` keeps a literal `${` in Fn::Sub (CloudFormation, Fn::Sub: "To write a dollar sign and curly braces literally").
    const escaped = value.split(literal).map((part) => part.replaceAll('${', '${!'));
    return { 'Fn::Sub': escaped.join(`\${${parameter}}`) };
  }
  if (Array.isArray(value)) return value.map((item) => replaceLiteral(item, literal, parameter));
  if (value && typeof value === 'object') {
    const entries = Object.entries(value);
    // Inside an Fn::Sub the literal is text of the Sub itself, already escaped by its author: name the parameter in it.
    if (entries.length === 1 && entries[0]![0] === 'Fn::Sub' && typeof entries[0]![1] === 'string') {
      return { 'Fn::Sub': (entries[0]![1] as string).split(literal).join(`\${${parameter}}`) };
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, replaceLiteral(v, literal, parameter)]));
  }
  return value;
}

/** Ids of resources that `value` refers to by Ref, Fn::GetAtt or DependsOn. */
function referencedIds(value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const item of value) referencedIds(item, found);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'Ref' && typeof v === 'string') found.add(v);
      else if (k === 'DependsOn') for (const id of Array.isArray(v) ? v : [v]) found.add(String(id));
      else if (k === 'Fn::GetAtt' && Array.isArray(v) && typeof v[0] === 'string') found.add(v[0]);
      else referencedIds(v, found);
    }
  }
  return found;
}

export function toPlainTemplate(oslsTemplate: Template, { config, stage, code, artifacts = 'local' }: PlainTemplateOptions): Template {
  const source = clone(oslsTemplate);
  let resources: Resources = {};
  for (const [id, resource] of Object.entries(source.Resources)) {
    if (OSLS_RESOURCES.has(id)) continue;
    // osls publishes a version per deploy (versionFunctions); nothing in the stack invokes one.
    if (resource.Type === 'AWS::Lambda::Version') continue;
    if (resource.Type === 'AWS::Lambda::Function') {
      const zip = code[id];
      if (!zip) throw new Error(`package:cfn: no code zip for function ${id}`);
      const location =
        artifacts === 'local' ? zip : { S3Bucket: { Ref: PARAMETERS.artifactBucket }, S3Key: { 'Fn::Sub': `\${${PARAMETERS.artifactPrefix}}${zip}` } };
      resource.Properties = { ...resource.Properties, Code: location };
    }
    if (resource.Type === 'AWS::Logs::LogGroup') resource.Properties = { ...resource.Properties, RetentionInDays: { Ref: PARAMETERS.retention } };
    if (resource.Type === 'AWS::IAM::Role') {
      const { PermissionsBoundary: _, ...rest } = resource.Properties ?? {};
      resource.Properties = { ...rest, PermissionsBoundary: { 'Fn::If': [HAS_BOUNDARY, { Ref: PARAMETERS.boundary }, { Ref: 'AWS::NoValue' }] } };
    }
    // osls also lists a function's role in DependsOn next to its GetAtt; the GetAtt alone orders them (cfn-lint W3005).
    if (resource.DependsOn) {
      const implied = referencedIds(resource.Properties);
      const explicit = (Array.isArray(resource.DependsOn) ? resource.DependsOn : [resource.DependsOn]).filter((dep) => !implied.has(dep));
      if (explicit.length) resource.DependsOn = explicit;
      else delete resource.DependsOn;
    }
    resources[id] = resource;
  }

  const parameters: NonNullable<Template['Parameters']> = {
    [PARAMETERS.boundary]: {
      Type: 'String',
      Default: config.stack.permissionsBoundary ?? '',
      AllowedPattern: '^$|^arn:aws[a-z-]*:iam::(\\d{12}|aws):policy/.+$',
      Description: 'Managed policy ARN set as the permissions boundary of every role of the stack; empty for none',
    },
    [PARAMETERS.retention]: {
      Type: 'Number',
      Default: config.stack.logRetentionDays,
      AllowedValues: [...LOG_RETENTION_DAYS],
      Description: "Days to keep the functions' logs and the cleanup Run Command output",
    },
  };
  if (artifacts === 'parameters') {
    // S3 bucket naming rules (S3 user guide, "General purpose bucket naming rules"): 3-63 of a-z, 0-9, "." and "-".
    parameters[PARAMETERS.artifactBucket] = {
      Type: 'String',
      AllowedPattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$',
      Description: "Bucket holding the functions' zips, uploaded from dist/cfn/code/",
    };
    parameters[PARAMETERS.artifactPrefix] = {
      Type: 'String',
      Default: '',
      AllowedPattern: "^$|^[A-Za-z0-9!_.*'()/-]*/$",
      Description: 'Key prefix of the zips in ArtifactBucket, ending with "/" (empty for the bucket root)',
    };
  }
  const topic = config.alerts.topicArn;
  if (topic) {
    // The settings ride in the bundles (infra/embedded-settings.ts), where no parameter reaches: the
    // functions whose settings name the topic get them back as environment variables, which take
    // precedence over the bundle's (functions/shared/env.ts envJson), so that the topic can follow
    // the parameter. Those settings are small; the jobs' (task-lock) name no topic.
    const context = deployContext(config, stage);
    for (const spec of functionSpecs(context)) {
      const settings = Object.entries(spec.definition.environment ?? {}).filter(([name, value]) => isSetting(name, value) && value.includes(topic));
      const fn = Object.values(resources).find(
        (r) => r.Type === 'AWS::Lambda::Function' && r.Properties?.FunctionName === deployedName(context.prefix, spec.id),
      );
      if (!settings.length || !fn) continue;
      const variables = (fn.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables;
      fn.Properties = { ...fn.Properties, Environment: { Variables: { ...variables, ...Object.fromEntries(settings) } } };
    }
    // Only a configured topic can become a parameter: without one the stack has no publishing
    // statement, no summary schedule and no alarm action to point at it.
    resources = replaceLiteral(resources, topic, PARAMETERS.alertTopic) as Resources;
    parameters[PARAMETERS.alertTopic] = {
      Type: 'String',
      Default: topic,
      AllowedPattern: '^arn:aws[a-z-]*:sns:[a-z0-9-]+:\\d{12}:.+$',
      Description: 'SNS topic for alerts, digests and alarms',
    };
  }

  const outputs: NonNullable<Template['Outputs']> = {
    StateTableName: { Description: 'The state table (retained and deletion-protected when the stack is deleted)', Value: { Ref: TABLE_LOGICAL_ID } },
  };
  for (const [id, resource] of Object.entries(resources)) {
    if (resource.Type === 'AWS::Lambda::Function') outputs[`${id}Arn`] = { Value: { 'Fn::GetAtt': [id, 'Arn'] } };
  }

  const template: Template = {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: `ecs-caretaker (${config.service}): drain, cleanup, stopped-watch, task-lock and audit for Amazon ECS on EC2`,
    Parameters: parameters,
    Conditions: { [HAS_BOUNDARY]: { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: PARAMETERS.boundary }, ''] }] } },
    Resources: withStackTags(resources, config.stack.tags),
    Outputs: outputs,
  };
  const dangling = [...referencedIds(template)].filter(
    (ref) => !ref.startsWith('AWS::') && !(ref in template.Resources) && !(ref in (template.Parameters ?? {})),
  );
  if (dangling.length) throw new Error(`package:cfn: the template still refers to ${dangling.join(', ')}`);
  return template;
}
