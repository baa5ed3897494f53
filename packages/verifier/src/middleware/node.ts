import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessTokenClaims } from '../claims.ts';
import { authenticate, hasQueryToken, type AuthOptions } from '../http/authenticate.ts';
import type { ErrorResponse } from '../http/challenge.ts';

/** A request that passed authentication: its claims are on `tessera`. */
export interface AuthenticatedRequest extends IncomingMessage {
  tessera: AccessTokenClaims;
}

/**
 * Wraps a plain `node:http` handler: the handler runs only for a valid token that meets the
 * requirements, with the claims on `request.tessera`; anything else gets the 400/401/403 answer
 * of SPEC §4 and the handler is not called.
 *
 * @example
 * createServer(protect({ verifier, scopes: ['profile'] }, (request, response) => {
 *   response.end(`hello ${request.tessera.sub}`);
 * }));
 */
export function protect(
  options: AuthOptions,
  handler: (request: AuthenticatedRequest, response: ServerResponse) => unknown,
): (request: IncomingMessage, response: ServerResponse) => Promise<void> {
  return async (request, response) => {
    const outcome = await authenticate(
      { authorization: request.headersDistinct['authorization'], queryToken: hasQueryToken(request.url) },
      options,
    );
    if (!outcome.ok) return sendErrorResponse(response, outcome.response);
    const authenticated = request as AuthenticatedRequest;
    authenticated.tessera = outcome.claims;
    await handler(authenticated, response);
  };
}

/** Writes an `ErrorResponse` as JSON. */
export function sendErrorResponse(response: ServerResponse, { status, headers, body }: ErrorResponse): void {
  response.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8' });
  response.end(JSON.stringify(body));
}
