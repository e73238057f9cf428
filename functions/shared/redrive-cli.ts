/**
 * `ecs-caretaker redrive --function <id> [--dry-run]`: the command line of
 * redrive.ts. The queue and the function are named from the config's service
 * and the stage as the stack names them, unless given outright.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { ConfigError, parseConfig } from './config.ts';
import { FUNCTION_IDS, functionName, stackPrefix, type FunctionId } from './function-ids.ts';
import { redrive, type RedriveCounts } from './redrive.ts';

export const REDRIVE_USAGE = `Usage:
  ecs-caretaker redrive --function <${FUNCTION_IDS.join('|')}> [--stage <stage>] [--dry-run] [options]

Reads the function's dead-letter queue (<service>-<stage>-<function>-dlq), rebuilds
the original event of each message (Lambda failure records, EventBridge and Scheduler
dead letters, SNS notifications), invokes the function with it and deletes the
message only when that invocation succeeds. Messages it cannot read stay in the queue.

Options:
  --function <id>        the function whose DLQ to redrive
  --stage <stage>        the stage deployed (default: dev)
  --config <file>        the config deployed, for its service name (default: CARETAKER_CONFIG,
                         else caretaker.config.ts)
  --function-name <name> the deployed function, instead of <service>-<stage>-<key>
  --queue-url <url>      the DLQ, instead of looking <function name>-dlq up
  --region <region>      AWS region (default: AWS_REGION, AWS_DEFAULT_REGION)
  --max <n>              stop after n messages (default: 1000)
  --dry-run              only read and classify; every message stays in the queue
  -h, --help             print this help

Exit codes: 0 every message read was redriven (or would be), 1 some stay in the queue,
2 usage error or an AWS call refused.
`;

export interface RedriveIo {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
  env: NodeJS.ProcessEnv;
  clients?: { sqs: SQSClient; lambda: LambdaClient };
  /** base of a relative --config; process.cwd() by default */
  cwd?: string;
}

/** The service name of the deployed config: the config is a TypeScript module, which Node loads with its types stripped. */
async function serviceOf(file: string): Promise<string> {
  const mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  return parseConfig(mod.default ?? mod).service;
}

// Longer than the longest function timeout (infra/functions: 300 s), so a message is not received twice while its invoke runs.
const VISIBILITY_TIMEOUT_SECONDS = 360;

export function summary(counts: RedriveCounts, dryRun: boolean): string {
  const kinds = Object.entries(counts.byKind)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(', ');
  const done = dryRun ? `would redrive ${counts.wouldRedrive}` : `redriven ${counts.redriven}, failed again ${counts.failed}`;
  return `received ${counts.received} (${kinds || 'none'}); ${done}; unreadable ${counts.unreadable}; other function ${counts.foreign}\n`;
}

export async function redriveMain(argv: string[], io: RedriveIo): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        function: { type: 'string' },
        stage: { type: 'string', default: 'dev' },
        config: { type: 'string' },
        'function-name': { type: 'string' },
        'queue-url': { type: 'string' },
        region: { type: 'string' },
        max: { type: 'string', default: '1000' },
        'dry-run': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (error) {
    io.stderr.write(`${(error as Error).message}\n\n${REDRIVE_USAGE}`);
    return 2;
  }
  if (values.help) {
    io.stdout.write(REDRIVE_USAGE);
    return 0;
  }
  const id = values.function as string | undefined;
  if (!id || !(FUNCTION_IDS as readonly string[]).includes(id)) {
    io.stderr.write(`--function: expected one of ${FUNCTION_IDS.join(', ')}, got ${id === undefined ? 'nothing' : `"${id}"`}\n\n${REDRIVE_USAGE}`);
    return 2;
  }
  const max = Number(values.max);
  if (!Number.isInteger(max) || max < 1) {
    io.stderr.write(`--max: expected a whole number of at least 1, got "${values.max}"\n`);
    return 2;
  }

  let name = values['function-name'] as string | undefined;
  if (!name) {
    const file = (values.config as string | undefined) ?? io.env.CARETAKER_CONFIG ?? 'caretaker.config.ts';
    const path = isAbsolute(file) ? file : resolve(io.cwd ?? process.cwd(), file);
    try {
      name = functionName(stackPrefix(await serviceOf(path), values.stage as string), id as FunctionId);
    } catch (error) {
      const why = error instanceof ConfigError ? error.message : `Cannot load ${path}: ${(error as Error).message}`;
      io.stderr.write(`${why}\n(or name the function with --function-name)\n`);
      return 2;
    }
  }
  const region = (values.region as string | undefined) ?? io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION;
  const clients = io.clients ?? { sqs: new SQSClient({ region }), lambda: new LambdaClient({ region, requestHandler: { requestTimeout: 330_000 } }) };
  const dryRun = values['dry-run'] === true;
  try {
    const queueUrl = (values['queue-url'] as string | undefined) ?? (await clients.sqs.send(new GetQueueUrlCommand({ QueueName: `${name}-dlq` }))).QueueUrl!;
    io.stdout.write(`${dryRun ? 'Dry run: reading' : 'Redriving'} ${queueUrl} into ${name}\n`);
    const counts = await redrive(
      clients,
      { queueUrl, functionName: name },
      { dryRun, max, visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_SECONDS, log: (line) => io.stdout.write(`${line}\n`) },
    );
    io.stdout.write(summary(counts, dryRun));
    return counts.failed + counts.unreadable + counts.foreign > 0 ? 1 : 0;
  } catch (error) {
    io.stderr.write(`redrive of ${name} stopped: ${(error as Error).name}: ${(error as Error).message}\n`);
    return 2;
  }
}
