import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  InvalidRequestError,
  NotFoundError,
  RateLimitedError,
  TesseraError,
  UnavailableError,
} from '@tessera/protocol';
import { bearerChallenge as verifierChallenge, MissingCredentialsError } from '@tessera/verifier';

export { MissingCredentialsError };

const REALM = 'tessera';

/**
 * The one `WWW-Authenticate` builder (RFC 6750 §3), shared with the verifier's middleware: token
 * failures say `invalid_token` whatever our finer code is; a missing token says only the realm.
 */
export function bearerChallenge(error: TesseraError): string {
  return verifierChallenge(error, REALM);
}

/**
 * Every failure leaves as `{error, message}` with a stable code (SPEC §4); nothing internal
 * (stack, SQL, key material) reaches the client. Unexpected errors are logged with their cause
 * and answered with a generic 500.
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | TesseraError, request, reply) => {
    const failure = toTesseraError(error);
    if (failure.status >= 500) {
      request.log.error({ err: error }, failure.status === 503 ? 'store unavailable' : 'unexpected error');
    }
    return sendError(reply, failure, request);
  });

  app.setNotFoundHandler((request, reply) => {
    // A known path with the wrong method answers 405 with `Allow` (ATTACKS AUTH-19, RT-14).
    const path = request.url.split('?', 1)[0] ?? '/';
    const allowed = ['GET', 'POST', 'PATCH', 'DELETE'].filter((method) =>
      app.hasRoute({ method: method, url: path }),
    );
    if (allowed.length > 0) {
      void reply.header('allow', allowed.join(', '));
      return sendError(
        reply,
        new InvalidRequestError(`Use ${allowed.join(' or ')} for this path`, { status: 405 }),
        request,
      );
    }
    return sendError(reply, new NotFoundError(`No route for ${request.method} ${path}`), request);
  });
}

export function sendError(reply: FastifyReply, error: TesseraError, _request?: FastifyRequest): FastifyReply {
  if (error.status === 401 || error.status === 403)
    void reply.header('www-authenticate', bearerChallenge(error));
  if (error instanceof RateLimitedError || error instanceof UnavailableError) {
    void reply.header('retry-after', String(error.retryAfterSeconds));
  }
  // Even where the route had made its answer cacheable (the JWKS).
  return reply.code(error.status).header('cache-control', 'no-store').send(error.toJSON());
}

function toTesseraError(error: FastifyError | TesseraError): TesseraError {
  if (error instanceof TesseraError) return error;
  if (error.validation) {
    return new InvalidRequestError(`${error.validationContext ?? 'request'} ${validationMessage(error)}`);
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new InvalidRequestError('Request body is too large', { status: 413 });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new InvalidRequestError('Content-Type must be application/json', { status: 415 });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new InvalidRequestError('Request body is empty');
    default:
      break;
  }
  const status = error.statusCode ?? 500;
  if (status === 413 || status === 415 || status === 431) {
    return new InvalidRequestError(error.message, { status });
  }
  // Parse errors (bad JSON, `__proto__` keys) arrive as 4xx from the body parser.
  if (status >= 400 && status < 500) return new InvalidRequestError('Request body is not valid JSON');
  return new TesseraError('server_error', undefined, { cause: error });
}

function validationMessage(error: FastifyError): string {
  const first = error.validation?.[0];
  if (!first) return 'is invalid';
  const where = first.instancePath ? first.instancePath.slice(1).replaceAll('/', '.') : '';
  if (first.keyword === 'additionalProperties') {
    const extra = (first.params as { additionalProperty?: string }).additionalProperty;
    return `has an unknown field "${extra ?? ''}"`;
  }
  return `${where ? `field "${where}" ` : ''}${first.message ?? 'is invalid'}`;
}

/**
 * Errors Node's HTTP parser raises before Fastify sees a request (bad header bytes, oversized
 * headers, timeouts): answered with the same `{error, message}` shape and a documented code
 * instead of Fastify's default body (ATTACKS HTTP-09, HTTP-10).
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status =
    error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const body = JSON.stringify({
    error: 'invalid_request',
    message:
      status === 431
        ? 'Request headers are too large'
        : status === 408
          ? 'Request timed out'
          : 'Malformed HTTP request',
  });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Bad Request'}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n' +
      body,
  );
}
