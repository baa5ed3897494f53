import autocannon, { type AutocannonOptions } from 'autocannon';
import { median, summarize, type Summary } from '../stats.ts';
import { cpuMicros } from './cpu.ts';

/** One autocannon run, reduced. Latencies in milliseconds. */
export interface LoadSample {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  /** Requests that did not answer 2xx, plus errors and timeouts: a fast wrong answer is no answer. */
  failures: number;
  /** 2xx answers in the run. */
  answered: number;
  /** The server process's CPU time per 2xx answer (µs), when its pid was given. */
  serverCpuPerRequest?: number | undefined;
}

/** Runs autocannon (in this process; the server is another) and keeps what the tables need. */
export async function load(options: AutocannonOptions): Promise<LoadSample> {
  const result = await autocannon({ timeout: 10, ...options });
  return {
    requestsPerSecond: result['2xx'] / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: result.non2xx + result.errors + result.timeouts,
    answered: result['2xx'],
  };
}

/** Several runs of one target: median req/s with its spread, median p50/p99. */
export interface LoadSummary {
  requestsPerSecond: Summary;
  p50: number;
  p99: number;
  p99Runs: number[];
  failures: number;
  /** Median over the runs of the server's CPU time per answer (µs), when measured. */
  serverCpuPerRequest?: number | undefined;
}

export function summarizeLoad(samples: readonly LoadSample[]): LoadSummary {
  return {
    requestsPerSecond: summarize(samples.map((s) => s.requestsPerSecond)),
    p50: median(samples.map((s) => s.p50)),
    p99: median(samples.map((s) => s.p99)),
    p99Runs: samples.map((s) => s.p99),
    failures: samples.reduce((sum, s) => sum + s.failures, 0),
    serverCpuPerRequest: samples.every((s) => s.serverCpuPerRequest !== undefined)
      ? median(samples.map((s) => s.serverCpuPerRequest as number))
      : undefined,
  };
}

/** Timing of a load comparison: a warm-up per target, then interleaved runs. Seconds. */
export interface LoadPlan {
  warmup: number;
  duration: number;
  runs: number;
  connections: number;
}

/**
 * `runs` interleaved runs per target (3 by default). The cases whose targets are ratios between
 * servers take 5: on a shared two-core machine one run can be 30 % off its neighbours, and a
 * median of five moves less than a median of three.
 */
export const loadPlan = (quick: boolean, connections = 50, runs = 3): LoadPlan =>
  quick ? { warmup: 0.5, duration: 1, runs: 3, connections } : { warmup: 3, duration: 8, runs, connections };

/**
 * Loads each target with the same plan, interleaving the runs (target A, B, C, then A, B, C
 * again) so that noise from other work on the machine lands on every target alike.
 */
export async function compareLoads(
  targets: ReadonlyArray<{
    name: string;
    options: (seconds: number) => AutocannonOptions;
    /** Runs before each load of this target, untimed (e.g. to replenish single-use tokens). */
    before?: () => Promise<void>;
    /** The server's process, to charge it its CPU time per request. */
    pid?: number | undefined;
  }>,
  plan: LoadPlan,
  log: (line: string) => void,
): Promise<Map<string, LoadSummary>> {
  for (const target of targets) {
    await target.before?.();
    await load(target.options(plan.warmup));
  }
  const samples = new Map<string, LoadSample[]>(targets.map((target) => [target.name, []]));
  for (let run = 0; run < plan.runs; run += 1) {
    for (const target of targets) {
      await target.before?.();
      const cpuBefore = target.pid === undefined ? undefined : cpuMicros(target.pid);
      const sample = await load(target.options(plan.duration));
      const cpuAfter = target.pid === undefined ? undefined : cpuMicros(target.pid);
      if (cpuBefore !== undefined && cpuAfter !== undefined && sample.answered > 0) {
        sample.serverCpuPerRequest = (cpuAfter - cpuBefore) / sample.answered;
      }
      log(
        `  run ${run + 1} ${target.name}: ${Math.round(sample.requestsPerSecond)} req/s, p99 ${sample.p99} ms`,
      );
      samples.get(target.name)?.push(sample);
    }
  }
  return new Map([...samples].map(([name, list]) => [name, summarizeLoad(list)]));
}
