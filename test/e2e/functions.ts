/**
 * The deployed functions as the E2E runtime loads them: the bundles built by
 * scripts/build.ts with the deployment's esbuild options, each started with
 * the environment infra/functions gives it for a configuration, as
 * serverless.ts deploys it.
 */
import { copyFileSync, linkSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire, registerHooks } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseConfig, type CaretakerConfigInput } from '../../functions/shared/config.ts';
import { cleanupAlarmNamePrefix } from '../../functions/cleanup/settings.ts';
import { cleanupDocumentName } from '../../infra/functions/cleanup.ts';
import { lambdaEnvironment } from '../../infra/functions/environment.ts';
import type { FunctionId } from '../../infra/functions/ids.ts';
import { functionSpecs } from '../../infra/functions/index.ts';
import { deployContext } from '../../infra/functions/types.ts';
import { handlerFile } from '../../infra/functions/ids.ts';
import { buildBundles, repoRoot } from '../../scripts/build.ts';
import type { Deployment, Handler } from '../../sim/lambda.ts';

export const STAGE = 'e2e';
export const PREFIX = `ecs-caretaker-${STAGE}`;
export const TABLE = `${PREFIX}-state`;
export const DOCUMENT = cleanupDocumentName(PREFIX);
export const ALARM_PREFIX = cleanupAlarmNamePrefix(PREFIX);

// A bundle must be loaded by Node itself, byte for byte, as Lambda's runtime loads it. Under vitest,
// import() goes through vitest's module runner (which transforms it) while require(esm) is Node's own.
// Under tsx (npm run bench), require() of an .mjs goes through tsx's esbuild transform (300 ms a
// cold start) while import() reaches Node's loader, where a hook hands the file over untouched.
// Node caches a module by its path: every cold start gets a path of its own, a hard link to the bundle.
const nodeRequire = createRequire(import.meta.url);
const COLD = '/handler-cold-';
let hooked = false;

async function loadBundle(path: string): Promise<{ handler?: Handler }> {
  if (process.env.VITEST) return nodeRequire(path) as { handler?: Handler };
  if (!hooked) {
    hooked = true;
    registerHooks({
      resolve: (specifier, context, next) => (specifier.includes(COLD) ? { url: specifier, format: 'module', shortCircuit: true } : next(specifier, context)),
      load: (url, context, next) =>
        url.includes(COLD) ? { format: 'module', source: readFileSync(fileURLToPath(url)), shortCircuit: true } : next(url, context),
    });
  }
  return (await import(pathToFileURL(path).href)) as { handler?: Handler };
}

function freshCopy(file: string): string {
  const path = join(dirname(file), `${COLD.slice(1)}${++coldStarts}.mjs`);
  try {
    linkSync(file, path);
  } catch {
    copyFileSync(file, path);
  }
  return path;
}

/** What Lambda's console would show; WARN keeps the failures' log lines and little else. */
const POWERTOOLS_ENV = {
  POWERTOOLS_DEV: 'false',
  POWERTOOLS_LOG_LEVEL: 'WARN',
  POWERTOOLS_TRACE_ENABLED: 'false',
  POWERTOOLS_METRICS_NAMESPACE: 'EcsCaretaker',
  POWERTOOLS_METRICS_DISABLED: 'true',
};

// Process-wide, so that two runtimes in one process never share a path.
let coldStarts = 0;

export interface Bundles {
  files: Record<FunctionId, string>;
  remove(): void;
}

/** Builds every bundle once, into a directory of its own so that concurrent test files never share one. */
export async function buildOnce(): Promise<Bundles> {
  const dir = mkdtempSync(join(tmpdir(), 'cc-e2e-bundles-'));
  const built = await buildBundles(dir);
  const files = Object.fromEntries(Object.entries(built).map(([key, { file }]) => [key, file])) as Record<FunctionId, string>;
  return { files, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * One Deployment per function of this configuration, named `<id><suffix>`,
 * loading the bundle with the environment serverless.ts would give it.
 */
export function bundledDeployments(input: CaretakerConfigInput, bundles: Bundles, opts: { suffix?: string; only?: FunctionId[] } = {}): Deployment[] {
  const config = parseConfig(input);
  const context = deployContext(config, STAGE);
  if (context.prefix !== PREFIX) throw new Error(`e2e: the configuration must keep the default service name (${context.prefix} is not ${PREFIX})`);
  const specs = functionSpecs(context);
  return specs
    .filter((spec) => !opts.only || opts.only.includes(spec.id))
    .map((spec) => {
      const file = bundles.files[spec.id];
      if (!file) throw new Error(`e2e: no bundle for function ${spec.id}`);
      return {
        name: `${spec.id}${opts.suffix ?? ''}`,
        timeoutMs: Number(spec.definition.timeout ?? 6) * 1000,
        env: lambdaEnvironment(spec, TABLE, POWERTOOLS_ENV),
        load: async () => {
          const module = await loadBundle(freshCopy(file));
          if (typeof module.handler !== 'function') throw new Error(`e2e: ${file} exports no handler`);
          return module.handler;
        },
      };
    });
}

/**
 * The same deployments with each function's handler module loaded from source
 * in this process, for runs whose hundreds of concurrent cold starts would
 * spend their time evaluating the bundle (bench/drain.ts, mass scale-in).
 * Each cold start evaluates its own instance of the handler module (a query
 * string makes the URL new), so it builds its own SDK clients and their
 * adaptive rate limiters as a new execution environment does; the modules it
 * imports, Powertools' singletons included, are shared.
 */
export function sourceDeployments(input: CaretakerConfigInput, opts: { suffix?: string; only?: FunctionId[] } = {}): Deployment[] {
  const context = deployContext(parseConfig(input), STAGE);
  return functionSpecs(context)
    .filter((spec) => !opts.only || opts.only.includes(spec.id))
    .map((spec) => {
      const url = pathToFileURL(join(repoRoot, handlerFile(spec.id))).href;
      return {
        name: `${spec.id}${opts.suffix ?? ''}`,
        timeoutMs: Number(spec.definition.timeout ?? 6) * 1000,
        env: lambdaEnvironment(spec, TABLE, POWERTOOLS_ENV),
        load: async () => {
          const module = (await import(/* @vite-ignore */ `${url}?cold=${++coldStarts}`)) as { handler?: Handler };
          if (typeof module.handler !== 'function') throw new Error(`e2e: ${url} exports no handler`);
          return module.handler;
        },
      };
    });
}
