import assert from 'node:assert/strict';
import { isErrorCode } from '@tessera/protocol';
import type { Reply } from './test-server.ts';

/**
 * The universal invariants of a refused request (ATTACKS §0): the expected status and code, never
 * 2xx or 5xx, exactly `{error, message}`, and nothing that looks like a stack, SQL or a key.
 */
export function assertRefused(reply: Reply, status: number, code: string, context = ''): void {
  assert.ok(status >= 400 && status < 500, `a refusal is a 4xx (${context})`);
  assertErrorReply(reply, status, code, context);
}

/** The error shape and code of any error reply, 5xx included. */
export function assertErrorReply(reply: Reply, status: number, code: string, context = ''): void {
  const where = context ? ` (${context})` : '';
  assert.equal(reply.status, status, `status${where}: ${reply.text}`);
  assert.deepEqual(Object.keys(reply.body).sort(), ['error', 'message'], `error body shape${where}`);
  assert.equal(reply.body['error'], code, `error code${where}: ${reply.text}`);
  assert.ok(isErrorCode(reply.body['error']), `documented code${where}`);
  assert.doesNotMatch(
    reply.text,
    /\bat \S+:\d+:\d+|SQLITE|SELECT |INSERT |"d":|PRIVATE KEY|node_modules/,
    `no internals${where}`,
  );
}

/** A 401 for a bad access token: `WWW-Authenticate` carries `error="invalid_token"` (RFC 6750 §3.1). */
export function assertTokenRefused(reply: Reply, code = 'invalid_token', context = ''): void {
  assertRefused(reply, 401, code, context);
  assert.match(
    reply.headers.get('www-authenticate') ?? '',
    /^Bearer realm="tessera", error="invalid_token"/,
    context,
  );
}
