/**
 * Fargate task sizes. RegisterTaskDefinition rejects any other combination
 * ("Invalid 'cpu' setting for task"), so checking before registering turns a
 * failed deployment pipeline into a lint error.
 *
 * Source: Amazon ECS Developer Guide, "Troubleshoot Amazon ECS task definition
 * invalid CPU or memory errors"
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-cpu-memory-error.html
 * and the TaskDefinition `memory` field of the ECS API reference.
 */

export interface FargateCpuOption {
  /** CPU units (1024 = 1 vCPU). */
  cpu: number;
  /** Every valid memory value in MiB, ascending. */
  memory: readonly number[];
  /** Windows on Fargate offers 1, 2 and 4 vCPU only. */
  windows: boolean;
  /** 8 and 16 vCPU need Linux platform version 1.4.0 or later. */
  minPlatformVersion?: string;
}

const steps = (from: number, to: number, step: number): number[] => {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
};

const GiB = 1024;

export const FARGATE_SIZES: readonly FargateCpuOption[] = Object.freeze([
  { cpu: 256, memory: [512, 1 * GiB, 2 * GiB], windows: false },
  { cpu: 512, memory: steps(1 * GiB, 4 * GiB, GiB), windows: false },
  { cpu: 1024, memory: steps(2 * GiB, 8 * GiB, GiB), windows: true },
  { cpu: 2048, memory: steps(4 * GiB, 16 * GiB, GiB), windows: true },
  { cpu: 4096, memory: steps(8 * GiB, 30 * GiB, GiB), windows: true },
  { cpu: 8192, memory: steps(16 * GiB, 60 * GiB, 4 * GiB), windows: false, minPlatformVersion: '1.4.0' },
  { cpu: 16384, memory: steps(32 * GiB, 120 * GiB, 8 * GiB), windows: false, minPlatformVersion: '1.4.0' },
]);

export type Parsed = { ok: true; value: number } | { ok: false; reason: string };

/**
 * Task-level `cpu` as RegisterTaskDefinition accepts it: CPU units ("1024") or
 * vCPUs ("1 vCPU", "0.25 vcpu"); ECS converts it to units when registering.
 */
export function parseCpu(raw: string): Parsed {
  const text = raw.trim();
  const units = /^(\d+)$/.exec(text);
  if (units) return { ok: true, value: Number(units[1]) };
  // A leading-dot decimal (".25 vcpu") is still a number; rejecting it would call a valid size invalid.
  const vcpu = /^(\d+(?:\.\d+)?|\.\d+)\s*vcpu$/i.exec(text);
  if (vcpu) return { ok: true, value: Math.round(Number(vcpu[1]) * 1024) };
  return { ok: false, reason: `cpu "${raw}" is neither CPU units ("1024") nor vCPUs ("1 vCPU")` };
}

/** Task-level `memory`: MiB ("2048") or GB ("2GB", "2 GB"), which ECS converts to MiB. */
export function parseMemory(raw: string): Parsed {
  const text = raw.trim();
  const mib = /^(\d+)$/.exec(text);
  if (mib) return { ok: true, value: Number(mib[1]) };
  const gb = /^(\d+(?:\.\d+)?|\.\d+)\s*gb$/i.exec(text);
  if (gb) return { ok: true, value: Math.round(Number(gb[1]) * 1024) };
  return { ok: false, reason: `memory "${raw}" is neither MiB ("2048") nor GB ("2 GB")` };
}

export const formatCpu = (units: number): string => `${units} (${units / 1024} vCPU)`;

/** "2048-8192 MiB in 1024 MiB steps" or "512, 1024 or 2048 MiB". */
export function describeMemory(option: FargateCpuOption): string {
  const m = option.memory;
  if (m.length <= 3) return `${m.slice(0, -1).join(', ')} or ${m[m.length - 1]} MiB`;
  return `${m[0]}-${m[m.length - 1]} MiB in ${m[1]! - m[0]!} MiB steps`;
}

export interface FargateSizeProblem {
  /** Which field to change. */
  field: 'cpu' | 'memory';
  reason: string;
  fix: string;
}

/**
 * Checks a task size against the table; null when Fargate accepts it.
 * `windows` is true for a WINDOWS_SERVER_* operatingSystemFamily.
 */
export function checkFargateSize(cpu: number, memory: number, windows = false): FargateSizeProblem | null {
  const allowedCpus = FARGATE_SIZES.filter((o) => !windows || o.windows);
  const option = allowedCpus.find((o) => o.cpu === cpu);
  if (!option) {
    const list = allowedCpus.map((o) => o.cpu).join(', ');
    const fits = allowedCpus.filter((o) => o.memory.includes(memory)).map((o) => o.cpu);
    return {
      field: 'cpu',
      reason: `cpu ${cpu} is not a Fargate size${windows ? ' for Windows' : ''} (valid: ${list})`,
      fix:
        fits.length > 0
          ? `set cpu to ${fits.map(formatCpu).join(' or ')} for memory ${memory} MiB`
          : `set cpu to one of ${list} and memory to a value valid for it`,
    };
  }
  if (option.memory.includes(memory)) return null;
  const fits = allowedCpus.filter((o) => o.memory.includes(memory)).map((o) => o.cpu);
  return {
    field: 'memory',
    reason: `memory ${memory} MiB is not valid with cpu ${formatCpu(cpu)}, which allows ${describeMemory(option)}`,
    fix: `set memory to ${describeMemory(option)}${fits.length > 0 ? `, or keep memory ${memory} MiB with cpu ${fits.map(formatCpu).join(' or ')}` : ''}`,
  };
}
