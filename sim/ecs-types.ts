/**
 * The simulator's ECS state. Times are epoch ms here; the wire shapes
 * (ecs-shapes.ts) turn them into epoch seconds (API) or ISO strings (events).
 */
export type LastStatus = 'PROVISIONING' | 'PENDING' | 'ACTIVATING' | 'RUNNING' | 'DEACTIVATING' | 'STOPPING' | 'DEPROVISIONING' | 'STOPPED';
export type DesiredStatus = 'RUNNING' | 'STOPPED';
export type StopCode =
  | 'TaskFailedToStart'
  | 'EssentialContainerExited'
  | 'UserInitiated'
  | 'ServiceSchedulerInitiated'
  | 'SpotInterruption'
  | 'TerminationNotice';
export type LaunchType = 'EC2' | 'FARGATE' | 'EXTERNAL';
export type ContainerInstanceStatus = 'ACTIVE' | 'DRAINING' | 'INACTIVE' | 'REGISTERING' | 'DEREGISTERING' | 'REGISTRATION_FAILED';

export interface Tag {
  key: string;
  value: string;
}

export interface Failure {
  arn?: string;
  reason: string;
  detail?: string;
}

export interface Resources {
  cpu: number;
  memory: number;
}

export interface Cluster {
  name: string;
  arn: string;
  tags: Tag[];
}

export interface ContainerInstance {
  arn: string;
  id: string;
  clusterName: string;
  ec2InstanceId: string;
  status: ContainerInstanceStatus;
  registered: Resources;
  remaining: Resources;
  availabilityZone: string;
  registeredAt: number;
  agentConnected: boolean;
  /** Bumped on every change, like the API's `version`. */
  version: number;
  seq: number;
}

export interface ContainerDef {
  name: string;
  essential: boolean;
  image: string;
}

export interface TaskDefinitionSpec {
  /** undefined = runs until stopped */
  runSeconds?: number;
  /** exit code of the essential container when runSeconds ends */
  exitCode?: number;
  cpu?: number;
  memory?: number;
  containers?: Array<{ name: string; essential?: boolean; image?: string }>;
  networkMode?: 'awsvpc' | 'bridge' | 'host' | 'none';
  /** Sim-only: pretend the task sits behind a load balancer, to walk ACTIVATING/DEACTIVATING. */
  loadBalanced?: boolean;
}

export interface TaskDefinition {
  arn: string;
  family: string;
  revision: number;
  cpu: number;
  memory: number;
  runSeconds?: number;
  exitCode: number;
  networkMode: 'awsvpc' | 'bridge' | 'host' | 'none';
  loadBalanced: boolean;
  containers: ContainerDef[];
}

export interface Container {
  arn: string;
  name: string;
  image: string;
  essential: boolean;
  lastStatus: 'PENDING' | 'RUNNING' | 'STOPPED';
  exitCode?: number;
  reason?: string;
  runtimeId?: string;
}

export interface Task {
  arn: string;
  id: string;
  clusterName: string;
  clusterArn: string;
  taskDefinition: TaskDefinition;
  containerInstanceArn?: string;
  launchType: LaunchType;
  capacityProviderName?: string;
  platformVersion?: string;
  availabilityZone: string;
  lastStatus: LastStatus;
  desiredStatus: DesiredStatus;
  version: number;
  group: string;
  startedBy?: string;
  tags: Tag[];
  overrides: Record<string, any>;
  networkConfiguration?: Record<string, any>;
  awsvpc: boolean;
  loadBalanced: boolean;
  /** what the task holds on its container instance until STOPPED */
  reserved: Resources;
  enableExecuteCommand: boolean;
  containers: Container[];
  createdAt: number;
  updatedAt: number;
  connectivity?: 'CONNECTED' | 'DISCONNECTED';
  connectivityAt?: number;
  pullStartedAt?: number;
  pullStoppedAt?: number;
  startedAt?: number;
  stoppingAt?: number;
  executionStoppedAt?: number;
  stoppedAt?: number;
  stopCode?: StopCode;
  stoppedReason?: string;
  /** creation order, for stable listing and pagination */
  seq: number;
}

/** A RunTask answer kept for its clientToken. */
export interface RememberedRunTask {
  fingerprint: string;
  at: number;
  tasks: Task[];
  failures: Failure[];
}
