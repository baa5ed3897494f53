import type { FastifyPluginAsync } from 'fastify';
import type { AccessTokenClaims } from '../claims.ts';
import { authenticate, hasQueryToken, type AuthOptions } from '../http/authenticate.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The access token's claims on routes `tesseraAuth` protects; `null` elsewhere. */
    tessera: AccessTokenClaims | null;
  }
}

/**
 * Fastify plugin: every route of the context it is registered in (and its children) requires a
 * valid token meeting the requirements; the claims go on `request.tessera`. Register it in an
 * encapsulated context to protect only some routes, or with other `scopes` per context.
 *
 * @example
 * await app.register(tesseraAuth, { verifier });
 * app.get('/notes', async (request) => notesOf(request.tessera!.sub));
 */
export const tesseraAuth: FastifyPluginAsync<AuthOptions> = async (app, options) => {
  if (!app.hasRequestDecorator('tessera')) app.decorateRequest('tessera', null);
  app.addHook('onRequest', async (request, reply) => {
    const outcome = await authenticate(
      { authorization: request.raw.headersDistinct['authorization'], queryToken: hasQueryToken(request.url) },
      options,
    );
    if (outcome.ok) {
      request.tessera = outcome.claims;
      return;
    }
    const { status, headers, body } = outcome.response;
    return reply.code(status).headers(headers).send(body);
  });
};

// What `fastify-plugin` does: the hook belongs to the registering context, not to a child of its
// own that has no routes (Fastify encapsulation).
Object.assign(tesseraAuth, { [Symbol.for('skip-override')]: true });
