/**
 * Stands in for @aws-sdk/credential-provider-node in the Lambda bundles (see
 * infra/esbuild.ts). Lambda always gives a function its role's credentials in
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN (Lambda
 * developer guide, "Defined runtime environment variables"), so the rest of the
 * default chain (INI, SSO, web identity, IMDS), ~85 KB minified, is never used.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

export const defaultProvider = (init: Parameters<typeof fromEnv>[0] = {}) => fromEnv(init);
export const credentialsWillNeedRefresh = (credentials?: { expiration?: Date }): boolean => credentials?.expiration !== undefined;
export const credentialsTreatedAsExpired = (credentials?: { expiration?: Date }): boolean =>
  credentials?.expiration !== undefined && credentials.expiration.getTime() - Date.now() < 300_000;
