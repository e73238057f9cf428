/**
 * Stands in for `semver` in the Lambda bundles (see infra/esbuild.ts). The
 * X-Ray SDK loads it only for `semver.gte(AWS.VERSION, min)` in its AWS SDK v2
 * patcher, which these functions never use (they trace SDK v3 clients); the
 * real package adds ~28 KB minified to every bundle.
 */
const parts = (version: string): number[] =>
  version
    .replace(/^v/, '')
    .split(/[.+-]/)
    .slice(0, 3)
    .map((p) => Number.parseInt(p, 10) || 0);

export function gte(a: string, b: string): boolean {
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! > y[i]!;
  return true;
}

export default { gte };
