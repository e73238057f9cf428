import { describe, expect, it } from 'vitest';
import { gte } from '../../functions/shared/semver-gte.ts';
import { credentialsTreatedAsExpired, defaultProvider } from '../../functions/shared/lambda-credentials.ts';

describe('bundle shims', () => {
  it.each([
    ['2.1.0', '2.0.0', true],
    ['2.0.0', '2.0.0', true],
    ['1.9.9', '2.0.0', false],
    ['2.10.0', '2.9.0', true],
    ['v3.0.0-beta', '2.99.99', true],
  ])('semver gte(%s, %s) is %s', (a, b, expected) => {
    expect(gte(a, b)).toBe(expected);
  });

  it('credentials come from the environment Lambda sets', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'token' });
    try {
      expect(await defaultProvider()()).toMatchObject({ accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token' });
    } finally {
      process.env = saved;
    }
    expect(credentialsTreatedAsExpired({ expiration: new Date(Date.now() + 60_000) })).toBe(true);
    expect(credentialsTreatedAsExpired({})).toBe(false);
  });
});
