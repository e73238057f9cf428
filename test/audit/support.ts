import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Service, TaskDefinition } from '@aws-sdk/client-ecs';
import { main, type CliIo } from '../../functions/audit/cli.ts';
import type { TargetGroupInput } from '../../functions/audit/rules.ts';

export const fixturesDir = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
export const fixturePath = (name: string): string => join(fixturesDir, name);

const read = <T>(name: string): T => JSON.parse(readFileSync(fixturePath(name), 'utf8')) as T;

/** The register-task-definition input of a Fargate web service with an OpenTelemetry sidecar: no findings. */
export const checkoutRegister = (): TaskDefinition => read<TaskDefinition>('checkout-web.register.json');

/** The same task definition as DescribeTaskDefinition returns it once registered as revision 12. */
export const checkoutDescribed = (): TaskDefinition => ({
  ...checkoutRegister(),
  taskDefinitionArn: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/checkout-web:12',
  revision: 12,
  status: 'ACTIVE',
  compatibilities: ['EC2', 'FARGATE'],
});

/** describe-task-definition output of an EC2 bridge-mode worker: no findings. */
export const ordersWorker = (): TaskDefinition => read<{ taskDefinition: TaskDefinition }>('orders-worker.describe.json').taskDefinition;

/** DescribeServices output (dates stay ISO strings as the CLI prints them; the rules do not read them). */
export const checkoutService = (): Service => read<{ services: Service[] }>('checkout-web.describe-services.json').services[0]!;

export const checkoutTargetGroup = (): TargetGroupInput => ({
  targetGroup: read<{ TargetGroups: TargetGroupInput['targetGroup'][] }>('checkout-web.describe-target-groups.json').TargetGroups[0]!,
  attributes: read<{ Attributes: TargetGroupInput['attributes'] }>('checkout-web.describe-target-group-attributes.json').Attributes,
});

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** The `ecs-caretaker` command in-process, from the fixtures folder, with what it printed. */
export async function runCli(argv: string[], extra: Partial<CliIo> = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: {},
    cwd: fixturesDir,
    ...extra,
  });
  return { code, stdout, stderr };
}
