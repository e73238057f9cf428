/**
 * Where an ECS event happened, read defensively from its envelope: the
 * cluster, the service (a bounded name for metric dimensions and alert keys)
 * and the task or instance it concerns. Pure; never throws on odd input.
 */

export interface Scope {
  /** Cluster name; 'unknown' when the event does not say. */
  cluster: string;
  /**
   * `<service name>` for a service's task or event, `family:<family>` for a
   * standalone task (the group RunTask gives it), `container-instance` for
   * agent events, `standalone` when nothing better is known. Never a task ARN:
   * it is a metric dimension and must stay bounded.
   */
  service: string;
  /** True when `service` names an ECS service (the console has a page for it). */
  isService: boolean;
  region?: string;
  eventId?: string;
  time?: string;
  detailType?: string;
  taskArn?: string;
  /** EC2 launch type / capacity: set when the task ran on a container instance. */
  containerInstanceArn?: string;
  ec2InstanceId?: string;
  launchType?: string;
  deploymentId?: string;
}

export const UNKNOWN_CLUSTER = 'unknown';
export const STANDALONE = 'standalone';
export const INSTANCE_SERVICE = 'container-instance';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (o: Obj, key: string): string | undefined => (typeof o[key] === 'string' && (o[key] as string).length > 0 ? (o[key] as string) : undefined);

/** ...:cluster/<name> */
export function clusterFromArn(arn: string | undefined): string | undefined {
  if (!arn) return undefined;
  const i = arn.lastIndexOf(':cluster/');
  return i < 0 ? undefined : arn.slice(i + ':cluster/'.length) || undefined;
}

/** ...:service/<cluster>/<service>; the old format ...:service/<service> has no cluster. */
export function serviceArnParts(arn: string): { cluster?: string; service: string } | undefined {
  const i = arn.indexOf(':service/');
  if (i < 0) return undefined;
  const parts = arn.slice(i + ':service/'.length).split('/');
  if (parts.length === 2 && parts[0] && parts[1]) return { cluster: parts[0], service: parts[1] };
  if (parts.length === 1 && parts[0]) return { service: parts[0] };
  return undefined;
}

/** ...:task-definition/<family>:<revision> */
export function familyFromTaskDefinitionArn(arn: string | undefined): string | undefined {
  if (!arn) return undefined;
  const i = arn.indexOf(':task-definition/');
  if (i < 0) return undefined;
  const familyRevision = arn.slice(i + ':task-definition/'.length);
  const colon = familyRevision.lastIndexOf(':');
  return (colon < 0 ? familyRevision : familyRevision.slice(0, colon)) || undefined;
}

/** The id at the end of a task or container-instance ARN (both the old and the cluster-qualified formats). */
export const resourceId = (arn: string): string => arn.slice(arn.lastIndexOf('/') + 1);

// ECS names are at most 255 letters, digits, "-" and "_"; anything else in a
// dimension came from a malformed event and is cut so one bad value cannot
// flood CloudWatch with long or unique names.
const DIMENSION_MAX = 255;
const clean = (value: string): string => value.replace(/[^A-Za-z0-9_.:/-]/g, '_').slice(0, DIMENSION_MAX);

export function scopeOf(event: unknown): Scope {
  const envelope = isObj(event) ? event : {};
  const detail = isObj(envelope.detail) ? envelope.detail : {};
  const detailType = str(envelope, 'detail-type');
  const resources = Array.isArray(envelope.resources) ? envelope.resources.filter((r): r is string => typeof r === 'string') : [];
  const serviceFromResources = resources.map(serviceArnParts).find((p) => p !== undefined);

  const cluster = clusterFromArn(str(detail, 'clusterArn')) ?? serviceFromResources?.cluster ?? UNKNOWN_CLUSTER;
  const base = {
    cluster: clean(cluster),
    region: str(envelope, 'region'),
    eventId: str(envelope, 'id'),
    time: str(envelope, 'time'),
    detailType,
  };

  if (detailType === 'ECS Container Instance State Change') {
    return {
      ...base,
      service: INSTANCE_SERVICE,
      isService: false,
      containerInstanceArn: str(detail, 'containerInstanceArn'),
      ec2InstanceId: str(detail, 'ec2InstanceId'),
    };
  }
  if (detailType === 'ECS Service Action' || detailType === 'ECS Deployment State Change') {
    return {
      ...base,
      service: serviceFromResources ? clean(serviceFromResources.service) : STANDALONE,
      isService: serviceFromResources !== undefined,
      deploymentId: str(detail, 'deploymentId'),
    };
  }

  const group = str(detail, 'group');
  const family = familyFromTaskDefinitionArn(str(detail, 'taskDefinitionArn'));
  let service = STANDALONE;
  let isService = false;
  if (group?.startsWith('service:') && group.length > 'service:'.length) {
    service = clean(group.slice('service:'.length));
    isService = true;
  } else if (family) {
    service = clean(`family:${family}`);
  }
  return {
    ...base,
    service,
    isService,
    taskArn: str(detail, 'taskArn'),
    containerInstanceArn: str(detail, 'containerInstanceArn'),
    launchType: str(detail, 'launchType'),
  };
}
