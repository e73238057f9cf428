/**
 * The SARIF report against the SARIF 2.1.0 JSON schema: with findings, with
 * none, and (to show the check can fail) with a result that breaks the schema.
 */
import { describe, expect, it } from 'vitest';
import { renderSarif } from '../../functions/audit/report.ts';
import { audit } from '../../functions/audit/rules.ts';
import { checkoutRegister, checkoutService, checkoutTargetGroup } from './support.ts';
import { sarifSchemaErrors } from './sarif-schema.ts';

const brokenCheckout = () => {
  const td = checkoutRegister();
  td.cpu = '300';
  td.containerDefinitions![0]!.stopTimeout = 300;
  return td;
};

describe('SARIF 2.1.0 schema', () => {
  it('accepts a report with task definition, service and target group findings', () => {
    const service = checkoutService();
    service.deploymentConfiguration = { minimumHealthyPercent: 100, maximumPercent: 100 };
    const tg = checkoutTargetGroup();
    tg.attributes = [];
    const findings = audit({ taskDefinitions: [brokenCheckout()], services: [service], targetGroups: [tg] });
    expect(findings.length).toBeGreaterThan(3);
    const log = JSON.parse(renderSarif(findings, { failOn: 'high', locate: () => ({ uri: 'infra/checkout.json', line: 3, column: 5 }) }));
    expect(sarifSchemaErrors(log)).toEqual([]);
  });

  it('accepts a report with no results', () => {
    expect(sarifSchemaErrors(JSON.parse(renderSarif([], { failOn: 'high' })))).toEqual([]);
  });

  it('rejects a log whose result breaks the schema', () => {
    const log = JSON.parse(renderSarif(audit({ taskDefinitions: [brokenCheckout()] }), { failOn: 'high' }));
    log.runs[0].results[0].level = 'fatal';
    expect(sarifSchemaErrors(log).some((e) => e.startsWith('/runs/0/results/0/level'))).toBe(true);
  });
});
