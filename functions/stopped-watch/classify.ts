/**
 * Why did this ECS task (or deployment, or service) stop? Pure logic: text and
 * event shapes in, {category, severity, hint} out. No SDK, no I/O, so the
 * handler, the metrics and the alert rate limiter all agree on one answer.
 *
 * The rules work on the vocabulary of AWS's own error strings (the
 * "CannotPullContainerError: …", "ResourceInitializationError: …" families and
 * the fixed sentences of the ECS scheduler), not on whole known strings:
 * registries, agents and Fargate keep changing the tail of those messages.
 */
import type { Severity } from '../shared/severity.ts';

export type Category =
  | 'oom'
  | 'essential-exit'
  | 'exec-format'
  | 'health-check-container'
  | 'health-check-elb'
  | 'image-pull-auth'
  | 'image-pull-not-found'
  | 'image-pull-network'
  | 'image-pull-rate-limit'
  | 'image-pull-platform'
  | 'image-pull-disk-full'
  | 'image-pull-unknown'
  | 'container-create-error'
  | 'container-start-error'
  | 'resource-init-secrets'
  | 'resource-init-network'
  | 'resource-init-efs'
  | 'resource-init-logging'
  | 'resource-init-other'
  | 'command-not-found'
  | 'task-failed-to-start'
  | 'placement'
  | 'spot'
  | 'maintenance'
  | 'host-terminated'
  | 'agent'
  | 'deployment-benign'
  | 'deployment-failed'
  | 'deployment-rollback'
  | 'user-stop'
  | 'autoscaling'
  | 'unknown';

export interface Classification {
  category: Category;
  severity: Severity;
  hint?: string;
  /** The raw text the decision was based on, truncated to 500 chars; kept for 'unknown' too. */
  reason: string;
  /** Name of the container the cause came from, when it came from containers[]. */
  container?: string;
}

export const CATEGORIES: readonly Category[] = Object.freeze([
  'oom',
  'essential-exit',
  'exec-format',
  'health-check-container',
  'health-check-elb',
  'image-pull-auth',
  'image-pull-not-found',
  'image-pull-network',
  'image-pull-rate-limit',
  'image-pull-platform',
  'image-pull-disk-full',
  'image-pull-unknown',
  'container-create-error',
  'container-start-error',
  'resource-init-secrets',
  'resource-init-network',
  'resource-init-efs',
  'resource-init-logging',
  'resource-init-other',
  'command-not-found',
  'task-failed-to-start',
  'placement',
  'spot',
  'maintenance',
  'host-terminated',
  'agent',
  'deployment-benign',
  'deployment-failed',
  'deployment-rollback',
  'user-stop',
  'autoscaling',
  'unknown',
] as const);

/**
 * Severity by category, in one place so alerts, metrics and dashboards agree.
 *
 * - info: normal operations nobody has to act on (scale-in, deployments
 *   replacing tasks, a person stopping a task, auto scaling).
 * - low: the platform took the task away and the scheduler replaces it
 *   (Spot reclaim, AWS maintenance); worth counting, rarely worth paging.
 * - medium: something went wrong but it may be transient or one-off
 *   (an app crash, a lost host or agent, no room to place a task, a rollback
 *   that already restored the previous version, or a cause we could not name).
 * - high: the task definition or its environment is broken and every new task
 *   will fail the same way until someone changes it (OOM, image pulls,
 *   start-up resources, health checks, wrong architecture, a failed deployment).
 * - critical: not assigned to any category on its own; reserved for the
 *   alerting layer to escalate a category that keeps repeating.
 */
export const SEVERITY: Readonly<Record<Category, Severity>> = Object.freeze({
  oom: 'high',
  'essential-exit': 'medium',
  'exec-format': 'high',
  'health-check-container': 'high',
  'health-check-elb': 'high',
  'image-pull-auth': 'high',
  'image-pull-not-found': 'high',
  'image-pull-network': 'high',
  'image-pull-rate-limit': 'high',
  'image-pull-platform': 'high',
  'image-pull-disk-full': 'high',
  'image-pull-unknown': 'high',
  'container-create-error': 'high',
  'container-start-error': 'high',
  'resource-init-secrets': 'high',
  'resource-init-network': 'high',
  'resource-init-efs': 'high',
  'resource-init-logging': 'high',
  'resource-init-other': 'high',
  'command-not-found': 'high',
  'task-failed-to-start': 'medium',
  placement: 'medium',
  spot: 'low',
  maintenance: 'low',
  'host-terminated': 'medium',
  agent: 'medium',
  'deployment-benign': 'info',
  'deployment-failed': 'high',
  'deployment-rollback': 'medium',
  'user-stop': 'info',
  autoscaling: 'info',
  unknown: 'medium',
});

/**
 * The default fix hint of each category. Categories that need no action
 * (deployment-benign, user-stop, autoscaling) have none, and neither has
 * 'unknown': we would only be guessing.
 */
export const HINTS: Readonly<Partial<Record<Category, string>>> = Object.freeze({
  oom: "The container hit its memory limit: raise the container's `memory`/`memoryReservation` (and the task-level `memory`) in the task definition, or lower the app's own heap limit (e.g. JVM -Xmx / -XX:MaxRAMPercentage).",
  'essential-exit':
    "An essential container's process exited on its own: read its logs (the `logConfiguration` log group). One-shot helpers should be `essential: false` with `dependsOn` ordering; a service container must keep its main process in the foreground.",
  'exec-format':
    'The image cannot run on this host: it was built for another CPU architecture (build a multi-arch image, e.g. `docker buildx --platform linux/amd64,linux/arm64`, or set `runtimePlatform.cpuArchitecture` / pick matching instance types). If the architecture matches, check that the entrypoint script has a valid shebang line.',
  'health-check-container':
    "The container `healthCheck` failed or could not run. It runs inside the container, so its command must use a binary the image has (distroless/slim images have no `curl` or shell): use a binary in the image, or drop the container `healthCheck` and rely on the load balancer's. Give slow starts a longer `startPeriod`.",
  'health-check-elb':
    'The load balancer marked the task unhealthy: check the target group health check path, port and `matcher`, that the app listens on the container port, that the security groups let the load balancer in, and give slow starts a longer `healthCheckGracePeriodSeconds` on the service.',
  'image-pull-auth':
    'The registry refused the pull: for ECR give the task execution role `ecr:GetAuthorizationToken`, `ecr:BatchGetImage` and `ecr:GetDownloadUrlForLayer` (and check the repository policy for cross-account pulls); for private registries set `repositoryCredentials` (or `ECS_ENGINE_AUTH_TYPE`/`ECS_ENGINE_AUTH_DATA` on the instance). Registries also refuse (403, access denied) a repository, tag or pinned digest that does not exist: verify the `image` reference too.',
  'image-pull-not-found':
    'The image or tag does not exist: check the `image` URI and tag in the task definition, that the tag was pushed to that repository and region, and that an ECR lifecycle policy did not expire it.',
  'image-pull-network':
    'The host could not reach the registry: give the instance or task subnet a route (NAT gateway or public IP), or VPC endpoints for ecr.api, ecr.dkr and the S3 gateway; check security groups, NACLs and DNS. An x509 error means the host does not trust the registry certificate; a 5xx answer means the registry itself is unavailable (retry, or mirror the image to ECR).',
  'image-pull-rate-limit':
    'Docker Hub rate limit: authenticate pulls (`repositoryCredentials`, or `ECS_ENGINE_AUTH_DATA` on the instance), mirror the image to ECR (pull through cache), and set `ECS_IMAGE_PULL_BEHAVIOR=prefer-cached` on EC2.',
  'image-pull-platform':
    'No image variant for this platform: push a multi-arch image (linux/amd64 and linux/arm64), or match `runtimePlatform.cpuArchitecture`/the instance types to the image you have.',
  'image-pull-disk-full':
    "The Docker storage on the instance is full: ecs-caretaker's cleanup runs automatically for this instance; also lower `ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION`, tune `ECS_IMAGE_CLEANUP_INTERVAL`/`ECS_IMAGE_MINIMUM_CLEANUP_AGE`, cap json-file logs with `max-size`, or give the instances a bigger Docker volume. On Fargate, raise the task's `ephemeralStorage.sizeInGiB` (20 GiB by default) or make the image smaller.",
  'image-pull-unknown':
    'The image pull failed: check the `image` URI, the task execution role permissions and the network route from the instance or task subnet to the registry.',
  'container-create-error':
    'Docker could not create the container: check the container definition (volumes, `mountPoints`, devices and `linuxParameters`, `ulimits`) and the Docker daemon on the instance.',
  'container-start-error':
    'Docker could not start the container: check `entryPoint`/`command`, mounted volumes and devices, and port mappings (`hostPort` conflicts) in the task definition; the Docker error text names the failing part.',
  'resource-init-secrets':
    'The task could not fetch its secrets or registry credentials: give the task execution role `secretsmanager:GetSecretValue` / `ssm:GetParameters` (and `kms:Decrypt` for customer keys) on the referenced ARNs, and a network route to Secrets Manager/SSM/ECR (NAT gateway or VPC endpoints).',
  'resource-init-network':
    'The task network interface (awsvpc ENI) could not be set up: check free IP addresses in the subnets, the ENI limit of the instance type (enable `awsvpcTrunking`), and the security groups in `networkConfiguration`.',
  'resource-init-efs':
    'The EFS volume could not be mounted: check for a mount target in the task subnet/AZ, that its security group allows NFS (TCP 2049) from the task or instance, that `rootDirectory`/the access point exists, and the IAM `authorizationConfig` with `transitEncryption`.',
  'resource-init-logging':
    'The log driver could not start: check `logConfiguration` - the log group must exist (or set `awslogs-create-group` and allow `logs:CreateLogGroup`), the execution role needs `logs:CreateLogStream`/`logs:PutLogEvents`, the task needs a route to CloudWatch Logs, and for FireLens the log router container must be running.',
  'resource-init-other':
    'A task resource could not be initialised before the containers started (ResourceInitializationError): the text after the colon names the resource. Check first the task execution role (secrets, registry credentials, log group, env files), then the route from the task subnet to those services (NAT gateway or VPC endpoints), then the volumes in the task definition.',
  'command-not-found':
    'The container\'s command cannot be run: the file named in `entryPoint`/`command` (or the image\'s ENTRYPOINT/CMD) is missing from the image, not on its $PATH, or not executable. Check the path and spelling in the task definition, that the image really contains it (`docker run --entrypoint`), and its executable bit; an architecture mismatch shows as "exec format error" instead.',
  'task-failed-to-start':
    'The task never started: read containers[].reason of the stopped task (DescribeTasks) and, on EC2, the ECS agent log (/var/log/ecs/ecs-agent.log) on the instance.',
  placement:
    'The scheduler could not place the task: add capacity (capacity provider managed scaling or the ASG max size), or relax `placementConstraints`/`placementStrategy`; check the task CPU/memory reservations, host port conflicts (use `hostPort: 0`) and ENI limits (`awsvpcTrunking`).',
  spot: 'Spot capacity was reclaimed: spread the service over several instance types and AZs, keep an On-Demand `base` in the capacity provider strategy, and set `ECS_ENABLE_SPOT_INSTANCE_DRAINING=true` on Spot instances.',
  maintenance:
    'AWS replaced the task for infrastructure maintenance or retirement: make sure `desiredCount` and `minimumHealthyPercent` leave enough healthy tasks while replacements start.',
  'host-terminated':
    'The EC2 host went away with tasks on it: route scale-in through the drain lifecycle hook (ecs-caretaker drain) and enable managed termination protection on the capacity provider.',
  agent:
    'The ECS agent or Docker could not progress the task: on the instance check `systemctl status ecs docker`, /var/log/ecs/ecs-agent.log and free disk/memory; update the agent or replace the instance.',
  'deployment-failed':
    'The deployment circuit breaker failed the deployment: find the stopped reason of the new tasks, then review `deploymentConfiguration` (`minimumHealthyPercent`/`maximumPercent`, `deploymentCircuitBreaker` with `rollback: true`) so a bad revision cannot stall or empty the service.',
  'deployment-rollback':
    "The circuit breaker rolled the service back to the previous deployment: fix the cause shown in the failed tasks' stopped reasons before redeploying; `deploymentCircuitBreaker` and `minimumHealthyPercent`/`maximumPercent` control how fast this triggers.",
});

// Hints for sub-causes that have a more precise fix than their category's.
const HINT_HEALTH_TOOL =
  "The container `healthCheck` command cannot run in this image (the binary or shell it calls is missing, e.g. no `curl` in a distroless image): use a binary the image has (or add one), or drop the container `healthCheck` and rely on the load balancer's.";
const HINT_HEALTH_LOCALHOST =
  'The container `healthCheck` targets `localhost`: next to a sidecar (Envoy, Service Connect) `localhost` may resolve to IPv6 ::1 where the app does not listen; use `127.0.0.1` explicitly, and make sure the binary the check calls exists in the image.';
const HINT_HEALTH_SIDECAR =
  "The container `healthCheck` failed in a task with sidecars: if the check targets `localhost`, use `127.0.0.1` (localhost may resolve to IPv6 ::1 first); the command must use a binary the image has (no `curl` in distroless images), or drop the container `healthCheck` and rely on the load balancer's. Give slow starts a longer `startPeriod`.";
const HINT_SECRETS_NETWORK =
  'The task timed out fetching its secrets or registry credentials: give the task subnet a route to Secrets Manager, SSM and ECR (NAT gateway, public IP, or VPC endpoints secretsmanager, ssm, ecr.api, ecr.dkr and the S3 gateway), and check the security groups.';
const HINT_SECRETS_DENIED =
  'The task execution role may not read a referenced secret: allow `secretsmanager:GetSecretValue` / `ssm:GetParameters` (and `kms:Decrypt` for customer-managed keys) on the ARNs in `secrets`/`repositoryCredentials`, and check that those ARNs exist in this region.';
const HINT_PULL_DENIED_OR_MISSING =
  "The registry refused the pull, which it also does for an image that does not exist: check first that the repository name and tag in `image` exist (and were pushed to this region), then the pull credentials (`repositoryCredentials`, or the task execution role's ecr:BatchGetImage/ecr:GetDownloadUrlForLayer and the repository policy).";
const HINT_PORT_TAKEN =
  'The container could not bind its host port (port is already allocated): another task or process on the instance holds it. Use dynamic host ports (`hostPort: 0`, or awsvpc networking), or a placement constraint so two copies never share an instance.';
const HINT_INFRA_HEALTH =
  'ECS stopped the task because the infrastructure under it (the EC2 host or the Fargate capacity) was unhealthy, and the scheduler replaces it: check the instance status checks and Personal Health Dashboard events, and keep enough tasks (`desiredCount`, `minimumHealthyPercent`) to absorb a replacement.';
const HINT_EXIT_0 =
  'The essential container exited with code 0: its main process finished. A service container must keep running in the foreground; a one-shot step should be `essential: false` with `dependsOn`.';
const HINT_EXIT_137 =
  'The essential container was killed with SIGKILL (exit 137) without an out-of-memory reason: usually it ignored SIGTERM until `stopTimeout` ran out, or something killed it; check its logs, the signal handling and `stopTimeout`.';
const HINT_EXIT_139 =
  'The essential container crashed with a segmentation fault (exit 139): check native libraries and the image build for this CPU architecture, and the application logs.';
const HINT_EXIT_143 = 'The essential container exited after SIGTERM (exit 143): something asked it to stop; check what else stopped in the task and its logs.';
const HINT_AGENT_DISCONNECTED =
  'The ECS agent on this container instance disconnected: on the instance check `systemctl status ecs docker` and /var/log/ecs/ecs-agent.log, its IAM instance role and its route to the ECS endpoint; replace the instance if it does not reconnect.';

/**
 * ECS keeps container reasons to 255 characters and stop reasons are short, so
 * a bounded prefix holds the cause; the bound keeps a pathological input (a
 * pasted stderr) from costing more than a few microseconds.
 */
const MAX_SCAN = 2048;
const MAX_REASON = 500;

interface Verdict {
  readonly category: Category;
  readonly hint: string | undefined;
}

interface Rule {
  readonly re: RegExp;
  /** Built once at load, so a match allocates nothing. */
  readonly verdict: Verdict;
}

function verdict(category: Category, hint?: string): Verdict {
  return { category, hint: hint ?? HINTS[category] };
}

function rule(re: RegExp, category: Category): Rule {
  return { re, verdict: verdict(category) };
}

// The evidence, strongest first:
//  1. the stopCode (every TaskStopCode of the pinned SDK, in STOP_CODES below);
//  2. the error class the agent, Fargate or the service puts before a colon
//     ("CannotPullContainerError: …", "ResourceInitializationError: …"), found
//     anywhere in the text because service events embed it ("… Reason: CannotPull…");
//  3. keywords inside that family, then keywords of free text.
// Every family has a fallback of its own, so a new wording inside a known class
// still gets that class's category and a hint that says what to check first.

// Checked before the class: the cure does not depend on which Docker call hit
// it (a devmapper thin-pool CannotCreateContainerError is a full disk), and an
// OOM kill explains any generic stop around it.
const RE_DISK_FULL =
  /no space left on device|Thin ?Pool has \d+ free (?:data|metadata) blocks|\bthin ?pool\b.{0,80}\b(?:full|free space|out of)\b|\bdisk (?:is )?full\b|insufficient disk space/i;
const RE_OOM = /OutOfMemory|killed due to memory usage|\bOOM[ -]?kill(?:ed)?\b|\bout of memory\b/i;

// The error classes ECS, its agent and Fargate name. The first one in the text wins.
const RE_CLASS =
  /\b(CannotPull(?:Container|ImageManifest|ECRContainer|ContainerAuth)Error|ResourceInitializationError|CannotStartContainerError|CannotCreateContainerError|CannotInspectContainerError|CannotStopContainerError|CannotDescribeContainerError|CannotGetDockerclientError|CannotRemoveContainerError|DockerTimeoutError|DockerStateError|ContainerRuntime(?:Timeout)?Error|TaskStateError|CgroupError|ContainerVanishedError|VolumeError|ContainerNetworkingError|OutOfMemoryError|InsufficientFreeAddressesInSubnet)\b/i;

// ResourceInitializationError: sub-causes, most specific stage first.
const RESOURCE_INIT_RULES: readonly Rule[] = [
  // The stage phrases first: a secret named e.g. "prod/efs-password" must not read as an EFS mount.
  rule(
    /pull secrets or registry auth|execution resource retrieval|retrieve secrets? from|failed to fetch secret|download env files?|secret data from SSM|secret resource|environment file resource|registry auth/i,
    'resource-init-secrets',
  ),
  rule(/invoke EFS utils|\bEFS\b|mount\.nfs|efs-utils|\bfs-[0-9a-f<]/i, 'resource-init-efs'),
  rule(
    /logger args|\blog(?:ging)? driver|\bawslogs\b|firelens|fluent-?bit|\blog (?:group|stream)\b|logs:(?:CreateLog|PutLog)|CloudWatch/i,
    'resource-init-logging',
  ),
  rule(/secrets?|env files?|\bssm\b|\basm\b|GetParameters?|kms:Decrypt|Secrets Manager|Parameter Store/i, 'resource-init-secrets'),
  rule(
    /\bENIs?\b|network interface|netplugin|\bCNI\b|awsvpc|\btrunk\b|\bIP address|network namespace|free (?:Ipv4 )?addresses|subnet/i,
    'resource-init-network',
  ),
];
// Within resource-init-secrets, whether the call timed out or was refused changes the fix.
const RE_NETWORK_FAILURE =
  /i\/o timeout|dial tcp|context deadline exceeded|context (?:deadli|canceled)|request canceled|send request failed|\btimed? ?out\b|connection (?:refused|reset|timed out|issue)|no such host|network is unreachable|no route to host|network configuration/i;
const RE_ACCESS_DENIED =
  /AccessDenied|not authori[sz]ed|\bforbidden\b|\b403\b|ResourceNotFoundException|does not exist|InvalidParameter|can't retrieve the secret|invalid ARN|execution role credentials/i;

// Image pulls: the class, or wording only a registry or a pull uses (the
// sample has registry replies without the CannotPullContainerError prefix).
const RE_PULL =
  /ref pull has been retried|pull image manifest|failed to resolve ref|error pulling image|while pulling image|\bpull access denied\b|toomanyrequests|\bpull rate limit\b|manifest unknown|no matching manifest|no match for platform|descriptor (?:matching|for) platform|no basic auth credentials|failed to register layer|registry credentials|ecr credentials|repository does not exist|\bmanifest for \S+ not found|\b(?:api|dkr)\.ecr\.|\bhttps?:\/\/\S+\/v2\/|\bauthentication required\b|Authentication is required|Attempting next endpoint for pull|received unexpected HTTP status|Unexpected status code \[5\d\d\]|Could not reach any registry endpoint|\bError: image \S+ not found|not authori[sz]ed to perform: ecr:|image operating system|does not match the detected host platform|httpRead(?:er)?Seeker|unexpected status from \S+ request|x509: certificate/i;
const PULL_RULES: readonly Rule[] = [
  // The agent could not even talk to the Docker daemon on the host.
  rule(/error during connect|Cannot connect to the Docker daemon/i, 'agent'),
  // Unpacking a layer failed while writing: the storage filled up even when the
  // message was cut before "no space left on device".
  rule(/failed to (?:extract|register) layer.{0,200}\bwrite\b|apply failure, attempting cleanup/i, 'image-pull-disk-full'),
  rule(
    /no matching manifest|no match for platform|descriptor (?:matching|for) platform|does not match the (?:specified|detected host) platform|image operating system \S+ cannot be used/i,
    'image-pull-platform',
  ),
  // Docker Hub answers a login flood with toomanyrequests: that is a credentials problem.
  rule(/failed login attempts|incorrect username or password/i, 'image-pull-auth'),
  rule(/toomanyrequests|too many requests|rate ?limit|rate exceeded|\b429\b/i, 'image-pull-rate-limit'),
  // The agent's own words: it has already told "missing permission" from "no such image".
  rule(/Check whether the image exists/i, 'image-pull-not-found'),
  // Docker Hub and ECR answer the same way for a missing repository and a private one.
  { re: /repository does not exist or may require/i, verdict: verdict('image-pull-auth', HINT_PULL_DENIED_OR_MISSING) },
  rule(
    /not authori[sz]ed to perform|no basic auth credentials|\bunauthorized\b|\b40[13]\b|\bforbidden\b|authorization token|AccessDenied|credentials: not found|authentication (?:is )?required|failed to authorize|anonymous token/i,
    'image-pull-auth',
  ),
  rule(/manifest unknown|name unknown|\bnot found\b|does not exist|\b404\b/i, 'image-pull-not-found'),
  rule(/pull access denied|access (?:to the requested resource is )?denied|requested access to the resource is denied|denied:/i, 'image-pull-auth'),
  rule(
    /i\/o timeout|dial tcp|context deadline exceeded|context canceled|request canceled|Client\.Timeout|TLS handshake timeout|\btimed? ?out\b|connection (?:refused|reset|timed out)|no such host|network is unreachable|no route to host|server misbehaving|\bEOF\b|inactivity time exceeded|send request failed|network configuration|x509: certificate|received unexpected HTTP status: 5\d\d|status code \[5\d\d\]|\b50[234] (?:Bad Gateway|Service Unavailable|Gateway Timeout)|Could not reach any registry endpoint/i,
    'image-pull-network',
  ),
  // A devicemapper failure while unpacking is the host's Docker storage, not the registry.
  rule(/\bdevicemapper\b|dm_task/i, 'agent'),
  // The AWS troubleshooting page lists the bare "unexpected status code" of a
  // ref pull under "no access to the image".
  rule(/unexpected status code/i, 'image-pull-auth'),
  // A Docker "API error" with no other detail is the ECR endpoint connection
  // case of the same page.
  rule(/\bAPI error\b/i, 'image-pull-network'),
];

// Docker/containerd/runc start failures, on EC2 (CannotStart/CannotCreate) and
// Fargate (CannotStartContainerError: ResourceInitializationError: failed to
// create new container runtime task: …). An architecture mismatch says "exec
// format error"; a missing or non-executable file says "executable file not found",
// "no such file or directory" or "permission denied" about the exec'd path.
const RE_EXEC_FORMAT = /exec format error/i;
const RE_COMMAND_NOT_FOUND =
  /executable file not found|\bexec: \\*"[^"\\]{1,200}\\*"?: (?:stat [^:]{0,200}(?::|\.\.\.)|no such file or directory|permission denied)|\bexec(?:: | )\S{1,200}: (?:no such file or directory|permission denied)|starting container process caused: exec:|exec user process caused:? \\*"?permission denied/i;
const RE_LOGGING = /\blog(?:ging)? driver\b|\bawslogs\b|firelens|fluent-?bit|\blog (?:group|stream)\b|logger args/i;
// Fargate's wording for a container that the runtime could not start.
const RE_RUNTIME_TASK = /container runtime task|OCI runtime/i;
const RE_PORT_TAKEN = /port is already allocated|address already in use|EADDRINUSE/i;
// Docker/containerd/runc wording for a container that could not be created or started.
const RE_RUNTIME_CREATE =
  /is already in use by container|is already assigned to|invalid mount config|bind (?:mount )?source path does not exist|VolumeDriver\.|Unable to resolve volume mounts|HostConfigError|Cannot create container|mount source path/i;
const RE_RUNTIME_START =
  /driver failed programming external connectivity|failed to create endpoint \S+ on network|Cannot start container|failed to create (?:shim )?task|OCI runtime (?:create|start) failed|oci runtime error|unable to start container process|failed to start shim|error gathering device information|could not select device driver|error during container init|rootfs_linux\.go|System error:/i;

// Free text: the stop reasons the scheduler writes, service event messages,
// deployment reasons. Order matters where two rules could both match.
const TEXT_RULES: readonly Rule[] = [
  rule(/circuit breaker.{0,80}\broll(?:ing|ed)? ?back|rolling back to deployment|\brollback\b/i, 'deployment-rollback'),
  // A deployment stuck on minimumHealthyPercent/maximumPercent or protected tasks is a failure that has not been declared yet.
  rule(
    /deployment circuit breaker|\bdeployment\b.{0,80}\bfailed\b|unable to stop or start tasks during a deployment|unable to reach steady state/i,
    'deployment-failed',
  ),
  rule(
    /Health checks failed with these codes|^Unhealthy: Health checks failed|\bELB health checks?\b|is unhealthy in \(?(?:elb|target-group|target group)\b|load balancer health check|target group.{0,60}\bunhealthy\b|Target\.(?:Timeout|ResponseCodeMismatch|FailedHealthChecks)/i,
    'health-check-elb',
  ),
  rule(/container health checks?|health ?check.{0,60}\b(?:fail|unhealthy|timed out)|\bunhealthy\b/i, 'health-check-container'),
  rule(
    /unable to place (?:a |the )?tasks?|no container instances? met|closest matching container[- ]instance|already using a port|\binsufficient (?:cpu|memory|ports?|eni|gpu|resources?)\b|^RESOURCE:|unable to consistently start tasks|reached the limit on the number of|No Container Instances were found|Capacity is unavailable|placement constraint|configuration is above your limit/i,
    'placement',
  ),
  rule(/\bspot\b.{0,60}\binterrupt|\binterrupt.{0,60}\bspot\b|TerminationNotice|SpotInterruption/i, 'spot'),
  rule(/performing maintenance|\bmaintenance\b|\bretire(?:d|ment)\b/i, 'maintenance'),
  rule(
    /\bHost EC2\b|\bEC2 instance\b.{0,80}\b(?:terminated|stopped|shutting[ -]down)\b|\binstance (?:was |has been )?(?:terminated|stopped)\b/i,
    'host-terminated',
  ),
  rule(/\b(?:stopped|forced|initiated|terminated) by (?:the |a )?user\b|deregistration forced|\bUserInitiated\b|\bStopTask\b/i, 'user-stop'),
  rule(
    /Scaling activity initiated by|ServiceSchedulerInitiated|^ECS deployment \S+ (?:completed|in progress)|\bis draining\b|\bscal(?:ed|ing) in\b|has reached a steady state|has (?:started|stopped) \d+ (?:running )?tasks?|has begun draining connections|(?:de)?registered \d+ targets? in/i,
    'deployment-benign',
  ),
  rule(
    /\bdesired count\b|TargetTracking|StepScaling|scaling policy|triggered policy|(?:Application|Service) Auto ?Scaling|SERVICE_DESIRED_COUNT_UPDATED/i,
    'autoscaling',
  ),
  rule(
    /Could not transition to|Cannot transition to|Cannot connect to the Docker daemon|No container matching saved ID|Agent could not|\bagent\b.{0,60}\b(?:disconnected|not connected|unable|could not|failed|timed out)/i,
    'agent',
  ),
  rule(RE_EXEC_FORMAT, 'exec-format'),
  rule(RE_COMMAND_NOT_FOUND, 'command-not-found'),
  rule(RE_LOGGING, 'resource-init-logging'),
  rule(RE_PORT_TAKEN, 'container-start-error'),
  rule(RE_RUNTIME_CREATE, 'container-create-error'),
  rule(RE_RUNTIME_START, 'container-start-error'),
  // ENI and subnet capacity: awsvpc tasks need a free address and an ENI attachment.
  rule(
    /network interface provisioning|\bENI\b.{0,60}\b(?:attach|provision|fail)|InsufficientFreeAddressesInSubnet|free (?:Ipv4 )?addresses|network namespace|cni (?:setup|plugin)|invoke eni plugin|\bipam\b|ENI ack|attach network interface/i,
    'resource-init-network',
  ),
  rule(/\bEFS\b|mount\.nfs|efs-utils|mount target|_netdev|mount\.log|\bstunnel\b|\btunnel for\b|dependency botocore/i, 'resource-init-efs'),
  // The agent's resource stages, quoted without their class.
  rule(/secret resource|asm resource|environment file resource|execution role credentials|Secrets Manager|Parameter Store/i, 'resource-init-secrets'),
  rule(/Essential container in task exited|\bessential container\b.{0,60}\bexit|EssentialContainerExited/i, 'essential-exit'),
  rule(/TaskFailedToStart|\bfailed to start\b|Timeout waiting for .{0,60}(?:attachment|provisioning)/i, 'task-failed-to-start'),
];

const RE_HEALTH_TOOL = /\b(?:curl|wget|sh|bash)\b.{0,60}(?:not found|no such file)|executable file not found/i;
const RE_LOCALHOST = /\blocalhost\b/i;

/**
 * Every TaskStopCode of the pinned @aws-sdk/client-ecs (models/enums.d.ts).
 * The corpus test checks this table against the SDK's enum, so a code added by
 * an SDK upgrade fails a test instead of falling through to 'unknown'.
 */
export const STOP_CODES: Readonly<Record<string, Category>> = Object.freeze({
  EssentialContainerExited: 'essential-exit',
  TaskFailedToStart: 'task-failed-to-start',
  ServiceSchedulerInitiated: 'deployment-benign',
  SpotInterruption: 'spot',
  TerminationNotice: 'spot',
  UserInitiated: 'user-stop',
  // ECS replaced the task because the host or Fargate infrastructure under it was unhealthy.
  InfrastructureHealth: 'maintenance',
});

const DEFAULT_VERDICT: Readonly<Record<Category, Verdict>> = Object.freeze(
  Object.fromEntries(CATEGORIES.map((c) => [c, verdict(c)])) as Record<Category, Verdict>,
);

function firstMatch(rules: readonly Rule[], text: string): Verdict | undefined {
  for (const r of rules) if (r.re.test(text)) return r.verdict;
  return undefined;
}

const V_SECRETS_NETWORK = verdict('resource-init-secrets', HINT_SECRETS_NETWORK);
const V_SECRETS_DENIED = verdict('resource-init-secrets', HINT_SECRETS_DENIED);
const V_RESOURCE_INIT_OTHER = DEFAULT_VERDICT['resource-init-other'];
const V_HEALTH_TOOL = verdict('health-check-container', HINT_HEALTH_TOOL);
const V_HEALTH_LOCALHOST = verdict('health-check-container', HINT_HEALTH_LOCALHOST);
const V_PORT_TAKEN = verdict('container-start-error', HINT_PORT_TAKEN);

/** The verdict a stop code alone gives. */
const CODE_VERDICT: Readonly<Record<string, Verdict>> = Object.freeze(
  Object.fromEntries(
    Object.entries(STOP_CODES).map(([code, c]) => [code, code === 'InfrastructureHealth' ? verdict(c, HINT_INFRA_HEALTH) : DEFAULT_VERDICT[c]]),
  ),
);

function resourceInit(text: string): Verdict {
  const v = firstMatch(RESOURCE_INIT_RULES, text) ?? V_RESOURCE_INIT_OTHER;
  if (v.category !== 'resource-init-secrets') return v;
  if (RE_NETWORK_FAILURE.test(text)) return V_SECRETS_NETWORK;
  if (RE_ACCESS_DENIED.test(text)) return V_SECRETS_DENIED;
  return v;
}

/** Runtime failures that name their cause whatever class carries them. */
function runtimeCause(text: string): Verdict | undefined {
  if (RE_EXEC_FORMAT.test(text)) return DEFAULT_VERDICT['exec-format'];
  if (RE_COMMAND_NOT_FOUND.test(text)) return DEFAULT_VERDICT['command-not-found'];
  if (RE_LOGGING.test(text)) return DEFAULT_VERDICT['resource-init-logging'];
  if (RE_PORT_TAKEN.test(text)) return V_PORT_TAKEN;
  return undefined;
}

function byClass(cls: string, text: string): Verdict | undefined {
  switch (cls.toLowerCase()) {
    case 'cannotpullcontainererror':
    case 'cannotpullimagemanifesterror':
    case 'cannotpullecrcontainererror':
      return firstMatch(PULL_RULES, text) ?? DEFAULT_VERDICT['image-pull-unknown'];
    case 'cannotpullcontainerautherror':
      return DEFAULT_VERDICT['image-pull-auth'];
    case 'resourceinitializationerror':
      // Fargate reports runtime start failures under this class too.
      return (
        runtimeCause(text) ??
        (RE_RUNTIME_TASK.test(text) && firstMatch(RESOURCE_INIT_RULES, text) === undefined ? DEFAULT_VERDICT['container-start-error'] : resourceInit(text))
      );
    case 'cannotstartcontainererror':
    case 'cannotcreatecontainererror': {
      const v = runtimeCause(text);
      if (v !== undefined) return v;
      if (/ResourceInitializationError/i.test(text)) {
        const r = resourceInit(text);
        if (r !== V_RESOURCE_INIT_OTHER) return r;
      }
      return DEFAULT_VERDICT[cls.toLowerCase() === 'cannotcreatecontainererror' ? 'container-create-error' : 'container-start-error'];
    }
    case 'volumeerror':
      return DEFAULT_VERDICT['container-create-error'];
    case 'containernetworkingerror':
    case 'insufficientfreeaddressesinsubnet':
      return DEFAULT_VERDICT['resource-init-network'];
    case 'outofmemoryerror':
      return DEFAULT_VERDICT.oom;
    default:
      // DockerTimeoutError, CannotInspectContainerError, TaskStateError, CgroupError, …:
      // the agent or the container runtime on the host could not progress the task.
      return DEFAULT_VERDICT.agent;
  }
}

/** The category of one piece of AWS text, or undefined when no rule knows it. */
function classifyText(raw: string): Verdict | undefined {
  const text = raw.length > MAX_SCAN ? raw.slice(0, MAX_SCAN) : raw;
  if (RE_DISK_FULL.test(text)) return DEFAULT_VERDICT['image-pull-disk-full'];
  if (RE_OOM.test(text)) return DEFAULT_VERDICT.oom;

  const cls = RE_CLASS.exec(text);
  if (cls !== null) return byClass(cls[1]!, text);
  if (RE_PULL.test(text)) return firstMatch(PULL_RULES, text) ?? DEFAULT_VERDICT['image-pull-unknown'];

  const v = firstMatch(TEXT_RULES, text);
  if (v !== undefined && v.category === 'health-check-container') {
    if (RE_HEALTH_TOOL.test(text)) return V_HEALTH_TOOL;
    if (RE_LOCALHOST.test(text)) return V_HEALTH_LOCALHOST;
  }
  return v;
}

function exitHint(exitCode: number | undefined): string | undefined {
  switch (exitCode) {
    case 0:
      return HINT_EXIT_0;
    case 137:
      return HINT_EXIT_137;
    case 139:
      return HINT_EXIT_139;
    case 143:
      return HINT_EXIT_143;
    default:
      return undefined;
  }
}

function truncate(text: string): string {
  return text.length > MAX_REASON ? text.slice(0, MAX_REASON) : text;
}

function make(category: Category, reason: string, hint: string | undefined, container?: string): Classification {
  // Always the same five keys, so every result has one hidden class.
  return { category, severity: SEVERITY[category], hint, reason: truncate(reason), container };
}

function unknown(reason: string): Classification {
  return make('unknown', reason, undefined);
}

/** Classify a single reason string (e.g. a stoppedReason, a container reason, a service/deployment event reason). */
export function classifyReason(text: string, ctx?: { stopCode?: string; exitCode?: number; field?: string }): Classification {
  const stopCode = typeof ctx?.stopCode === 'string' ? ctx.stopCode : undefined;
  if (typeof text !== 'string') {
    const byCode = stopCode === undefined ? undefined : CODE_VERDICT[stopCode];
    return byCode === undefined ? unknown(`reason is not a string (got ${describeType(text)})`) : make(byCode.category, stopCode!, byCode.hint);
  }
  if (ctx?.field === 'stopCode') {
    const byCode = CODE_VERDICT[text.trim()];
    if (byCode !== undefined) return make(byCode.category, text, byCode.hint);
  }

  let v = text.length === 0 ? undefined : classifyText(text);
  if (v === undefined && ctx?.field === 'serviceAction.reason' && text.length > 0) {
    // Only SERVICE_TASK_PLACEMENT_FAILURE-style actions carry a bare reason code.
    v = DEFAULT_VERDICT.placement;
  }
  if (v === undefined && stopCode !== undefined) {
    const byCode = CODE_VERDICT[stopCode];
    if (byCode !== undefined) return make(byCode.category, text.length > 0 ? text : stopCode, refineHint(byCode.category, byCode.hint, ctx?.exitCode));
  }
  if (v === undefined) return unknown(text.length > 0 ? text : 'empty reason');
  return make(v.category, text, refineHint(v.category, v.hint, ctx?.exitCode));
}

function refineHint(category: Category, hint: string | undefined, exitCode: number | undefined): string | undefined {
  if (category === 'essential-exit') return exitHint(exitCode) ?? hint ?? HINTS['essential-exit'];
  return hint ?? HINTS[category];
}

// ---------------------------------------------------------------------------
// Events

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** A field that must be a string when present; undefined when absent, null when malformed. */
function optString(o: Obj, key: string): string | undefined | null {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string' ? v : null;
}

/** Classify a whole EventBridge event: {'detail-type', detail}. Never throws; null when the event needs no classification. */
export function classifyEvent(event: unknown): Classification | null {
  try {
    return classifyEventUnsafe(event);
  } catch (err) {
    // Defensive: the checks below should make this unreachable (a getter on a
    // hand-built object could still throw), and the handler must never crash a batch.
    return unknown(`classification failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function classifyEventUnsafe(event: unknown): Classification | null {
  if (!isObj(event)) return unknown(`malformed event: expected an object, got ${describeType(event)}`);
  const detailType = event['detail-type'];
  if (typeof detailType !== 'string') return unknown('malformed event: detail-type missing');
  const detail = event.detail;
  if (!isObj(detail)) return unknown(`malformed ${detailType} event: detail missing or not an object`);
  switch (detailType) {
    case 'ECS Task State Change':
      return classifyTask(detail);
    case 'ECS Service Action':
      return classifyServiceAction(detail);
    case 'ECS Deployment State Change':
      return classifyDeployment(detail);
    case 'ECS Container Instance State Change':
      return classifyContainerInstance(detail);
    default:
      return unknown(`unsupported detail-type: ${detailType}`);
  }
}

interface ContainerView {
  name: string | undefined;
  reason: string | undefined;
  exitCode: number | undefined;
  essential: boolean | undefined;
  healthStatus: string | undefined;
}

/**
 * A number sent as a number or as a decimal string ("137": some relays
 * stringify numbers); null when the field is present but unusable.
 */
function optNumber(v: unknown): number | undefined | null {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && /^\s*-?\d{1,10}\s*$/.test(v)) return Number(v);
  return null;
}

/**
 * containers[] reduced to what the classifier reads. A malformed field is
 * dropped and noted in `problems` instead of failing the whole event: one bad
 * field must not hide an explicit reason carried elsewhere in the event.
 */
function readContainers(detail: Obj, problems: string[]): ContainerView[] {
  const raw = detail.containers;
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    problems.push(`detail.containers is not an array (got ${describeType(raw)})`);
    return [];
  }
  const out: ContainerView[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c: unknown = raw[i];
    if (!isObj(c)) {
      problems.push(`detail.containers[${i}] is not an object`);
      continue;
    }
    const name = optString(c, 'name');
    const reason = optString(c, 'reason');
    const healthStatus = optString(c, 'healthStatus');
    const exitCode = optNumber(c.exitCode);
    if (name === null) problems.push(`detail.containers[${i}].name is not a string`);
    if (reason === null) problems.push(`detail.containers[${i}].reason is not a string`);
    if (healthStatus === null) problems.push(`detail.containers[${i}].healthStatus is not a string`);
    if (exitCode === null) problems.push(`detail.containers[${i}].exitCode is not a number`);
    const essential = c.essential;
    out.push({
      name: name ?? undefined,
      reason: reason === '' || reason === null ? undefined : reason,
      exitCode: exitCode ?? undefined,
      essential: typeof essential === 'boolean' ? essential : essential === 'true' ? true : essential === 'false' ? false : undefined,
      healthStatus: healthStatus ?? undefined,
    });
  }
  return out;
}

/** Task-level answers that only say "something in a container went wrong". */
function isGeneric(c: Category): boolean {
  return c === 'essential-exit' || c === 'task-failed-to-start' || c === 'unknown';
}

function classifyTask(detail: Obj): Classification | null {
  const lastStatus = detail.lastStatus;
  if (typeof lastStatus !== 'string') return unknown('malformed ECS Task State Change: detail.lastStatus missing');
  // Only a STOPPED task has a final reason; earlier transitions repeat for every task.
  if (lastStatus !== 'STOPPED') return null;

  const problems: string[] = [];
  const rawReason = optString(detail, 'stoppedReason');
  const rawCode = optString(detail, 'stopCode');
  if (rawReason === null) problems.push('detail.stoppedReason is not a string');
  if (rawCode === null) problems.push('detail.stopCode is not a string');
  const stoppedReason = rawReason ?? undefined;
  const stopCode = rawCode ?? undefined;
  const containers = readContainers(detail, problems);
  const result = classifyStoppedTask(stoppedReason, stopCode, containers);
  // A malformed field demotes only an answer that names no cause of its own.
  if (problems.length > 0 && isGeneric(result.category)) return unknown(`malformed ECS Task State Change: ${problems[0]}`);
  return result;
}

function classifyStoppedTask(stoppedReason: string | undefined, stopCode: string | undefined, containers: ContainerView[]): Classification {
  // The best cause carried by a container's own reason.
  let best: ContainerView | undefined;
  let bestVerdict: Verdict | undefined;
  let bestRank = 0;
  let unnamed: ContainerView | undefined;
  for (const c of containers) {
    if (c.reason === undefined) continue;
    const v = classifyText(c.reason);
    if (v === undefined) {
      unnamed ??= c;
      continue;
    }
    // OOM beats everything; a named cause beats a generic one; an essential container beats a sidecar.
    const rank = (v.category === 'oom' ? 8 : isGeneric(v.category) ? 2 : 4) + (c.essential === false ? 0 : 1);
    if (rank > bestRank) {
      best = c;
      bestVerdict = v;
      bestRank = rank;
    }
  }

  // What the task-level fields say.
  let taskVerdict: Verdict | undefined;
  let taskText: string | undefined;
  if (stoppedReason !== undefined && stoppedReason.length > 0) {
    taskVerdict = classifyText(stoppedReason);
    taskText = stoppedReason;
  }
  if (taskVerdict === undefined && stopCode !== undefined) {
    const byCode = CODE_VERDICT[stopCode];
    if (byCode !== undefined) {
      taskVerdict = byCode;
      taskText ??= stopCode;
    }
  }

  if (best !== undefined && bestVerdict !== undefined) {
    const useContainer =
      bestVerdict.category === 'oom' ||
      taskVerdict === undefined ||
      (isGeneric(taskVerdict.category) && !isGeneric(bestVerdict.category)) ||
      taskVerdict.category === bestVerdict.category;
    if (useContainer) {
      return make(bestVerdict.category, best.reason!, refineHint(bestVerdict.category, bestVerdict.hint, best.exitCode), best.name);
    }
  }

  if (taskVerdict === undefined) {
    if (taskText !== undefined) return unknown(taskText);
    if (unnamed !== undefined) return make('unknown', unnamed.reason!, undefined, unnamed.name);
    if (stopCode !== undefined) return unknown(stopCode);
    return unknown('STOPPED task without stoppedReason, stopCode or container reasons');
  }
  const category = taskVerdict.category;
  const text = taskText!;

  if (category === 'essential-exit') {
    const culprit = exitedEssential(containers);
    return make(category, text, refineHint(category, taskVerdict.hint, culprit?.exitCode), culprit?.name);
  }
  if (category === 'health-check-container') {
    const unhealthy = containers.find((c) => c.healthStatus === 'UNHEALTHY');
    const hint = taskVerdict.hint !== HINTS['health-check-container'] || containers.length < 2 ? taskVerdict.hint : HINT_HEALTH_SIDECAR;
    return make(category, text, hint, unhealthy?.name);
  }
  return make(category, text, taskVerdict.hint);
}

/**
 * The container whose exit stopped the task. Events rarely carry `essential`,
 * and when the app dies ECS stops the other containers, which then exit 143
 * (SIGTERM) or 137 (SIGKILL after stopTimeout) or 0: an exit code other than
 * those is the likeliest culprit, then the signal codes, then a clean exit.
 */
function exitedEssential(containers: readonly ContainerView[]): ContainerView | undefined {
  let best: ContainerView | undefined;
  let bestRank = 0;
  for (const c of containers) {
    if (c.essential === false || c.exitCode === undefined) continue;
    const code = c.exitCode;
    const rank = (code === 0 ? 1 : code === 137 || code === 143 || code === 130 ? 2 : 3) * 2 + (c.essential === true ? 1 : 0);
    if (rank > bestRank) {
      best = c;
      bestRank = rank;
    }
  }
  return best;
}

const STEADY_SERVICE_EVENTS = new Set(['SERVICE_STEADY_STATE', 'TASKSET_STEADY_STATE', 'CAPACITY_PROVIDER_STEADY_STATE']);

function classifyServiceAction(detail: Obj): Classification | null {
  const eventName = detail.eventName;
  if (typeof eventName !== 'string') return unknown('malformed ECS Service Action: detail.eventName missing');
  const reason = optString(detail, 'reason');
  if (reason === null) return unknown(`malformed ECS Service Action ${eventName}: detail.reason is not a string`);
  const text = reason !== undefined && reason.length > 0 ? reason : eventName;

  switch (eventName) {
    case 'SERVICE_TASK_PLACEMENT_FAILURE':
    case 'SERVICE_DAEMON_PLACEMENT_CONSTRAINT_VIOLATED':
    case 'SERVICE_TASK_START_IMPAIRED':
      // START_IMPAIRED is the event form of "service … is unable to consistently
      // start tasks successfully", a placement message in the service events list.
      return make('placement', text, HINTS.placement);
    case 'SERVICE_DESIRED_COUNT_UPDATED':
      return make('autoscaling', text, undefined);
    case 'SERVICE_DISCOVERY_INSTANCE_UNHEALTHY':
      // Cloud Map custom health checks report the container health status.
      return make('health-check-container', text, HINTS['health-check-container']);
    case 'VPC_LATTICE_TARGET_UNHEALTHY':
      // Lattice probes the target from outside, like a load balancer.
      return make('health-check-elb', text, HINTS['health-check-elb']);
    case 'SERVICE_TASK_CONFIGURATION_FAILURE': {
      const v = reason === undefined ? undefined : classifyText(reason);
      return v === undefined ? make('task-failed-to-start', text, HINTS['task-failed-to-start']) : make(v.category, text, v.hint);
    }
  }
  if (STEADY_SERVICE_EVENTS.has(eventName) || detail.eventType === 'INFO') return null;
  // An event name we do not know: trust only what its reason text says.
  const v = reason === undefined ? undefined : classifyText(reason);
  return v === undefined ? unknown(text) : make(v.category, text, v.hint);
}

function classifyDeployment(detail: Obj): Classification | null {
  const eventName = detail.eventName;
  if (typeof eventName !== 'string') return unknown('malformed ECS Deployment State Change: detail.eventName missing');
  const reason = optString(detail, 'reason');
  if (reason === null) return unknown(`malformed ECS Deployment State Change ${eventName}: detail.reason is not a string`);
  const text = reason !== undefined && reason.length > 0 ? reason : eventName;

  switch (eventName) {
    case 'SERVICE_DEPLOYMENT_FAILED':
      return make('deployment-failed', text, HINTS['deployment-failed']);
    case 'SERVICE_DEPLOYMENT_IN_PROGRESS':
    case 'SERVICE_DEPLOYMENT_COMPLETED': {
      // A rollback is announced as an IN_PROGRESS deployment with a circuit-breaker reason.
      const v = reason === undefined ? undefined : classifyText(reason);
      return v !== undefined && v.category === 'deployment-rollback' ? make('deployment-rollback', text, v.hint) : null;
    }
    default: {
      const v = reason === undefined ? undefined : classifyText(reason);
      return v === undefined ? unknown(text) : make(v.category, text, v.hint);
    }
  }
}

function classifyContainerInstance(detail: Obj): Classification | null {
  const connected = detail.agentConnected;
  if (typeof connected !== 'boolean') return unknown('malformed ECS Container Instance State Change: detail.agentConnected missing');
  if (connected) return null;
  const status = typeof detail.status === 'string' ? detail.status : undefined;
  // A deregistered instance, or a drained one with nothing left on it, losing
  // its agent is the normal end of a scale-in, not an incident.
  if (status === 'INACTIVE' || status === 'DEREGISTERING') return null;
  if (status === 'DRAINING' && detail.runningTasksCount === 0 && (detail.pendingTasksCount ?? 0) === 0) return null;
  const id =
    typeof detail.ec2InstanceId === 'string'
      ? detail.ec2InstanceId
      : typeof detail.containerInstanceArn === 'string'
        ? detail.containerInstanceArn
        : 'unknown instance';
  const statusReason = typeof detail.statusReason === 'string' && detail.statusReason.length > 0 ? `: ${detail.statusReason}` : '';
  return make('agent', `ECS agent disconnected on container instance ${id} (status ${status ?? 'unknown'})${statusReason}`, HINT_AGENT_DISCONNECTED);
}
