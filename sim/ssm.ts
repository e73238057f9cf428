import type { SimClock } from './clock.ts';
import type { ServiceDef } from './dispatcher.ts';
import { SimError } from './errors.ts';
import type { EventBus } from './events.ts';
import type { Sim } from './index.ts';
import { mulberry32, uuid, type Random } from './random.ts';

/**
 * AWS Systems Manager Run Command over awsJson1_1 (x-amz-target
 * `AmazonSSM.<Op>`), as @aws-sdk/client-ssm calls it: SendCommand,
 * GetCommandInvocation, ListCommandInvocations, ListCommands and
 * DescribeInstanceInformation, with the limits of the SSM API reference
 * (botocore's ssm 2014-11-06 model carries the same constraints).
 *
 * No shell runs: each simulated instance answers with the result a test
 * chose (`setResult`), after `durationMs` on the simulated clock. Every
 * invocation status change is put on the bus as the "EC2 Command Invocation
 * Status-change Notification" that SSM sends to EventBridge
 * (EventBridge user guide, "Amazon EC2 Systems Manager events").
 */

/** "you can specify up to 50 IDs" (SendCommand InstanceIds). */
export const SEND_COMMAND_MAX_INSTANCES = 50;
/** Comment: "Maximum length of 100" (SendCommand). */
export const COMMENT_MAX = 100;
/** TimeoutSeconds: 30 to 2592000 (SendCommand). */
export const TIMEOUT_SECONDS_RANGE = [30, 2_592_000] as const;
/** StandardOutputContent: "The first 24,000 characters written by the plugin to stdout" (GetCommandInvocation). */
export const STDOUT_MAX = 24_000;
/** StandardErrorContent: the first 8,000 characters (GetCommandInvocation). */
export const STDERR_MAX = 8_000;
/** CommandPlugin.Output: "Maximum length of 2500" (ListCommandInvocations with Details). */
export const PLUGIN_OUTPUT_MAX = 2_500;
/** InstanceInformationStringFilter Values: 1 to 100 items; MaxResults 5 to 50, default 10 (DescribeInstanceInformation). */
export const INSTANCE_FILTER_VALUES_MAX = 100;
const DII_MAX_RESULTS = [5, 50] as const;
const DII_DEFAULT_RESULTS = 10;
/** MaxResults 1 to 50 (ListCommands, ListCommandInvocations); CommandFilterList 1 to 5 filters. */
const LIST_MAX_RESULTS = 50;
const COMMAND_FILTERS_MAX = 5;
// SendCommand's own patterns for its rate controls (botocore ssm model, MaxConcurrency / MaxErrors).
const MAX_CONCURRENCY = /^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$/;
const MAX_ERRORS = /^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$/;
const INSTANCE_ID = /^(i|mi)-[0-9a-f]{8,17}$/;

export type PingStatus = 'Online' | 'ConnectionLost' | 'Inactive';
export type InvocationStatus = 'Pending' | 'InProgress' | 'Delayed' | 'Success' | 'Cancelled' | 'TimedOut' | 'Failed' | 'Cancelling';
export type InvocationStatusDetails =
  | 'Pending'
  | 'InProgress'
  | 'Delayed'
  | 'Success'
  | 'DeliveryTimedOut'
  | 'ExecutionTimedOut'
  | 'Failed'
  | 'Cancelled'
  | 'Undeliverable'
  | 'Terminated'
  | 'InvalidPlatform';

export interface SimManagedInstance {
  instanceId: string;
  pingStatus: PingStatus;
  platformType: 'Linux' | 'Windows' | 'MacOS';
  /** terminated: no longer listed; nonexistent: EC2 does not know it, so SSM calls naming it fail with InvalidInstanceId. */
  state: 'running' | 'terminated' | 'nonexistent';
  lastPing: number;
}

/** What an instance does with the next commands it runs. */
export interface SimResult {
  /**
   * The outcome Run Command reports. Default: Success when exitCode is 0, Failed otherwise.
   * TimedOut is an execution timeout; Undeliverable and InvalidPlatform never run the script.
   */
  status?: 'Success' | 'Failed' | 'TimedOut' | 'Undeliverable' | 'InvalidPlatform';
  stdout?: string;
  stderr?: string;
  exitCode?: number;
  /** Simulated run time; default 20 s. */
  durationMs?: number;
}

export interface DocumentParameterSpec {
  allowedPattern?: string;
  allowedValues?: string[];
  default?: string;
}

export interface SimDocument {
  name: string;
  parameters: Record<string, DocumentParameterSpec>;
  /** The step name GetCommandInvocation reports as PluginName. */
  stepName: string;
  platformTypes: Array<SimManagedInstance['platformType']>;
}

export interface SimInvocation {
  commandId: string;
  instanceId: string;
  status: InvocationStatus;
  statusDetails: InvocationStatusDetails;
  responseCode: number;
  stdout: string;
  stderr: string;
  requestedAt: number;
  startedAt?: number;
  endedAt?: number;
}

export interface SimCommand {
  commandId: string;
  documentName: string;
  comment?: string;
  instanceIds: string[];
  parameters: Record<string, string[]>;
  timeoutSeconds: number;
  maxConcurrency: string;
  maxErrors: string;
  cloudWatchOutputConfig?: { CloudWatchLogGroupName?: string; CloudWatchOutputEnabled?: boolean };
  requestedAt: number;
  invocations: SimInvocation[];
  errorCount: number;
}

const validation = (message: string) => new SimError('ValidationException', `1 validation error detected: ${message}`);
const FINAL: ReadonlySet<InvocationStatusDetails> = new Set([
  'Success',
  'DeliveryTimedOut',
  'ExecutionTimedOut',
  'Failed',
  'Cancelled',
  'Undeliverable',
  'Terminated',
  'InvalidPlatform',
]);
const DEFAULT_DURATION_MS = 20_000;
const isoSeconds = (ms: number) => ms / 1000;

/** How many of `total` a count ("5") or a percentage ("10%") allows. */
export function rateLimit(value: string, total: number, min: number): number {
  if (value.endsWith('%')) return Math.max(min, Math.floor((Number(value.slice(0, -1)) * total) / 100));
  return Number(value);
}

export class SsmSim {
  readonly commands: SimCommand[] = [];
  /** Delay between SendCommand and the first deliveries, and between a slot freeing up and the next start. */
  dispatchDelayMs = 1_000;
  private readonly instances = new Map<string, SimManagedInstance>();
  private readonly documents = new Map<string, SimDocument>();
  private readonly results = new Map<string, SimResult>();
  private defaultResult: SimResult = { exitCode: 0, stdout: '' };

  constructor(private readonly deps: { clock: SimClock; bus: EventBus; ids: Random; region: string; account: string }) {}

  // ---- arranging -------------------------------------------------------------

  /** A managed node: the SSM Agent has registered it. */
  registerInstance(instanceId: string, opts: { pingStatus?: PingStatus; platformType?: SimManagedInstance['platformType'] } = {}): SimManagedInstance {
    if (!INSTANCE_ID.test(instanceId)) throw new Error(`sim: ${instanceId} is not an instance id`);
    const instance: SimManagedInstance = {
      instanceId,
      pingStatus: opts.pingStatus ?? 'Online',
      platformType: opts.platformType ?? 'Linux',
      state: 'running',
      lastPing: this.deps.clock.now(),
    };
    this.instances.set(instanceId, instance);
    return instance;
  }

  setPingStatus(instanceId: string, pingStatus: PingStatus): void {
    this.requireInstance(instanceId).pingStatus = pingStatus;
  }

  /** terminated: gone from DescribeInstanceInformation; nonexistent: calls that name it fail with InvalidInstanceId. */
  setGone(instanceId: string, state: 'terminated' | 'nonexistent'): void {
    this.requireInstance(instanceId).state = state;
  }

  managedInstance(instanceId: string): SimManagedInstance | undefined {
    return this.instances.get(instanceId);
  }

  addDocument(
    name: string,
    parameters: Record<string, DocumentParameterSpec>,
    opts: { stepName?: string; platformTypes?: SimDocument['platformTypes'] } = {},
  ): SimDocument {
    const document = { name, parameters, stepName: opts.stepName ?? 'main', platformTypes: opts.platformTypes ?? ['Linux'] };
    this.documents.set(name, document);
    return document;
  }

  /** What `instanceId` answers to every command from now on. */
  setResult(instanceId: string, result: SimResult): void {
    this.results.set(instanceId, result);
  }

  /** What instances without their own result answer. */
  setDefaultResult(result: SimResult): void {
    this.defaultResult = result;
  }

  // ---- inspecting --------------------------------------------------------------

  /** Every invocation ever created for `instanceId`, in order. */
  invocationsOf(instanceId: string): SimInvocation[] {
    return this.commands.flatMap((c) => c.invocations.filter((i) => i.instanceId === instanceId));
  }

  command(commandId: string): SimCommand | undefined {
    return this.commands.find((c) => c.commandId === commandId);
  }

  // ---- the operations --------------------------------------------------------

  sendCommand(input: Record<string, any>, now: number): SimCommand {
    if (input.Targets !== undefined) throw new SimError('InvalidParameters', 'sim: SendCommand with Targets is not modelled; use InstanceIds');
    const document = typeof input.DocumentName === 'string' ? this.documents.get(input.DocumentName) : undefined;
    if (!document) throw new SimError('InvalidDocument', `Document ${String(input.DocumentName)} does not exist.`);
    const ids: unknown = input.InstanceIds;
    if (!Array.isArray(ids) || ids.length === 0) throw new SimError('InvalidInstanceId', 'InstanceIds or Targets are required.');
    if (ids.length > SEND_COMMAND_MAX_INSTANCES) {
      throw validation(`Value at 'instanceIds' failed to satisfy constraint: Member must have length less than or equal to ${SEND_COMMAND_MAX_INSTANCES}`);
    }
    if (new Set(ids).size !== ids.length) throw new SimError('DuplicateInstanceId', 'You cannot specify an instance ID in more than one association.');
    for (const id of ids) {
      const instance = typeof id === 'string' ? this.instances.get(id) : undefined;
      if (instance?.state !== 'running')
        throw new SimError('InvalidInstanceId', `Instances [[${String(id)}]] not in a valid state for account ${this.deps.account}`);
    }
    const comment: unknown = input.Comment;
    if (comment !== undefined && (typeof comment !== 'string' || comment.length > COMMENT_MAX)) {
      throw validation(`Value at 'comment' failed to satisfy constraint: Member must have length less than or equal to ${COMMENT_MAX}`);
    }
    const timeoutSeconds = input.TimeoutSeconds ?? 3600;
    if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < TIMEOUT_SECONDS_RANGE[0] || timeoutSeconds > TIMEOUT_SECONDS_RANGE[1]) {
      throw validation(
        `Value '${timeoutSeconds}' at 'timeoutSeconds' failed to satisfy constraint: Member must have value between ${TIMEOUT_SECONDS_RANGE[0]} and ${TIMEOUT_SECONDS_RANGE[1]}`,
      );
    }
    const maxConcurrency = input.MaxConcurrency ?? '50';
    if (typeof maxConcurrency !== 'string' || !MAX_CONCURRENCY.test(maxConcurrency))
      throw validation(
        `Value '${maxConcurrency}' at 'maxConcurrency' failed to satisfy constraint: Member must satisfy regular expression pattern: ${MAX_CONCURRENCY.source}`,
      );
    const maxErrors = input.MaxErrors ?? '0';
    if (typeof maxErrors !== 'string' || !MAX_ERRORS.test(maxErrors))
      throw validation(
        `Value '${maxErrors}' at 'maxErrors' failed to satisfy constraint: Member must satisfy regular expression pattern: ${MAX_ERRORS.source}`,
      );
    const parameters = this.checkParameters(document, input.Parameters);

    const commandId = uuid(this.deps.ids);
    const command: SimCommand = {
      commandId,
      documentName: document.name,
      comment: comment as string | undefined,
      instanceIds: [...ids],
      parameters,
      timeoutSeconds,
      maxConcurrency,
      maxErrors,
      cloudWatchOutputConfig: input.CloudWatchOutputConfig,
      requestedAt: now,
      invocations: ids.map((instanceId: string) => ({
        commandId,
        instanceId,
        status: 'Pending',
        statusDetails: 'Pending',
        responseCode: -1,
        stdout: '',
        stderr: '',
        requestedAt: now,
      })),
      errorCount: 0,
    };
    this.commands.push(command);
    // "If this time is reached and the command hasn't already started running, it won't run" (SendCommand TimeoutSeconds).
    this.deps.clock.at(now + timeoutSeconds * 1000, () => this.expire(command));
    this.deps.clock.at(now + this.dispatchDelayMs, () => this.dispatch(command));
    return command;
  }

  private checkParameters(document: SimDocument, given: unknown): Record<string, string[]> {
    if (given === undefined) return {};
    if (typeof given !== 'object' || given === null || Array.isArray(given)) throw new SimError('InvalidParameters', 'Parameters must be a map of lists.');
    const out: Record<string, string[]> = {};
    for (const [name, values] of Object.entries(given)) {
      const spec = document.parameters[name];
      if (!spec) throw new SimError('InvalidParameters', `Parameter "${name}" is not defined in document ${document.name}.`);
      if (!Array.isArray(values) || values.length !== 1 || typeof values[0] !== 'string')
        throw new SimError('InvalidParameters', `Parameter "${name}" takes one String value.`);
      const value = values[0];
      if (spec.allowedValues && !spec.allowedValues.includes(value))
        throw new SimError('InvalidParameters', `Parameter "${name}" has a value "${value}" not in its allowedValues.`);
      if (spec.allowedPattern && !new RegExp(spec.allowedPattern).test(value))
        throw new SimError('InvalidParameters', `Parameter "${name}" has a value "${value}" not matching "${spec.allowedPattern}".`);
      out[name] = [value];
    }
    return out;
  }

  /** Starts as many pending invocations as the command's MaxConcurrency allows. */
  private dispatch(command: SimCommand): void {
    const limit = rateLimit(command.maxConcurrency, command.invocations.length, 1);
    const running = () => command.invocations.filter((i) => i.status === 'InProgress').length;
    for (const invocation of command.invocations) {
      if (running() >= limit) break;
      if (invocation.statusDetails !== 'Pending') continue;
      this.start(command, invocation);
    }
  }

  private start(command: SimCommand, invocation: SimInvocation): void {
    const instance = this.instances.get(invocation.instanceId)!;
    const document = this.documents.get(command.documentName)!;
    const result = this.results.get(invocation.instanceId) ?? this.defaultResult;
    const now = this.deps.clock.now();
    if (result.status === 'Undeliverable' || instance.state !== 'running') {
      this.finish(command, invocation, 'Failed', 'Undeliverable');
      return;
    }
    if (result.status === 'InvalidPlatform' || !document.platformTypes.includes(instance.platformType)) {
      this.finish(command, invocation, 'Failed', 'InvalidPlatform');
      return;
    }
    // An agent that is not connected never picks the command up: it waits for the delivery timeout.
    if (instance.pingStatus !== 'Online') {
      this.update(invocation, 'Delayed', 'Delayed');
      return;
    }
    invocation.startedAt = now;
    this.update(invocation, 'InProgress', 'InProgress');
    this.deps.clock.after(result.durationMs ?? DEFAULT_DURATION_MS, () => {
      invocation.stdout = result.stdout ?? '';
      invocation.stderr = result.stderr ?? '';
      invocation.responseCode = result.exitCode ?? (result.status === 'Failed' ? 1 : 0);
      const status = result.status ?? (invocation.responseCode === 0 ? 'Success' : 'Failed');
      if (status === 'TimedOut') this.finish(command, invocation, 'TimedOut', 'ExecutionTimedOut');
      else this.finish(command, invocation, status === 'Success' ? 'Success' : 'Failed', status === 'Success' ? 'Success' : 'Failed');
    });
  }

  private finish(command: SimCommand, invocation: SimInvocation, status: InvocationStatus, details: InvocationStatusDetails): void {
    invocation.endedAt = this.deps.clock.now();
    this.update(invocation, status, details);
    // Failed and ExecutionTimedOut count against MaxErrors; Undeliverable and delivery timeouts do not (GetCommandInvocation StatusDetails).
    if (details === 'Failed' || details === 'ExecutionTimedOut') command.errorCount++;
    const allowed = rateLimit(command.maxErrors, command.invocations.length, 0);
    if (command.errorCount > allowed) {
      // "the systems stops sending the command to additional targets" (SendCommand MaxErrors).
      for (const pending of command.invocations.filter((i) => i.statusDetails === 'Pending')) {
        pending.endedAt = this.deps.clock.now();
        this.update(pending, 'Cancelled', 'Terminated');
      }
      return;
    }
    this.deps.clock.after(this.dispatchDelayMs, () => this.dispatch(command));
  }

  private expire(command: SimCommand): void {
    for (const invocation of command.invocations) {
      if (invocation.statusDetails === 'Pending' || invocation.statusDetails === 'Delayed') {
        invocation.endedAt = this.deps.clock.now();
        this.update(invocation, 'TimedOut', 'DeliveryTimedOut');
      }
    }
  }

  private update(invocation: SimInvocation, status: InvocationStatus, details: InvocationStatusDetails): void {
    if (FINAL.has(invocation.statusDetails)) return;
    invocation.status = status;
    invocation.statusDetails = details;
    const command = this.command(invocation.commandId)!;
    this.deps.bus.emit(
      'aws.ssm',
      'EC2 Command Invocation Status-change Notification',
      {
        'command-id': command.commandId,
        'document-name': command.documentName,
        'instance-id': invocation.instanceId,
        'requested-date-time': new Date(command.requestedAt).toISOString(),
        status,
      },
      [`arn:aws:ec2:${this.deps.region}:${this.deps.account}:instance/${invocation.instanceId}`],
    );
  }

  getCommandInvocation(input: Record<string, any>): Record<string, unknown> {
    const command = typeof input.CommandId === 'string' ? this.command(input.CommandId) : undefined;
    const invocation = command?.invocations.find((i) => i.instanceId === input.InstanceId);
    if (!command || !invocation)
      throw new SimError('InvocationDoesNotExist', 'The command ID and managed node ID you specified did not match any invocations.');
    const document = this.documents.get(command.documentName)!;
    if (input.PluginName !== undefined && input.PluginName !== document.stepName)
      throw new SimError('InvalidPluginName', `The plugin name ${input.PluginName} is not valid.`);
    const final = FINAL.has(invocation.statusDetails);
    return {
      CommandId: command.commandId,
      InstanceId: invocation.instanceId,
      Comment: command.comment ?? '',
      DocumentName: command.documentName,
      DocumentVersion: '1',
      PluginName: document.stepName,
      ResponseCode: invocation.responseCode,
      ExecutionStartDateTime: invocation.startedAt === undefined ? '' : new Date(invocation.startedAt).toISOString(),
      ExecutionElapsedTime:
        invocation.startedAt === undefined || invocation.endedAt === undefined ? '' : `PT${(invocation.endedAt - invocation.startedAt) / 1000}S`,
      ExecutionEndDateTime: invocation.endedAt === undefined ? '' : new Date(invocation.endedAt).toISOString(),
      Status: invocation.status,
      StatusDetails: invocation.statusDetails,
      // Empty until the invocation is over (GetCommandInvocation StandardOutputContent).
      StandardOutputContent: final ? invocation.stdout.slice(0, STDOUT_MAX) : '',
      StandardOutputUrl: '',
      StandardErrorContent: final ? invocation.stderr.slice(0, STDERR_MAX) : '',
      StandardErrorUrl: '',
      CloudWatchOutputConfig: command.cloudWatchOutputConfig ?? { CloudWatchLogGroupName: '', CloudWatchOutputEnabled: false },
    };
  }

  describeInstanceInformation(input: Record<string, any>): Record<string, unknown> {
    if (input.Filters !== undefined && input.InstanceInformationFilterList !== undefined) {
      throw new SimError('InvalidInstanceInformationFilterValue', 'Attempting to use InstanceInformationFilterList and Filters leads to an exception error.');
    }
    const max = input.MaxResults ?? DII_DEFAULT_RESULTS;
    if (!Number.isInteger(max) || max < DII_MAX_RESULTS[0] || max > DII_MAX_RESULTS[1]) {
      throw validation(
        `Value '${max}' at 'maxResults' failed to satisfy constraint: Member must have value between ${DII_MAX_RESULTS[0]} and ${DII_MAX_RESULTS[1]}`,
      );
    }
    const filters: Array<{ key: string; values: string[] }> = [
      ...((input.Filters ?? []) as Array<{ Key: string; Values: string[] }>).map((f) => ({ key: f.Key, values: f.Values })),
      ...((input.InstanceInformationFilterList ?? []) as Array<{ key: string; valueSet: string[] }>).map((f) => ({ key: f.key, values: f.valueSet })),
    ];
    let listed = [...this.instances.values()].filter((i) => i.state === 'running');
    for (const { key, values } of filters) {
      if (!Array.isArray(values) || values.length === 0 || values.length > INSTANCE_FILTER_VALUES_MAX) {
        throw validation(`Value at 'filters.${key}.values' failed to satisfy constraint: Member must have length between 1 and ${INSTANCE_FILTER_VALUES_MAX}`);
      }
      if (key === 'InstanceIds') {
        for (const id of values) {
          // "If you specify a node ID that isn't valid or a node that you don't own, you receive an error."
          if (!INSTANCE_ID.test(id) || this.instances.get(id)?.state === 'nonexistent') throw new SimError('InvalidInstanceId', `Instance ${id} is not valid.`);
        }
        const wanted = new Set(values);
        listed = listed.filter((i) => wanted.has(i.instanceId));
      } else if (key === 'PingStatus') {
        listed = listed.filter((i) => values.includes(i.pingStatus));
      } else if (key === 'PlatformTypes') {
        listed = listed.filter((i) => values.includes(i.platformType));
      } else {
        throw new SimError('InvalidFilterKey', `sim: filter key ${key} is not modelled`);
      }
    }
    const { page, nextToken } = paginate(listed, input.NextToken, max);
    return {
      InstanceInformationList: page.map((i) => ({
        InstanceId: i.instanceId,
        PingStatus: i.pingStatus,
        LastPingDateTime: isoSeconds(i.lastPing),
        AgentVersion: '3.3.987.0',
        IsLatestVersion: true,
        PlatformType: i.platformType,
        PlatformName: i.platformType === 'Linux' ? 'Amazon Linux' : i.platformType,
        PlatformVersion: '2023',
        ResourceType: 'EC2Instance',
        SourceId: i.instanceId,
        SourceType: 'AWS::EC2::Instance',
      })),
      NextToken: nextToken,
    };
  }

  /** Commands matching ListCommands / ListCommandInvocations filters (CommandFilter keys). */
  private filtered(input: Record<string, any>, allowExecutionStage: boolean): SimCommand[] {
    const filters: Array<{ key: string; value: string }> = input.Filters ?? [];
    if (!Array.isArray(filters) || filters.length > COMMAND_FILTERS_MAX)
      throw validation(`Value at 'filters' failed to satisfy constraint: Member must have length less than or equal to ${COMMAND_FILTERS_MAX}`);
    let commands = this.commands.filter(
      (c) => (input.CommandId === undefined || c.commandId === input.CommandId) && (input.InstanceId === undefined || c.instanceIds.includes(input.InstanceId)),
    );
    for (const { key, value } of filters) {
      switch (key) {
        case 'InvokedAfter':
          commands = commands.filter((c) => c.requestedAt >= Date.parse(value));
          break;
        case 'InvokedBefore':
          commands = commands.filter((c) => c.requestedAt <= Date.parse(value));
          break;
        case 'DocumentName':
          commands = commands.filter((c) => c.documentName === value);
          break;
        case 'Status':
          commands = commands.filter((c) => c.invocations.some((i) => i.status === value));
          break;
        case 'ExecutionStage':
          // "The ExecutionStage filter can't be used with the ListCommandInvocations operation" (CommandFilter).
          if (!allowExecutionStage) throw new SimError('InvalidFilterKey', 'ExecutionStage is not a valid filter for ListCommandInvocations.');
          commands = commands.filter((c) => (value === 'Complete') === c.invocations.every((i) => FINAL.has(i.statusDetails)));
          break;
        default:
          throw new SimError('InvalidFilterKey', `The filter key ${key} is not valid.`);
      }
    }
    return commands;
  }

  listCommandInvocations(input: Record<string, any>): Record<string, unknown> {
    const max = listMax(input.MaxResults);
    const invocations = this.filtered(input, false).flatMap((c) =>
      c.invocations.filter((i) => input.InstanceId === undefined || i.instanceId === input.InstanceId).map((i) => ({ c, i })),
    );
    const { page, nextToken } = paginate(invocations, input.NextToken, max);
    return {
      CommandInvocations: page.map(({ c, i }) => ({
        CommandId: c.commandId,
        InstanceId: i.instanceId,
        Comment: c.comment ?? '',
        DocumentName: c.documentName,
        DocumentVersion: '1',
        RequestedDateTime: isoSeconds(c.requestedAt),
        Status: i.status,
        StatusDetails: i.statusDetails,
        ...(input.Details
          ? {
              CommandPlugins: [
                {
                  Name: this.documents.get(c.documentName)!.stepName,
                  Status: i.status,
                  StatusDetails: i.statusDetails,
                  ResponseCode: i.responseCode,
                  Output: FINAL.has(i.statusDetails) ? i.stdout.slice(0, PLUGIN_OUTPUT_MAX) : '',
                },
              ],
            }
          : {}),
        CloudWatchOutputConfig: c.cloudWatchOutputConfig,
      })),
      NextToken: nextToken,
    };
  }

  listCommands(input: Record<string, any>): Record<string, unknown> {
    const max = listMax(input.MaxResults);
    const { page, nextToken } = paginate(this.filtered(input, true), input.NextToken, max);
    return { Commands: page.map((c) => this.apiCommand(c)), NextToken: nextToken };
  }

  apiCommand(c: SimCommand): Record<string, unknown> {
    const final = c.invocations.filter((i) => FINAL.has(i.statusDetails));
    const status =
      final.length < c.invocations.length
        ? c.invocations.some((i) => i.status === 'InProgress')
          ? 'InProgress'
          : 'Pending'
        : final.every((i) => i.statusDetails === 'Success')
          ? 'Success'
          : 'Failed';
    return {
      CommandId: c.commandId,
      DocumentName: c.documentName,
      DocumentVersion: '1',
      Comment: c.comment ?? '',
      ExpiresAfter: isoSeconds(c.requestedAt + c.timeoutSeconds * 1000),
      Parameters: c.parameters,
      InstanceIds: c.instanceIds,
      Targets: [],
      RequestedDateTime: isoSeconds(c.requestedAt),
      Status: status,
      StatusDetails: status,
      MaxConcurrency: c.maxConcurrency,
      MaxErrors: c.maxErrors,
      TargetCount: c.invocations.length,
      CompletedCount: final.length,
      ErrorCount: c.errorCount,
      DeliveryTimedOutCount: c.invocations.filter((i) => i.statusDetails === 'DeliveryTimedOut').length,
      TimeoutSeconds: c.timeoutSeconds,
      CloudWatchOutputConfig: c.cloudWatchOutputConfig,
    };
  }

  service(): ServiceDef {
    return {
      name: 'ssm',
      sdkServiceId: 'SSM',
      protocol: 'awsJson1_1',
      target: 'AmazonSSM',
      serverErrorCode: 'InternalServerError',
      operations: {
        SendCommand: (input, ctx) => ({ Command: this.apiCommand(this.sendCommand(input, ctx.now)) }),
        GetCommandInvocation: (input) => this.getCommandInvocation(input),
        DescribeInstanceInformation: (input) => this.describeInstanceInformation(input),
        ListCommandInvocations: (input) => this.listCommandInvocations(input),
        ListCommands: (input) => this.listCommands(input),
      },
    };
  }

  private requireInstance(instanceId: string): SimManagedInstance {
    const instance = this.instances.get(instanceId);
    if (!instance) throw new Error(`sim: no managed instance ${instanceId}`);
    return instance;
  }
}

function listMax(value: unknown): number {
  const max = value ?? LIST_MAX_RESULTS;
  if (!Number.isInteger(max) || (max as number) < 1 || (max as number) > LIST_MAX_RESULTS) {
    throw validation(`Value '${String(value)}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and ${LIST_MAX_RESULTS}`);
  }
  return max as number;
}

// Opaque to callers, like the real token; an offset is enough for a list that only grows at its end.
function paginate<T>(items: T[], token: unknown, max: number): { page: T[]; nextToken?: string } {
  let offset = 0;
  if (token !== undefined) {
    try {
      offset = JSON.parse(Buffer.from(String(token), 'base64url').toString('utf8')).offset;
    } catch {
      offset = Number.NaN;
    }
    if (!Number.isInteger(offset) || offset < 0) throw new SimError('InvalidNextToken', 'The specified token is not valid.');
  }
  const page = items.slice(offset, offset + max);
  const next = offset + page.length;
  return { page, nextToken: next < items.length ? Buffer.from(JSON.stringify({ offset: next })).toString('base64url') : undefined };
}

/** Registers Systems Manager with the simulator; its endpoint then appears in sim.env() as AWS_ENDPOINT_URL_SSM. */
export function installSsm(sim: Sim, opts: { seed?: number } = {}): SsmSim {
  const ssm = new SsmSim({ clock: sim.clock, bus: sim.bus, ids: mulberry32(opts.seed ?? 0x53534d), region: sim.region, account: sim.account });
  sim.register(ssm.service());
  return ssm;
}
