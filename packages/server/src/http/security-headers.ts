import type { FastifyInstance, FastifyReply } from 'fastify';
import { REQUEST_ID_HEADER } from '../observability/request-id.ts';

/** A response header: name and value. */
export type Header = readonly [name: string, value: string];

/**
 * The headers every response starts with (OWASP Secure Headers): no MIME sniffing, no referrer, no
 * framing (clickjacking), no cross-origin embedding by `<img>` or `<script>` (CORS requests are
 * not affected), nothing cached (RFC 6749 §5.1: tokens and profiles), and a policy that lets an
 * API response do nothing in a browser. HSTS only when the issuer is served over HTTPS: over plain
 * HTTP it is ignored, and a development server on `http://localhost` must not pin itself to HTTPS.
 *
 * They are defaults: a route that needs another value sets it (the JWKS is cacheable, the demo
 * page and the API docs have policies of their own).
 */
export function responseHeaders(issuer: string): Header[] {
  const headers: Header[] = [
    ['x-content-type-options', 'nosniff'],
    ['referrer-policy', 'no-referrer'],
    ['x-frame-options', 'DENY'],
    ['cross-origin-resource-policy', 'same-origin'],
    ['content-security-policy', "default-src 'none'; frame-ancestors 'none'"],
    ['cache-control', 'no-store'],
  ];
  if (new URL(issuer).protocol === 'https:') {
    headers.push(['strict-transport-security', 'max-age=31536000']);
  }
  return headers;
}

/**
 * Starts a response with `headers` and the request id. They go on the raw response: a value the
 * route sets through Fastify's reply takes precedence, and a response that bypasses the reply
 * (the revocation stream writes its own head) still has them.
 */
export function applyResponseHeaders(reply: FastifyReply, headers: readonly Header[]): void {
  for (const [name, value] of headers) reply.raw.setHeader(name, value);
  reply.raw.setHeader(REQUEST_ID_HEADER, reply.request.id);
}

/**
 * Every routed request's response starts with `headers`; errors raised before routing call
 * `applyResponseHeaders`. A callback hook, not an async one: it runs on every request and has
 * nothing to wait for, so it should not cost a promise and a microtask each time.
 */
export function installResponseHeaders(app: FastifyInstance, headers: readonly Header[]): void {
  app.addHook('onRequest', (_request, reply, done) => {
    applyResponseHeaders(reply, headers);
    done();
  });
}
