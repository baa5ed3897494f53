import { readFileSync } from 'node:fs';
import { median } from '../stats.ts';

/** The resident set size of process `pid`, in MiB, from /proc (Linux only). */
export function residentMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1];
  if (kib === undefined) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kib) / 1024;
}

/** Resident size over a stretch of time: its median and its peak, in MiB. */
export interface RssSummary {
  medianMiB: number;
  peakMiB: number;
  samples: number;
}

/**
 * Samples the resident size of `pid` every `everyMs` while `during` runs (a load test, in this
 * process; the measured server is another). Reading /proc costs the sampled process nothing.
 */
export async function sampleRss<T>(
  pid: number,
  during: () => Promise<T>,
  everyMs = 100,
): Promise<{ value: T; rss: RssSummary }> {
  const samples = [residentMiB(pid)];
  const timer = setInterval(() => samples.push(residentMiB(pid)), everyMs);
  try {
    const value = await during();
    samples.push(residentMiB(pid));
    return {
      value,
      rss: { medianMiB: median(samples), peakMiB: Math.max(...samples), samples: samples.length },
    };
  } finally {
    clearInterval(timer);
  }
}
