import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { CsrfFailedError } from '@tessera/protocol';
import type { Store } from '../stores/store.ts';

/** The CSRF secret lives beside the signing keys (never published: the keyring ignores it). */
const SECRET_KID = 'csrf-hmac-v1';
const SECRET_ALG = 'csrf-hmac';

/**
 * CSRF protection for cookie mode (OWASP CSRF Cheat Sheet): a *signed* double-submit token —
 * HMAC(secret, session id), readable by the page in a cookie and echoed in `X-CSRF-Token` — plus
 * an `Origin` check. Bound to the session, so a token planted by cookie tossing from a sibling
 * subdomain matches nothing (ATTACKS WEB-04); stateless, so no store read per request; and
 * independent of signing-key rotation, so an idle tab is not logged out by a rotation.
 */
export class Csrf {
  readonly #secret: Buffer;
  readonly #allowedOrigins: ReadonlySet<string>;

  private constructor(secret: Buffer, allowedOrigins: Iterable<string>) {
    this.#secret = secret;
    this.#allowedOrigins = new Set(allowedOrigins);
  }

  /** Loads the deployment's CSRF secret from the store, creating it on first start. */
  static async load(store: Store, allowedOrigins: Iterable<string>, now: number): Promise<Csrf> {
    const find = async (): Promise<Buffer | undefined> => {
      const record = (await store.keys.list()).find(
        (key) => key.kid === SECRET_KID && key.alg === SECRET_ALG,
      );
      return record
        ? Buffer.from((JSON.parse(record.privateJwk) as { k: string }).k, 'base64url')
        : undefined;
    };
    let secret = await find();
    if (!secret) {
      const k = randomBytes(32).toString('base64url');
      const record = { kid: SECRET_KID, alg: SECRET_ALG, privateJwk: JSON.stringify({ kty: 'oct', k }) };
      // Another instance may create it at the same moment: whichever row exists wins.
      await store.keys
        .add({ ...record, publicJwk: null, createdAt: now, activatesAt: now, retiresAt: null }, [])
        .catch(() => undefined);
      secret = await find();
      if (!secret) throw new Error('could not create the CSRF secret');
    }
    return new Csrf(secret, allowedOrigins);
  }

  /** The token for a session: what the readable cookie holds and the header must echo. */
  tokenFor(sessionId: string): string {
    return createHmac('sha256', this.#secret).update(`csrf:${sessionId}`).digest('base64url');
  }

  /**
   * Throws `CsrfFailedError` unless a cookie-authenticated state change carries the session's
   * token in `X-CSRF-Token` and in the cookie, and comes from an allowed origin.
   */
  check(request: FastifyRequest, sessionId: string, cookieToken: string | undefined): void {
    this.checkOrigin(request);
    const header = request.headers['x-csrf-token'];
    const expected = Buffer.from(this.tokenFor(sessionId));
    if (typeof header !== 'string' || cookieToken === undefined || header !== cookieToken) {
      throw new CsrfFailedError('Send the CSRF token from the tessera_csrf cookie in X-CSRF-Token');
    }
    const given = Buffer.from(header);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new CsrfFailedError('The CSRF token does not belong to this session');
    }
  }

  /**
   * The request must come from our own origin or an allowed one. `Sec-Fetch-Site` is set by the
   * browser and cannot be forged by a page, so `same-origin` (the demo page, served by this
   * server under whatever host name) is enough; otherwise `Origin` must be on the allow-list.
   * With neither header, only `Sec-Fetch-Site: none` (a user's own navigation) passes
   * (OWASP CSRF Cheat Sheet, Fetch Metadata; ATTACKS WEB-02, WEB-05).
   */
  checkOrigin(request: FastifyRequest): void {
    const site = request.headers['sec-fetch-site'];
    if (site === 'same-origin') return;
    const origin = request.headers.origin;
    if (typeof origin === 'string') {
      if (this.#allowedOrigins.has(origin)) return;
      throw new CsrfFailedError(`Origin ${origin.slice(0, 100)} is not allowed`);
    }
    if (site === 'none') return;
    throw new CsrfFailedError('A cookie-authenticated request must carry an allowed Origin');
  }
}
