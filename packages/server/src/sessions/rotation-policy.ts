import type { RotationDecision, RotationState } from '../stores/store.ts';

export interface RotationPolicy {
  /** Milliseconds after its rotation during which a token's immediate successor is handed back. */
  graceMs: number;
  /** `revoke`: a refresh while the latest access token is still valid counts as theft. */
  earlyRefresh: 'allow' | 'revoke';
  /** Milliseconds of clock-skew leeway. */
  skewMs: number;
  /** Milliseconds a refresh token lives unused (its successor's idle lifetime). */
  refreshTtlMs: number;
}

/**
 * What a refresh does, decided from the presented token, its session and its successor alone —
 * policy apart from mechanism (STYLE habit 4). The store calls this inside its atomic step, so
 * the state it sees cannot change before the decision is applied. In order:
 *
 * 1. Unknown token, or a session already revoked → `invalid_grant`.
 * 2. Session past its absolute lifetime → `session_expired`, whatever the activity.
 * 3. Token already consumed:
 *    - its successor is the live token and the rotation was within the grace window → hand the
 *      successor back (idempotent retry: two tabs, a lost response; ATTACKS RT-04);
 *    - otherwise → reuse: revoke the whole session (RFC 9700 §4.14.2; ATTACKS RT-02).
 * 4. Token past its idle lifetime → `session_expired`.
 * 5. Early-refresh policy `revoke` and the latest access token still valid beyond the leeway →
 *    treated as theft, like reuse.
 * 6. Otherwise rotate; the successor lives `refreshTtl`, capped by the absolute end.
 */
export function decideRotation(
  state: RotationState | null,
  now: number,
  policy: RotationPolicy,
): RotationDecision {
  if (!state) return { kind: 'reject', code: 'invalid_grant', reason: 'unknown refresh token' };
  const { token, session, successor } = state;
  if (session.revokedAt !== null) return { kind: 'reject', code: 'invalid_grant', reason: 'session revoked' };
  if (session.expiresAt <= now)
    return { kind: 'reject', code: 'session_expired', reason: 'absolute lifetime over' };

  if (token.consumedAt !== null) {
    const successorIsLive = successor !== null && successor.consumedAt === null && successor.expiresAt > now;
    const withinGrace = now - token.consumedAt <= policy.graceMs;
    if (successorIsLive && withinGrace && policy.graceMs > 0 && token.successorSealed !== null) {
      return { kind: 'grace' };
    }
    return { kind: 'reuse', reason: 'reuse_detected' };
  }

  if (token.expiresAt <= now)
    return { kind: 'reject', code: 'session_expired', reason: 'idle lifetime over' };
  if (policy.earlyRefresh === 'revoke' && session.accessExpiresAt - policy.skewMs > now) {
    return { kind: 'reuse', reason: 'early_refresh' };
  }
  // Idle lifetime renews on each refresh, but never past the absolute end (ATTACKS RT-12).
  return { kind: 'rotate', successorExpiresAt: Math.min(now + policy.refreshTtlMs, session.expiresAt) };
}
