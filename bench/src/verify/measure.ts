import { performance } from 'node:perf_hooks';
import type { Contender } from './contenders.ts';

/** What one timed run of a contender achieved. */
export interface Sample {
  opsPerSecond: number;
  /** Process CPU time (all threads) over wall time: 1.0 is one core busy, 2.0 both. */
  cores: number;
}

// Reading the clock costs about as much as an HMAC: check it only every few verifications.
const CHECK_EVERY = 64;

/**
 * Verifies tokens one after another — one in flight, so one core — for about `durationMs`,
 * cycling through `tokens` so each call sees a token it has not seen recently.
 */
export async function measureSerial(
  contender: Contender,
  tokens: readonly string[],
  durationMs: number,
): Promise<Sample> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const deadline = start + durationMs;
  let count = 0;
  let index = 0;
  const next = (): string => {
    index = index + 1 === tokens.length ? 0 : index + 1;
    return tokens[index] as string;
  };
  if (contender.mode === 'sync') {
    do {
      for (let i = 0; i < CHECK_EVERY; i += 1) contender.verify(next());
      count += CHECK_EVERY;
    } while (performance.now() < deadline);
  } else {
    do {
      for (let i = 0; i < CHECK_EVERY; i += 1) await contender.verify(next());
      count += CHECK_EVERY;
    } while (performance.now() < deadline);
  }
  return sample(count, start, cpu);
}

/**
 * Keeps `inFlight` verifications going at once, as a server under load does, so that work on the
 * libuv threadpool can run on the second core while the main thread parses the next token.
 */
export async function measureInFlight(
  contender: Contender,
  tokens: readonly string[],
  durationMs: number,
  inFlight: number,
): Promise<Sample> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const deadline = start + durationMs;
  let count = 0;
  let index = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      for (let i = 0; i < CHECK_EVERY / 8; i += 1) {
        index = index + 1 === tokens.length ? 0 : index + 1;
        await contender.verify(tokens[index] as string);
      }
      count += CHECK_EVERY / 8;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return sample(count, start, cpu);
}

function sample(count: number, start: number, cpu: NodeJS.CpuUsage): Sample {
  const elapsedMs = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { opsPerSecond: (count * 1000) / elapsedMs, cores: (used.user + used.system) / 1000 / elapsedMs };
}
