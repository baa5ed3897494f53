import { request } from './http.ts';
import type { Ledger, TrackedSession } from './ledger.ts';

/** One verdict of the report. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** How far from its lifetime a session's end is uncertain, seen from the client (ms). */
const UNSURE_MS = 2000;

/** Runs `work` over `items`, `parallel` at a time. */
async function eachLimited<T>(items: T[], parallel: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

/**
 * Nothing acknowledged was lost, asked of the server at `base` (a fresh process on the same
 * database): every account signs in, every live session's latest refresh token rotates, and
 * every session acknowledged as logged out or revoked for reuse is refused.
 */
export async function verifyAcknowledgedWrites(
  base: string,
  ledger: Ledger,
  lifetimeMs = Infinity,
): Promise<Check[]> {
  const wrong = { live: 0, ended: 0 };
  await eachLimited(ledger.sessions, 8, async (session: TrackedSession) => {
    // The server set the token's end at its own clock during the last refresh, which the ledger
    // saw end a little later: near the lifetime either answer is right.
    const idle = Date.now() - session.lastUsedAt;
    const reply = await request(base, 'POST', '/auth/refresh', {
      body: { refreshToken: session.refreshToken },
    });
    const expired = idle >= lifetimeMs || (idle > lifetimeMs - UNSURE_MS && reply.status !== 200);
    if (session.state === 'live' && expired) {
      // Its lifetime ran out after the load: expired, or already swept away.
      const code = reply.code === 'session_expired' ? 'session_expired' : 'invalid_grant';
      if (!ledger.check('verify: live session expired since', reply, 401, code)) wrong.live += 1;
    } else if (session.state === 'live') {
      if (!ledger.check('verify: live session refreshes', reply, 200)) wrong.live += 1;
    } else if (!ledger.check(`verify: ${session.state} session refused`, reply, 401, 'invalid_grant')) {
      wrong.ended += 1;
    }
  });

  let loginsFailed = 0;
  await eachLimited(ledger.accounts, 4, async (account) => {
    const reply = await request(base, 'POST', '/auth/login', {
      body: { email: account.email, password: account.password, remember: false },
    });
    const user = reply.body['user'] as { id?: unknown } | undefined;
    if (!ledger.check('verify: sign-up kept', reply, 200, undefined, user?.id === account.userId))
      loginsFailed += 1;
  });

  const ended = ledger.sessions.length - ledger.count('live');
  return [
    {
      name: 'every acknowledged sign-up can log in',
      ok: loginsFailed === 0,
      detail: `${ledger.accounts.length - loginsFailed}/${ledger.accounts.length}`,
    },
    {
      name: 'every live session’s latest refresh token works',
      ok: wrong.live === 0,
      detail: `${ledger.count('live') - wrong.live}/${ledger.count('live')}`,
    },
    {
      name: 'every logged-out or reuse-revoked session is refused',
      ok: wrong.ended === 0,
      detail: `${ended - wrong.ended}/${ended} (${ledger.count('logged_out')} logged out, ${ledger.count('reuse_revoked')} reuse-revoked)`,
    },
  ];
}

/** A resident-memory sample: seconds since the start of the load, and bytes. */
export interface Sample {
  at: number;
  rss: number;
}

/**
 * Growth of resident memory after the warm-up: the median of the last third of the samples
 * against the median of the first third (medians, so one garbage-collection peak does not decide).
 */
export function memoryGrowth(
  samples: Sample[],
  warmupSeconds: number,
): { first: number; last: number; growth: number } | undefined {
  const steady = samples.filter((sample) => sample.at >= warmupSeconds).map((sample) => sample.rss);
  if (steady.length < 6) return undefined;
  const third = Math.floor(steady.length / 3);
  const first = median(steady.slice(0, third));
  const last = median(steady.slice(-third));
  return { first, last, growth: last / first - 1 };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
