/**
 * The Fargate task size table, checked against the combinations the ECS
 * developer guide lists ("Troubleshoot Amazon ECS task definition invalid CPU
 * or memory errors"), including its edges and the 8/16 vCPU steps.
 */
import { describe, expect, it } from 'vitest';
import { checkFargateSize, FARGATE_SIZES, parseCpu, parseMemory } from '../../functions/audit/fargate.ts';

describe('Fargate task sizes', () => {
  it.each([
    [256, 512],
    [256, 2048],
    [512, 1024],
    [512, 4096],
    [1024, 2048],
    [1024, 8192],
    [2048, 4096],
    [2048, 16384],
    [4096, 8192],
    [4096, 30720],
    [8192, 16384],
    [8192, 20480],
    [8192, 61440],
    [16384, 32768],
    [16384, 40960],
    [16384, 122880],
  ])('accepts cpu %i with memory %i', (cpu, memory) => {
    expect(checkFargateSize(cpu, memory)).toBeNull();
  });

  it.each([
    [256, 3072, 'memory'],
    [512, 512, 'memory'],
    [1024, 9216, 'memory'],
    [2048, 3072, 'memory'],
    [4096, 31744, 'memory'],
    [8192, 18432, 'memory'], // 4 GB steps from 16 GB
    [8192, 65536, 'memory'],
    [16384, 36864, 'memory'], // 8 GB steps from 32 GB
    [16384, 131072, 'memory'],
    [128, 512, 'cpu'],
    [3072, 8192, 'cpu'],
    [32768, 131072, 'cpu'],
  ])('rejects cpu %i with memory %i (fix the %s)', (cpu, memory, field) => {
    expect(checkFargateSize(cpu, memory)?.field).toBe(field);
  });

  it('points a bad cpu at the sizes that fit the memory', () => {
    expect(checkFargateSize(3072, 8192)).toEqual({
      field: 'cpu',
      reason: 'cpu 3072 is not a Fargate size (valid: 256, 512, 1024, 2048, 4096, 8192, 16384)',
      fix: 'set cpu to 1024 (1 vCPU) or 2048 (2 vCPU) or 4096 (4 vCPU) for memory 8192 MiB',
    });
  });

  it('limits Windows tasks to 1, 2 and 4 vCPU', () => {
    expect(checkFargateSize(1024, 2048, true)).toBeNull();
    expect(checkFargateSize(4096, 30720, true)).toBeNull();
    expect(checkFargateSize(512, 1024, true)?.field).toBe('cpu');
    expect(checkFargateSize(8192, 16384, true)?.field).toBe('cpu');
  });

  it('has 3 + 4 + 7 + 13 + 23 + 12 + 12 memory values, 74 combinations in all', () => {
    expect(FARGATE_SIZES.map((o) => o.memory.length)).toEqual([3, 4, 7, 13, 23, 12, 12]);
  });

  it('marks 8 and 16 vCPU as needing platform version 1.4.0', () => {
    expect(FARGATE_SIZES.filter((o) => o.minPlatformVersion === '1.4.0').map((o) => o.cpu)).toEqual([8192, 16384]);
  });
});

describe('task-level cpu and memory strings', () => {
  it.each([
    ['256', 256],
    ['1 vCPU', 1024],
    ['0.25 vcpu', 256],
    ['16vCPU', 16384],
  ])('reads cpu %j as %i units', (raw, units) => {
    expect(parseCpu(raw)).toEqual({ ok: true, value: units });
  });

  it.each([
    ['512', 512],
    ['2GB', 2048],
    ['2 GB', 2048],
    ['0.5 GB', 512],
  ])('reads memory %j as %i MiB', (raw, mib) => {
    expect(parseMemory(raw)).toEqual({ ok: true, value: mib });
  });

  it('names what it could not read', () => {
    expect(parseCpu('1 core')).toEqual({ ok: false, reason: 'cpu "1 core" is neither CPU units ("1024") nor vCPUs ("1 vCPU")' });
    expect(parseMemory('2 GiB')).toEqual({ ok: false, reason: 'memory "2 GiB" is neither MiB ("2048") nor GB ("2 GB")' });
  });
});

describe('leading-dot decimals', () => {
  it('reads ".25 vcpu" and ".5 gb" as numbers (a real task definition in the audit corpus uses them)', () => {
    expect(parseCpu('.25 vcpu')).toEqual({ ok: true, value: 256 });
    expect(parseMemory('.5 gb')).toEqual({ ok: true, value: 512 });
  });
});
