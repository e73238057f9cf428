/**
 * The simulator's Systems Manager, through a real @aws-sdk/client-ssm client:
 * SendCommand's limits, the invocation lifecycle on the clock with its events,
 * rate controls, and the read operations the cleanup function uses.
 */
import {
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  SendCommandCommand,
  SSMClient,
  type SendCommandCommandInput,
} from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSim, type AwsEvent, type Sim } from '../../sim/index.ts';
import { installSsm, STDOUT_MAX, type SsmSim } from '../../sim/ssm.ts';
import { credentials } from './clients.ts';

let sim: Sim;
let ssm: SsmSim;
let client: SSMClient;
const events: AwsEvent[] = [];
const DOC = 'test-doc';
const id = (n: number) => `i-0${n.toString(16).padStart(16, '0')}`;

beforeAll(async () => {
  sim = await startSim({ start: new Date('2026-11-23T10:00:00Z'), seed: 3 });
  ssm = installSsm(sim);
  ssm.addDocument(DOC, { Mode: { allowedValues: ['a', 'b'], allowedPattern: '^(a|b)$' }, Count: { allowedPattern: '^[0-9]{1,2}$' } }, { stepName: 'step1' });
  // maxAttempts 1: these tests look at each answer, not at the SDK's retries.
  client = new SSMClient({ endpoint: sim.endpoint, region: sim.region, credentials, maxAttempts: 1 });
  sim.bus.subscribe(
    'all-ssm',
    (e) => e.source === 'aws.ssm',
    (e) => void events.push(e),
  );
  for (let n = 1; n <= 120; n++) ssm.registerInstance(id(n));
});
afterAll(async () => {
  client?.destroy();
  await sim?.close();
});
beforeEach(() => {
  sim.faults.clear();
  events.length = 0;
});

const send = (input: Partial<SendCommandCommandInput>) => client.send(new SendCommandCommand({ DocumentName: DOC, InstanceIds: [id(1)], ...input }));
const invocation = (commandId: string, instanceId: string) => client.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }));

describe('sim SSM: SendCommand validation', () => {
  it('refuses 51 instance ids, and takes 50', async () => {
    const ids = Array.from({ length: 51 }, (_, i) => id(i + 1));
    await expect(send({ InstanceIds: ids })).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining('less than or equal to 50'),
    });
    const ok = await send({ InstanceIds: ids.slice(0, 50) });
    expect(ok.Command?.TargetCount).toBe(50);
  });

  it('refuses an unknown document, unknown or malformed parameters, a long comment, bad rate controls and unmanaged instances', async () => {
    await expect(send({ DocumentName: 'nope' })).rejects.toMatchObject({ name: 'InvalidDocument' });
    await expect(send({ Parameters: { Other: ['x'] } })).rejects.toMatchObject({ name: 'InvalidParameters', message: expect.stringContaining('Other') });
    await expect(send({ Parameters: { Mode: ['c'] } })).rejects.toMatchObject({ name: 'InvalidParameters' });
    await expect(send({ Parameters: { Count: ['100'] } })).rejects.toMatchObject({ name: 'InvalidParameters', message: expect.stringContaining('Count') });
    await expect(send({ Comment: 'x'.repeat(101) })).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('comment') });
    await expect(send({ MaxConcurrency: '0' })).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(send({ MaxErrors: '101%' })).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(send({ TimeoutSeconds: 29 })).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(send({ InstanceIds: ['i-0ffffffffffffffff'] })).rejects.toMatchObject({ name: 'InvalidInstanceId' });
    await expect(send({ InstanceIds: [id(1), id(1)] })).rejects.toMatchObject({ name: 'DuplicateInstanceId' });
    expect(ssm.commands.filter((c) => c.instanceIds.includes('i-0ffffffffffffffff'))).toHaveLength(0);
  });
});

describe('sim SSM: invocations on the clock', () => {
  it('runs, emits InProgress then the final status, and returns at most 24,000 characters of stdout', async () => {
    ssm.setResult(id(2), { stdout: `noise\n${'y'.repeat(30_000)}`, stderr: 'e'.repeat(9000), exitCode: 0, durationMs: 5000 });
    const out = await send({ InstanceIds: [id(2)], Comment: 'hello', Parameters: { Mode: ['a'] } });
    const commandId = out.Command!.CommandId!;
    expect((await invocation(commandId, id(2))).Status).toBe('Pending');
    await sim.clock.advance(2000);
    const running = await invocation(commandId, id(2));
    expect(running).toMatchObject({ Status: 'InProgress', StandardOutputContent: '' });
    await sim.clock.advance(5000);
    const done = await invocation(commandId, id(2));
    expect(done).toMatchObject({ Status: 'Success', StatusDetails: 'Success', ResponseCode: 0, Comment: 'hello', PluginName: 'step1', DocumentName: DOC });
    expect(done.StandardOutputContent).toHaveLength(STDOUT_MAX);
    expect(done.StandardErrorContent).toHaveLength(8000);
    await sim.bus.drain();
    const mine = events.filter((e) => e.detail['command-id'] === commandId);
    expect(mine.map((e) => e.detail.status)).toEqual(['InProgress', 'Success']);
    expect(mine[1]).toMatchObject({
      source: 'aws.ssm',
      'detail-type': 'EC2 Command Invocation Status-change Notification',
      resources: [`arn:aws:ec2:eu-west-1:123456789012:instance/${id(2)}`],
      detail: { 'command-id': commandId, 'document-name': DOC, 'instance-id': id(2), 'requested-date-time': expect.stringMatching(/^2026-11-23T/) },
    });
    await expect(invocation(commandId, id(3))).rejects.toMatchObject({ name: 'InvocationDoesNotExist' });
  });

  it('reports a non-zero exit as Failed, and Undeliverable and InvalidPlatform without running', async () => {
    ssm.setResult(id(4), { stdout: '{"exitCode":13}', exitCode: 13 });
    ssm.setResult(id(5), { status: 'Undeliverable' });
    ssm.registerInstance(id(200), { platformType: 'Windows' });
    const out = await send({ InstanceIds: [id(4), id(5), id(200)], MaxErrors: '100%' });
    await sim.clock.advance(60_000);
    const commandId = out.Command!.CommandId!;
    expect(await invocation(commandId, id(4))).toMatchObject({
      Status: 'Failed',
      StatusDetails: 'Failed',
      ResponseCode: 13,
      StandardOutputContent: '{"exitCode":13}',
    });
    expect(await invocation(commandId, id(5))).toMatchObject({ Status: 'Failed', StatusDetails: 'Undeliverable', ResponseCode: -1 });
    expect(await invocation(commandId, id(200))).toMatchObject({ StatusDetails: 'InvalidPlatform' });
  });

  it('lets an offline agent time out at the delivery deadline', async () => {
    ssm.setPingStatus(id(6), 'ConnectionLost');
    const out = await send({ InstanceIds: [id(6)], TimeoutSeconds: 120 });
    await sim.clock.advance(60_000);
    expect((await invocation(out.Command!.CommandId!, id(6))).Status).toBe('Delayed');
    await sim.clock.advance(61_000);
    expect(await invocation(out.Command!.CommandId!, id(6))).toMatchObject({ Status: 'TimedOut', StatusDetails: 'DeliveryTimedOut' });
    ssm.setPingStatus(id(6), 'Online');
  });

  it('runs at most MaxConcurrency at once and stops sending past MaxErrors', async () => {
    const ids = Array.from({ length: 10 }, (_, i) => id(10 + i));
    for (const i of ids) ssm.setResult(i, { exitCode: 1, durationMs: 10_000 });
    const out = await send({ InstanceIds: ids, MaxConcurrency: '20%', MaxErrors: '2' });
    const command = ssm.command(out.Command!.CommandId!)!;
    await sim.clock.advance(1500);
    expect(command.invocations.filter((i) => i.status === 'InProgress')).toHaveLength(2);
    await sim.clock.advance(60_000);
    // 2 + 1 failures fit the first two waves; after the third error the rest is never sent.
    expect(command.invocations.filter((i) => i.statusDetails === 'Failed').length).toBeGreaterThanOrEqual(3);
    expect(command.invocations.filter((i) => i.statusDetails === 'Terminated').length).toBeGreaterThan(0);
    expect(command.invocations.every((i) => ['Failed', 'Terminated'].includes(i.statusDetails))).toBe(true);
  });
});

describe('sim SSM: reads', () => {
  it('DescribeInstanceInformation filters by InstanceIds (at most 100), pages by MaxResults (5 to 50), and refuses invalid ids', async () => {
    ssm.setPingStatus(id(30), 'ConnectionLost');
    const ids = Array.from({ length: 60 }, (_, i) => id(21 + i));
    const first = await client.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: ids }], MaxResults: 50 }));
    expect(first.InstanceInformationList).toHaveLength(50);
    const second = await client.send(
      new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: ids }], MaxResults: 50, NextToken: first.NextToken }),
    );
    expect(second.InstanceInformationList).toHaveLength(10);
    expect(second.NextToken).toBeUndefined();
    expect([...first.InstanceInformationList!, ...second.InstanceInformationList!].find((i) => i.InstanceId === id(30))).toMatchObject({
      PingStatus: 'ConnectionLost',
      PlatformType: 'Linux',
    });
    const unmanaged = await client.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: ['i-0aaaaaaaaaaaaaaaa'] }] }));
    expect(unmanaged.InstanceInformationList).toEqual([]);
    await expect(
      client.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: Array.from({ length: 101 }, (_, i) => id(i + 1)) }] })),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(client.send(new DescribeInstanceInformationCommand({ MaxResults: 51 }))).rejects.toMatchObject({ name: 'ValidationException' });
    ssm.registerInstance(id(300));
    ssm.setGone(id(300), 'nonexistent');
    await expect(client.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [id(1), id(300)] }] }))).rejects.toMatchObject({
      name: 'InvalidInstanceId',
    });
    ssm.setPingStatus(id(30), 'Online');
  });

  it('ListCommands and ListCommandInvocations filter by document and time, page, and refuse ExecutionStage for invocations', async () => {
    const before = new Date(sim.clock.now()).toISOString();
    const a = await send({ InstanceIds: [id(40), id(41)], Comment: 'find me #0badc0de' });
    await sim.clock.advance(30_000);
    const commands = await client.send(
      new ListCommandsCommand({
        Filters: [
          { key: 'DocumentName', value: DOC },
          { key: 'InvokedAfter', value: before },
        ],
      }),
    );
    expect(commands.Commands!.map((c) => c.CommandId)).toEqual([a.Command!.CommandId]);
    expect(commands.Commands![0]).toMatchObject({ Comment: 'find me #0badc0de', InstanceIds: [id(40), id(41)], Status: 'Success', CompletedCount: 2 });
    const invocations = await client.send(new ListCommandInvocationsCommand({ CommandId: a.Command!.CommandId, MaxResults: 1, Details: true }));
    expect(invocations.CommandInvocations).toHaveLength(1);
    expect(invocations.CommandInvocations![0]).toMatchObject({ Comment: 'find me #0badc0de', CommandPlugins: [{ Name: 'step1', Status: 'Success' }] });
    const rest = await client.send(new ListCommandInvocationsCommand({ CommandId: a.Command!.CommandId, NextToken: invocations.NextToken }));
    expect(rest.CommandInvocations!.map((i) => i.InstanceId)).toEqual([id(41)]);
    await expect(client.send(new ListCommandInvocationsCommand({ Filters: [{ key: 'ExecutionStage', value: 'Complete' }] }))).rejects.toMatchObject({
      name: 'InvalidFilterKey',
    });
    await expect(client.send(new ListCommandsCommand({ NextToken: 'garbage' }))).rejects.toMatchObject({ name: 'InvalidNextToken' });
  });

  it('goes through the fault injection like every simulated service', async () => {
    sim.faults.failNext('ssm', 'SendCommand', 'ThrottlingException', 1);
    const commandsBefore = ssm.commands.length;
    await expect(send({})).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(ssm.commands.length).toBe(commandsBefore);
    expect(sim.calls.at(-1)).toMatchObject({ service: 'ssm', op: 'SendCommand', error: 'ThrottlingException' });
  });
});
