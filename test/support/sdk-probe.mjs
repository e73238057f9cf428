/**
 * Preloaded with `node --import` to list the AWS SDK modules a process
 * resolves: the audit CLI must resolve none for --help or files. The
 * synchronous resolve hook (Node 22.15+) sees import and require alike,
 * whatever loader (tsx) runs after it. It also prints the process's own
 * time to exit, which bench/audit-cli.ts reports.
 */
import { registerHooks } from 'node:module';

const seen = new Set();
registerHooks({
  resolve(specifier, context, nextResolve) {
    const result = nextResolve(specifier, context);
    const m = /[\\/]node_modules[\\/](@aws-sdk[\\/][^\\/]+)/.exec(result.url ?? '');
    if (m) seen.add(m[1].replace('\\', '/'));
    return result;
  },
});
process.on('exit', () => {
  const cpu = process.cpuUsage();
  process.stderr.write(`sdk-probe: ${JSON.stringify([...seen].sort())}\n`);
  // For bench/audit-cli.ts: time since the process started, and the CPU it used, as the process itself saw them.
  process.stderr.write(`sdk-probe-time: ${JSON.stringify({ wallMs: performance.now(), cpuMs: (cpu.user + cpu.system) / 1000 })}\n`);
});
