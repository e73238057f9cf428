/**
 * The `npm start` demo, in process: every scenario on the built bundles,
 * without and with faults (throttled API calls, duplicated and reordered
 * events), and each one's own outcome checks must hold.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDemo, scenarios, type Bundles, type DemoReport } from '../../demo/runner.ts';
import { buildBundles } from '../../scripts/build.ts';

let bundles: Bundles;
// Its own build directory: `npm start` or `npm run bench` may be rebuilding dist/ meanwhile.
const outDir = mkdtempSync(join(tmpdir(), 'cc-demo-'));

beforeAll(async () => {
  bundles = await buildBundles(outDir);
});
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

const failures = (report: DemoReport) =>
  report.scenarios.flatMap((s) => [
    ...s.checks.filter((c) => !c.ok).map((c) => `${s.name}: ${c.label}: ${c.value}`),
    ...(s.error ? [`${s.name}: ${s.error}`] : []),
  ]);

describe('npm start', () => {
  it('plays every scenario and each expected outcome happens', async () => {
    const report = await runDemo({ bundles, print: false });
    expect(failures(report)).toEqual([]);
    expect(report.scenarios.map((s) => s.name)).toEqual(scenarios.map((s) => s.name));
    for (const s of report.scenarios) expect(s.checks.length).toBeGreaterThan(2);
    expect(report.ok).toBe(true);

    // The timeline says what each function decided and what it cost.
    const drain = report.scenarios.find((s) => s.name === 'drain')!.timeline;
    const complete = drain.find((e) => e.kind === 'function' && e.calls?.['autoscaling:CompleteLifecycleAction']);
    expect(complete?.text).toContain('CompleteLifecycleAction CONTINUE');
    expect(drain.some((e) => e.kind === 'world' && e.text.endsWith('DEACTIVATING'))).toBe(true);
    expect(drain.some((e) => e.calls?.['autoscaling:RecordLifecycleActionHeartbeat'])).toBe(true);
  });

  it('holds the same outcomes with throttled API calls and duplicated, reordered events', async () => {
    const report = await runDemo({ bundles, print: false, faults: true });
    expect(failures(report)).toEqual([]);
    // The faults did happen: otherwise this test would prove nothing.
    expect(report.scenarios.reduce((n, s) => n + s.throttled, 0)).toBeGreaterThan(20);
    expect(report.scenarios.reduce((n, s) => n + s.duplicateDeliveries, 0)).toBeGreaterThan(10);
    expect(report.ok).toBe(true);
  });
});
