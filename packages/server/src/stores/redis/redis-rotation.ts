import type { Redis } from 'ioredis';
import { UnavailableError } from '@tessera/protocol';
import { revokedFrom } from '../rows.ts';
import type { RefreshTokenRecord, RotationOutcome, RotationRequest, RotationState } from '../store.ts';
import { APPLY_ROTATION, KEEP_MS, READ_ROTATION } from './lua-scripts.ts';
import { revokedFromEntry, sessionFromFlat, tokenFromFlat, versionOf, type Flat } from './redis-records.ts';

/**
 * Attempts before a rotation gives up with 503. Rotations of one token on one instance take turns
 * (`SerialByKey`), so a conflict needs another instance rotating the same session at that very
 * moment; each attempt lets at least one contender through.
 */
const MAX_ATTEMPTS = 64;

/**
 * A refresh on Redis: read, decide, apply — optimistic compare-and-set (docs/deployment.md, Redis).
 * The policy (`request.decide`) is a JavaScript function and cannot run inside a Lua script, so:
 * 1. one script reads the presented token, its session (with `ver`, bumped by every script that
 *    changes the session or any of its tokens) and its successor, as one consistent snapshot;
 * 2. the policy decides on that snapshot, here;
 * 3. a second script applies the decision only if `ver` is unchanged, all of it in one step (the
 *    token consumed, the successor stored, the session touched — or the session revoked, logged
 *    and published for a reuse). Otherwise it changes nothing and we start over from 1.
 * The applied decision was therefore taken on the state it is applied to, as if read under a lock:
 * two live successors or a half-written rotation cannot happen. A refusal writes nothing, so it
 * needs no compare-and-set: it was true of the snapshot, a moment ago.
 */
export async function rotateOnRedis(
  redis: Redis,
  prefix: string,
  request: RotationRequest,
): Promise<RotationOutcome> {
  const { now } = request;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
    const snapshot = await readSnapshot(redis, prefix, request.presentedHash);
    const decision = request.decide(snapshot?.state ?? null);
    if (decision.kind === 'reject') return { kind: 'rejected', code: decision.code, reason: decision.reason };
    // Only `reject` is possible without a state (the policy's first rule).
    if (!snapshot) throw new Error('the rotation policy decided on a missing token');
    const { state, version } = snapshot;
    const common = [prefix, request.presentedHash, state.session.id, version, now, request.accessExpiresAt];

    switch (decision.kind) {
      case 'reuse': {
        const reply = await APPLY_ROTATION.run(redis, [...common, 'reuse', decision.reason]);
        if (isConflict(reply)) continue;
        const entry = revokedFromEntry(String(field(reply, 1)));
        return { kind: 'reused', revoked: entry ?? revokedFrom(state.session) };
      }
      case 'grace': {
        const reply = await APPLY_ROTATION.run(redis, [...common, 'grace']);
        if (isConflict(reply)) continue;
        return {
          kind: 'grace',
          session: sessionOf(reply),
          current: state.successor!,
          sealedCurrent: state.token.successorSealed!,
        };
      }
      case 'rotate': {
        const { hash, sealedForPresented } = request.successor;
        const expiresAt = decision.successorExpiresAt;
        const ttl = Math.max(1, expiresAt - now + KEEP_MS);
        const reply = await APPLY_ROTATION.run(redis, [
          ...common,
          'rotate',
          hash,
          sealedForPresented,
          expiresAt,
          ttl,
        ]);
        if (isConflict(reply)) continue;
        const token: RefreshTokenRecord = {
          hash,
          sessionId: state.session.id,
          parentHash: request.presentedHash,
          createdAt: now,
          expiresAt,
          consumedAt: null,
          successorHash: null,
          successorSealed: null,
        };
        return { kind: 'rotated', session: sessionOf(reply), token };
      }
    }
  }
  // Contention this long means something is wrong; the client may retry (grace answers it).
  throw new UnavailableError(1, { cause: new Error('refresh rotation kept conflicting') });
}

interface Snapshot {
  state: RotationState;
  version: string;
}

async function readSnapshot(redis: Redis, prefix: string, hash: string): Promise<Snapshot | null> {
  const reply = await READ_ROTATION.run(redis, [prefix, hash]);
  if (!Array.isArray(reply) || reply.length !== 3) return null;
  const [tokenFlat, sessionFlat, successorFlat] = reply as [Flat, Flat, Flat];
  const token = tokenFromFlat(hash, tokenFlat);
  const session = sessionFromFlat(sessionFlat);
  const version = versionOf(sessionFlat);
  if (!token || !session || version === null) return null;
  const successor = token.successorHash !== null ? tokenFromFlat(token.successorHash, successorFlat) : null;
  return { state: { token, session, successor }, version };
}

function field(reply: unknown, index: number): unknown {
  return Array.isArray(reply) ? (reply as unknown[])[index] : undefined;
}

function isConflict(reply: unknown): boolean {
  return field(reply, 0) === 'conflict';
}

function sessionOf(reply: unknown): NonNullable<ReturnType<typeof sessionFromFlat>> {
  const session = sessionFromFlat((field(reply, 1) ?? []) as Flat);
  if (!session) throw new Error('a rotated session vanished inside its own script');
  return session;
}
