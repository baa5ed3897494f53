import type { MiddlewareHandler } from 'hono';
import type { AccessTokenClaims } from '../claims.ts';
import { authenticate, type AuthOptions } from '../http/authenticate.ts';

/** The context variables `tesseraAuth` sets: `c.get('tessera')`. */
export interface TesseraVariables {
  tessera: AccessTokenClaims;
}

/**
 * Hono middleware: puts the claims in `c.get('tessera')`, or answers 400/401/403 as SPEC §4
 * says. Repeated `Authorization` fields reach Hono joined by a comma, which is refused as
 * malformed (ATTACKS HTTP-05).
 *
 * @example
 * app.use('/notes/*', tesseraAuth({ verifier }));
 * app.get('/notes', (c) => c.json(notesOf(c.get('tessera').sub)));
 */
export function tesseraAuth(options: AuthOptions): MiddlewareHandler<{ Variables: TesseraVariables }> {
  return async (c, next) => {
    const authorization = c.req.header('authorization');
    const outcome = await authenticate(
      {
        authorization: authorization === undefined ? undefined : [authorization],
        queryToken: c.req.query('access_token') !== undefined,
      },
      options,
    );
    if (!outcome.ok) {
      const { status, headers, body } = outcome.response;
      return new Response(JSON.stringify(body), {
        status,
        headers: { ...headers, 'content-type': 'application/json; charset=utf-8' },
      });
    }
    c.set('tessera', outcome.claims);
    await next();
  };
}
