import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** The header a request id arrives in from a proxy, and leaves in to the client. */
export const REQUEST_ID_HEADER = 'x-request-id';

// Short, and only characters that need no escaping anywhere a log line or a header goes.
const SAFE_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * The id of a request, on every log line of it and in its `X-Request-Id` response header: the one
 * a proxy or client sent when it is a short safe token (so one id follows a request across
 * services), otherwise a new UUID. Anything else — long, several headers, odd characters — is
 * replaced, not cleaned: a client must not be able to write into log lines or headers.
 */
export function requestId(request: IncomingMessage): string {
  const incoming = request.headers[REQUEST_ID_HEADER];
  return typeof incoming === 'string' && SAFE_ID.test(incoming) ? incoming : randomUUID();
}
