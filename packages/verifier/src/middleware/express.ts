import type { RequestHandler } from 'express';
import type { AccessTokenClaims } from '../claims.ts';
import { authenticate, hasQueryToken, type AuthOptions } from '../http/authenticate.ts';

declare module 'express-serve-static-core' {
  interface Request {
    /** The access token's claims, set by `tesseraAuth` on the routes it protects. */
    tessera?: AccessTokenClaims;
  }
}

/**
 * Express middleware: puts the claims on `req.tessera`, or answers 400/401/403 as SPEC §4 says.
 *
 * @example
 * app.get('/notes', tesseraAuth({ verifier }), (req, res) => res.json(notesOf(req.tessera!.sub)));
 */
export function tesseraAuth(options: AuthOptions): RequestHandler {
  return (req, res, next) => {
    authenticate(
      { authorization: req.headersDistinct['authorization'], queryToken: hasQueryToken(req.originalUrl) },
      options,
    ).then((outcome) => {
      if (outcome.ok) {
        req.tessera = outcome.claims;
        return next();
      }
      const { status, headers, body } = outcome.response;
      res.status(status).set(headers).json(body);
    }, next);
  };
}
