/**
 * The fields the service and target group rules read, typed as the ECS and
 * ELBv2 APIs return them. Every offline input is checked against these, so a
 * wrong type (a DesiredCount of "three", a HealthCheckIntervalSeconds that a
 * template could not resolve to a number) fails with the field named instead
 * of reaching the rules as NaN.
 */
import * as z from 'zod/mini';
import { formatPath } from '../shared/config.ts';

const typeName = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`);
const expected = (what: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? `required: expected ${what}` : `expected ${what}, got ${typeName(issue.input)}`;
const optionalInt = () => z.optional(z.int({ error: expected('an integer') }));
const optionalStr = () => z.optional(z.string({ error: expected('a string') }));
const optionalBool = () => z.optional(z.boolean({ error: expected('true or false') }));

const service = z.looseObject(
  {
    serviceArn: optionalStr(),
    serviceName: optionalStr(),
    taskDefinition: optionalStr(),
    desiredCount: optionalInt(),
    healthCheckGracePeriodSeconds: optionalInt(),
    launchType: optionalStr(),
    schedulingStrategy: optionalStr(),
    deploymentConfiguration: z.optional(
      z.looseObject({
        maximumPercent: optionalInt(),
        minimumHealthyPercent: optionalInt(),
        deploymentCircuitBreaker: z.optional(z.looseObject({ enable: optionalBool(), rollback: optionalBool() })),
      }),
    ),
    deploymentController: z.optional(z.looseObject({ type: optionalStr() })),
    capacityProviderStrategy: z.optional(z.array(z.looseObject({ capacityProvider: optionalStr() }))),
    loadBalancers: z.optional(z.array(z.looseObject({ targetGroupArn: optionalStr(), containerPort: optionalInt() }))),
  },
  { error: expected('a service object') },
);

const targetGroupFields = {
  TargetGroupName: optionalStr(),
  TargetType: optionalStr(),
  Port: optionalInt(),
  HealthCheckEnabled: optionalBool(),
  HealthCheckIntervalSeconds: optionalInt(),
  HealthCheckTimeoutSeconds: optionalInt(),
  HealthyThresholdCount: optionalInt(),
  UnhealthyThresholdCount: optionalInt(),
};
const targetGroup = z.looseObject(targetGroupFields, { error: expected('a target group object') });
const attribute = z.looseObject({ Key: z.string({ error: expected('a string') }), Value: z.string({ error: expected('a string') }) });

export const describeServicesSchema = z.looseObject({ services: z.array(service) });
export const describeTargetGroupsSchema = z.looseObject({
  TargetGroups: z.array(z.looseObject({ ...targetGroupFields, TargetGroupArn: z.string({ error: expected('the target group ARN') }) })),
});
export const attributesSchema = z.looseObject({ Attributes: z.array(attribute) });

const issuesOf = (schema: z.ZodMiniType, value: unknown): Array<{ path: string; message: string }> => {
  const result = schema.safeParse(value);
  return result.success ? [] : result.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
};

/** What is wrong with a service in the DescribeServices shape, by path; empty when the rules can read it. */
export const serviceIssues = (value: unknown) => issuesOf(service, value);
/** The same for a target group in the DescribeTargetGroups shape, and its attributes. */
export const targetGroupIssues = (value: unknown) => issuesOf(targetGroup, value);
export const attributeIssues = (value: unknown) => issuesOf(z.array(attribute), value);
