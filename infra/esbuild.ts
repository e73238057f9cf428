import { fileURLToPath } from 'node:url';

/**
 * The one esbuild configuration of the Lambda bundles, used by serverless-esbuild
 * (serverless.ts) and by scripts/build.ts (E2E tests, demo, bench), so that
 * what is tested is what is deployed.
 */
export const esbuildOptions = {
  bundle: true,
  minify: true,
  sourcemap: false,
  // The Lambda runtime, nodejs24.x (serverless.ts).
  target: 'node24',
  platform: 'node' as const,
  format: 'esm' as const,
  mainFields: ['module', 'main'],
  // Bundled ESM still meets CommonJS inside (the X-Ray SDK): give it a require.
  banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
  // The SDK imports this lazily, only for an operation whose schema has an event-stream
  // member (@smithy/core protocols: RpcProtocol/HttpBindingProtocol -> loadEventStreamCapability).
  // None of the APIs these functions call has one; inlined, it cost 15 KB in every bundle
  // and kept audit over 500 KB. test/infra/bundles.test.ts checks it is the only import left.
  external: ['@smithy/core/event-streams'],
  alias: {
    '@aws-sdk/credential-provider-node': fileURLToPath(new URL('../functions/shared/lambda-credentials.ts', import.meta.url)),
    semver: fileURLToPath(new URL('../functions/shared/semver-gte.ts', import.meta.url)),
  },
};
