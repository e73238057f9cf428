import type { SimClock } from './clock.ts';
import type { ServiceDef } from './dispatcher.ts';
import { SimError } from './errors.ts';
import { decodeToken, encodeToken } from './page-token.ts';
import type { EventBus } from './events.ts';
import { queryResult } from './protocols/query.ts';
import { uuid, type Random } from './random.ts';

/**
 * EC2 Auto Scaling, as far as termination lifecycle hooks go (EC2 Auto Scaling
 * user guide, "Amazon EC2 Auto Scaling lifecycle hooks"):
 * - terminating an instance puts it in Terminating:Wait once per terminate
 *   hook, and emits "EC2 Instance-terminate Lifecycle Action" with a token;
 * - the action ends with CompleteLifecycleAction, or with the hook's
 *   DefaultResult when HeartbeatTimeout passes without a heartbeat, or when the
 *   global timeout, min(48 h, 100 × HeartbeatTimeout) from the start, passes;
 * - RecordLifecycleActionHeartbeat restarts the heartbeat timeout;
 * - once an action is over, Complete and Heartbeat answer ValidationError
 *   "No active Lifecycle Action found with instance ID i-…".
 * When every hook of an instance is over the instance terminates, except an
 * ABANDONed one in a group whose instance lifecycle policy retains it.
 *
 * Each group knows its instances and their LifecycleState, which
 * DescribeAutoScalingGroups reports: InService, Terminating:Wait while a
 * terminate hook holds the instance, Terminating:Retained when retained; an
 * instance that terminated or went to the warm pool leaves the list (the warm
 * pool is DescribeWarmPool's, which the drain does not call).
 */

export const AUTOSCALING_NAMESPACE = 'http://autoscaling.amazonaws.com/doc/2011-01-01/';
const TERMINATING = 'autoscaling:EC2_INSTANCE_TERMINATING';
const GLOBAL_TIMEOUT_MAX_S = 48 * 3600;
// DescribeAutoScalingGroups: "The default value is 50 and the maximum value is 100" (MaxRecords,
// Amazon EC2 Auto Scaling API reference, DescribeAutoScalingGroups).
const DESCRIBE_GROUPS_DEFAULT = 50;
const DESCRIBE_GROUPS_MAX = 100;

export type LifecycleResult = 'CONTINUE' | 'ABANDON';

export interface LifecycleHookDef {
  name: string;
  transition: string;
  heartbeatTimeoutSeconds: number;
  defaultResult: LifecycleResult;
}

export interface AutoScalingGroup {
  name: string;
  arn: string;
  hooks: Map<string, LifecycleHookDef>;
  /** The group's instance lifecycle policy keeps an instance whose terminate action was ABANDONed. */
  retainOnAbandon: boolean;
  /** instance id → LifecycleState, in the order the instances joined */
  instances: Map<string, string>;
}

export interface LifecycleAction {
  token: string;
  asg: string;
  hookName: string;
  instanceId: string;
  origin?: string;
  destination?: string;
  startedAt: number;
  /** epoch ms when the heartbeat timeout ends, moved by each heartbeat */
  heartbeatDeadline: number;
  /** epoch ms of the global timeout */
  globalDeadline: number;
  heartbeats: number;
  status: 'pending' | 'completed';
  result?: LifecycleResult;
  completedAt?: number;
  completedBy?: 'api' | 'heartbeat-timeout' | 'global-timeout';
}

export type InstanceFate = 'terminated' | 'retained' | 'warm-pool';

export class AutoScalingSim {
  readonly groups = new Map<string, AutoScalingGroup>();
  readonly actions: LifecycleAction[] = [];
  /** Every CompleteLifecycleAction that reached the service, accepted or not. */
  readonly completeCalls: Array<{ at: number; input: any; accepted: boolean }> = [];
  private readonly cancels = new Map<LifecycleAction, () => void>();
  private readonly listeners: Array<(asg: string, instanceId: string, fate: InstanceFate) => void> = [];

  constructor(private readonly deps: { clock: SimClock; bus: EventBus; ids: Random; region: string; account: string }) {}

  addGroup(name: string, opts: { retainOnAbandon?: boolean } = {}): AutoScalingGroup {
    const group: AutoScalingGroup = {
      name,
      arn: `arn:aws:autoscaling:${this.deps.region}:${this.deps.account}:autoScalingGroup:${uuid(this.deps.ids)}:autoScalingGroupName/${name}`,
      hooks: new Map(),
      retainOnAbandon: opts.retainOnAbandon ?? false,
      instances: new Map(),
    };
    this.groups.set(name, group);
    return group;
  }

  putLifecycleHook(asg: string, hook: { name: string; heartbeatTimeoutSeconds: number; defaultResult?: LifecycleResult; transition?: string }): void {
    this.requireGroup(asg).hooks.set(hook.name, {
      name: hook.name,
      transition: hook.transition ?? TERMINATING,
      heartbeatTimeoutSeconds: hook.heartbeatTimeoutSeconds,
      defaultResult: hook.defaultResult ?? 'ABANDON',
    });
  }

  /** An instance that runs in the group (LifecycleState InService). */
  addInstance(asg: string, instanceId: string): void {
    this.requireGroup(asg).instances.set(instanceId, 'InService');
  }

  /** What DescribeAutoScalingGroups would report for the instance, if the group lists it. */
  lifecycleState(asg: string, instanceId: string): string | undefined {
    return this.groups.get(asg)?.instances.get(instanceId);
  }

  /** Called when an instance has left its group for good (or was retained). */
  onInstanceLeft(listener: (asg: string, instanceId: string, fate: InstanceFate) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Scale-in of one instance: one lifecycle action per terminate hook, each
   * announced on the bus. `destination: 'WarmPool'` is the scale-in into a warm pool.
   */
  terminate(asg: string, instanceId: string, opts: { origin?: string; destination?: string; metadata?: string } = {}): LifecycleAction[] {
    const group = this.requireGroup(asg);
    const now = this.deps.clock.now();
    const started: LifecycleAction[] = [];
    // Scale-in into a warm pool waits in Warmed:Pending:Wait (EC2 Auto Scaling user guide, "Warm pool instance lifecycle").
    group.instances.set(instanceId, opts.destination === 'WarmPool' ? 'Warmed:Pending:Wait' : 'Terminating:Wait');
    for (const hook of group.hooks.values()) {
      if (hook.transition !== TERMINATING) continue;
      const action: LifecycleAction = {
        token: uuid(this.deps.ids),
        asg,
        hookName: hook.name,
        instanceId,
        origin: opts.origin,
        destination: opts.destination,
        startedAt: now,
        heartbeatDeadline: now + hook.heartbeatTimeoutSeconds * 1000,
        globalDeadline: now + Math.min(GLOBAL_TIMEOUT_MAX_S, 100 * hook.heartbeatTimeoutSeconds) * 1000,
        heartbeats: 0,
        status: 'pending',
      };
      this.actions.push(action);
      started.push(action);
      this.armTimers(action, hook);
      this.deps.bus.emit(
        'aws.autoscaling',
        'EC2 Instance-terminate Lifecycle Action',
        {
          LifecycleActionToken: action.token,
          AutoScalingGroupName: asg,
          LifecycleHookName: hook.name,
          EC2InstanceId: instanceId,
          LifecycleTransition: TERMINATING,
          ...(opts.metadata !== undefined ? { NotificationMetadata: opts.metadata } : {}),
          ...(opts.origin !== undefined ? { Origin: opts.origin } : {}),
          ...(opts.destination !== undefined ? { Destination: opts.destination } : {}),
        },
        [group.arn],
      );
    }
    if (started.length === 0) this.leave(asg, instanceId, opts.destination === 'WarmPool' ? 'warm-pool' : 'terminated');
    return started;
  }

  action(instanceId: string, hookName?: string): LifecycleAction | undefined {
    return [...this.actions].reverse().find((a) => a.instanceId === instanceId && (hookName === undefined || a.hookName === hookName));
  }

  private requireGroup(name: string): AutoScalingGroup {
    const group = this.groups.get(name);
    if (!group) throw new Error(`sim: no Auto Scaling group ${name}`);
    return group;
  }

  private armTimers(action: LifecycleAction, hook: LifecycleHookDef): void {
    this.cancels.get(action)?.();
    const { clock } = this.deps;
    // A heartbeat deadline at the global one is the global timeout.
    const cancelHeartbeat =
      action.heartbeatDeadline < action.globalDeadline
        ? clock.at(action.heartbeatDeadline, () => this.end(action, hook.defaultResult, 'heartbeat-timeout'))
        : () => undefined;
    const cancelGlobal = clock.at(action.globalDeadline, () => this.end(action, hook.defaultResult, 'global-timeout'));
    this.cancels.set(action, () => {
      cancelHeartbeat();
      cancelGlobal();
    });
  }

  private end(action: LifecycleAction, result: LifecycleResult, by: LifecycleAction['completedBy']): void {
    if (action.status !== 'pending') return;
    action.status = 'completed';
    action.result = result;
    action.completedAt = this.deps.clock.now();
    action.completedBy = by;
    this.cancels.get(action)?.();
    this.cancels.delete(action);
    const siblings = this.actions.filter((a) => a.instanceId === action.instanceId && a.asg === action.asg && a.startedAt === action.startedAt);
    if (siblings.some((a) => a.status === 'pending')) return;
    const abandoned = siblings.some((a) => a.result === 'ABANDON');
    const group = this.requireGroup(action.asg);
    const fate: InstanceFate = action.destination === 'WarmPool' ? 'warm-pool' : abandoned && group.retainOnAbandon ? 'retained' : 'terminated';
    this.leave(action.asg, action.instanceId, fate);
  }

  private leave(asg: string, instanceId: string, fate: InstanceFate): void {
    const instances = this.groups.get(asg)?.instances;
    if (fate === 'retained') instances?.set(instanceId, 'Terminating:Retained');
    else instances?.delete(instanceId);
    for (const listener of this.listeners) listener(asg, instanceId, fate);
  }

  /** The pending action a Complete or Heartbeat call names, or the ValidationError AWS answers. */
  private findActive(input: any): { action: LifecycleAction; hook: LifecycleHookDef } {
    const asg: string | undefined = input.AutoScalingGroupName;
    const hookName: string | undefined = input.LifecycleHookName;
    if (!asg)
      throw new SimError(
        'ValidationError',
        "1 validation error detected: Value null at 'autoScalingGroupName' failed to satisfy constraint: Member must not be null",
      );
    if (!hookName)
      throw new SimError(
        'ValidationError',
        "1 validation error detected: Value null at 'lifecycleHookName' failed to satisfy constraint: Member must not be null",
      );
    const group = this.groups.get(asg);
    const hook = group?.hooks.get(hookName);
    if (!group || !hook) throw new SimError('ValidationError', `No Lifecycle Hook found with name ${hookName} for group ${asg}`);
    const token: string | undefined = input.LifecycleActionToken;
    const instanceId: string | undefined = input.InstanceId;
    if (!token && !instanceId) throw new SimError('ValidationError', 'Either LifecycleActionToken or InstanceId must be provided');
    const action = this.actions.find(
      (a) =>
        a.status === 'pending' &&
        a.asg === asg &&
        a.hookName === hookName &&
        (token === undefined || a.token === token) &&
        (instanceId === undefined || a.instanceId === instanceId),
    );
    if (!action) {
      throw new SimError(
        'ValidationError',
        instanceId ? `No active Lifecycle Action found with instance ID ${instanceId}` : `No active Lifecycle Action found with token ${token}`,
      );
    }
    return { action, hook };
  }

  /** Groups by name (all when none is named), in pages, each with its instances and their LifecycleState. */
  private describeGroups(input: any) {
    const names: string[] | undefined = input.AutoScalingGroupNames;
    const max = input.MaxRecords === undefined ? DESCRIBE_GROUPS_DEFAULT : Number(input.MaxRecords);
    if (!Number.isInteger(max) || max < 1 || max > DESCRIBE_GROUPS_MAX)
      throw new SimError(
        'ValidationError',
        `1 validation error detected: Value '${input.MaxRecords}' at 'maxRecords' failed to satisfy constraint: Member must have value less than or equal to ${DESCRIBE_GROUPS_MAX}`,
      );
    if (names && names.length > max) throw new SimError('ValidationError', `The number of group names (${names.length}) exceeds MaxRecords (${max})`);
    // Names that match no group are left out, not an error.
    const all = [...this.groups.values()].filter((g) => !names || names.includes(g.name)).sort((a, b) => a.name.localeCompare(b.name));
    let after: number;
    try {
      after = decodeToken(input.NextToken === undefined ? undefined : String(input.NextToken));
    } catch {
      throw new SimError('InvalidNextToken', 'The token is invalid.');
    }
    const page = all.slice(after + 1, after + 1 + max);
    const next = after + 1 + max < all.length ? encodeToken(after + max) : undefined;
    return queryResult('DescribeAutoScalingGroups', AUTOSCALING_NAMESPACE, {
      AutoScalingGroups: page.map((g) => ({
        AutoScalingGroupName: g.name,
        AutoScalingGroupARN: g.arn,
        Instances: [...g.instances].map(([InstanceId, LifecycleState]) => ({
          InstanceId,
          LifecycleState,
          HealthStatus: 'Healthy',
          ProtectedFromScaleIn: false,
        })),
      })),
      NextToken: next,
    });
  }

  service(): ServiceDef {
    return {
      name: 'autoscaling',
      sdkServiceId: 'Auto Scaling',
      protocol: 'awsQuery',
      version: '2011-01-01',
      serverErrorCode: 'InternalFailure',
      operations: {
        CompleteLifecycleAction: (input) => {
          const result = input.LifecycleActionResult;
          const record = { at: this.deps.clock.now(), input, accepted: false };
          this.completeCalls.push(record);
          if (result !== 'CONTINUE' && result !== 'ABANDON')
            throw new SimError('ValidationError', `Invalid LifecycleActionResult: ${result}; expected CONTINUE or ABANDON`);
          const { action } = this.findActive(input);
          record.accepted = true;
          this.end(action, result, 'api');
          return queryResult('CompleteLifecycleAction', AUTOSCALING_NAMESPACE);
        },
        DescribeAutoScalingGroups: (input) => this.describeGroups(input),
        RecordLifecycleActionHeartbeat: (input) => {
          const { action, hook } = this.findActive(input);
          action.heartbeats++;
          // A heartbeat restarts the heartbeat timeout but never moves the global one.
          action.heartbeatDeadline = Math.min(this.deps.clock.now() + hook.heartbeatTimeoutSeconds * 1000, action.globalDeadline);
          this.armTimers(action, hook);
          return queryResult('RecordLifecycleActionHeartbeat', AUTOSCALING_NAMESPACE);
        },
      },
    };
  }
}
