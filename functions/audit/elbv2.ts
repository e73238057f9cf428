/**
 * The ELBv2 reads of a live audit over @aws-sdk/client-elastic-load-balancing-v2:
 * DescribeTargetGroups for the target groups a cluster's services register
 * with, DescribeTargetGroupAttributes for each of them.
 */
import {
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  TargetGroupNotFoundException,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { Elbv2Reader } from './live.ts';
import type { TargetGroup } from './rules.ts';

/**
 * The ELBv2 API reference gives TargetGroupArns no maximum, while its sibling
 * list parameters (DescribeLoadBalancers LoadBalancerArns, DescribeTags
 * ResourceArns) take "up to 20". Asking for 20 at a time stays within what
 * the API documents anywhere, and keeps the one-by-one retry below short.
 */
export const TARGET_GROUPS_PER_CALL = 20;
// PageSize: "Valid Range: Minimum value of 1. Maximum value of 400." (DescribeTargetGroups)
const PAGE_SIZE = 400;

const notFound = (error: unknown): boolean =>
  error instanceof TargetGroupNotFoundException || (error as { name?: string })?.name === 'TargetGroupNotFoundException';

export function elbv2Reader(client: ElasticLoadBalancingV2Client): Elbv2Reader {
  async function describe(arns: string[]): Promise<TargetGroup[]> {
    const groups: TargetGroup[] = [];
    let marker: string | undefined;
    do {
      const page = await client.send(new DescribeTargetGroupsCommand({ TargetGroupArns: arns, PageSize: PAGE_SIZE, Marker: marker }));
      groups.push(...(page.TargetGroups ?? []));
      marker = page.NextMarker;
    } while (marker);
    return groups;
  }

  return {
    async describeTargetGroups(arns) {
      const groups: TargetGroup[] = [];
      for (let i = 0; i < arns.length; i += TARGET_GROUPS_PER_CALL) {
        const batch = arns.slice(i, i + TARGET_GROUPS_PER_CALL);
        try {
          groups.push(...(await describe(batch)));
        } catch (error) {
          if (!notFound(error)) throw error;
          // One deleted target group fails the whole call; asking one by one still audits the others.
          for (const arn of batch) {
            try {
              groups.push(...(await describe([arn])));
            } catch (single) {
              if (!notFound(single)) throw single;
            }
          }
        }
      }
      return groups;
    },

    async describeTargetGroupAttributes(arn) {
      const out = await client.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: arn }));
      return out.Attributes ?? [];
    },
  };
}
