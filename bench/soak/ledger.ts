import type { Reply } from './http.ts';

/** An account whose sign-up the server acknowledged (201). */
export interface Account {
  email: string;
  password: string;
  userId: string;
}

/**
 * `live`: the last acknowledged rotation handed out `refreshToken`, which must still work.
 * `logged_out`: a logout was acknowledged (204). `reuse_revoked`: a replayed spent token was
 * answered `refresh_token_reused`, which revokes the session. Either way its tokens must fail.
 */
export type SessionState = 'live' | 'logged_out' | 'reuse_revoked';

export interface TrackedSession {
  id: string;
  account: Account;
  accessToken: string;
  refreshToken: string;
  state: SessionState;
  /** When its tokens were last issued (ms): with short lifetimes it may have expired since. */
  lastUsedAt: number;
}

/** Something the server answered that the soak did not expect, for the report. */
export interface Surprise {
  step: string;
  expected: string;
  got: string;
}

const KEEP_SURPRISES = 20;

/**
 * Every write the server acknowledged (sign-ups, rotations, logouts, reuse revocations), and
 * every answer tallied by step and outcome, so the end of the run can check that nothing
 * acknowledged was lost and that only the expected errors appeared.
 */
export class Ledger {
  readonly accounts: Account[] = [];
  readonly sessions: TrackedSession[] = [];
  /** `<step> <status> [code]` → count, for every answer. */
  readonly outcomes = new Map<string, number>();
  /** Error code → count, over every non-2xx answer. */
  readonly errorCodes = new Map<string, number>();
  /** Error code → how many answers were expected to carry it. */
  readonly expectedErrors = new Map<string, number>();
  readonly surprises: Surprise[] = [];
  surpriseCount = 0;
  serverErrors = 0;
  requests = 0;

  /**
   * Tallies `reply` of `step` and whether it is what was expected: `status`, and `code` for an
   * error. Returns whether it was; a surprise is kept for the report.
   */
  check(step: string, reply: Reply, status: number, code?: string, extra = true): boolean {
    this.requests += 1;
    const outcome = `${step} ${reply.status}${reply.code === undefined ? '' : ` ${reply.code}`}`;
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
    if (reply.status >= 500) this.serverErrors += 1;
    if (reply.code !== undefined) this.errorCodes.set(reply.code, (this.errorCodes.get(reply.code) ?? 0) + 1);
    if (code !== undefined) this.expectedErrors.set(code, (this.expectedErrors.get(code) ?? 0) + 1);
    const ok = reply.status === status && reply.code === code && extra;
    if (!ok) {
      const expected = `${status}${code === undefined ? '' : ` ${code}`}`;
      this.surprise(step, expected, `${reply.status} ${reply.code ?? ''}${extra ? '' : ' (body differs)'}`);
    }
    return ok;
  }

  surprise(step: string, expected: string, got: string): void {
    this.surpriseCount += 1;
    if (this.surprises.length < KEEP_SURPRISES) this.surprises.push({ step, expected, got });
  }

  count(state: SessionState): number {
    return this.sessions.filter((session) => session.state === state).length;
  }
}
