import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`; 100 on every Linux seen). */
let ticksPerSecond: number | undefined;

/**
 * CPU time process `pid` has used so far, user plus system, every thread included (the libuv
 * threadpool's signature checks count too), in microseconds; `undefined` where /proc is not there.
 * Throughput on a shared two-core machine moves with whatever else runs; CPU time per request is
 * the server's own cost, so the two are reported side by side.
 */
export function cpuMicros(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Fields after the command name, which is in parentheses and may itself contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (proc(5) fields 14 and 15)
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return (ticks * 1e6) / ticksPerSecond;
}
