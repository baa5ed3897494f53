import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import { InvalidRequestError } from '@tessera/protocol';
import type { Services } from '../context.ts';
import { withErrors } from '../schemas.ts';

/** One feed entry: a revoked session and the time (s) until which tokens it covers may be valid. */
interface FeedEntry {
  sid: string;
  exp: number;
}

/** The body of a poll, and the data of each stream event. */
interface FeedPage {
  cursor: number;
  revoked: FeedEntry[];
}

/** A comment at least this often keeps proxies from closing an idle stream, and tells the client the line is alive. */
const HEARTBEAT_MS = 15_000;
/** What an `EventSource` waits before reconnecting (ms). */
const RECONNECT_MS = 1000;
const CURSOR = /^[0-9]{1,15}$/;

interface SinceQuery {
  since?: string;
}

const sinceQuery = {
  type: 'object',
  properties: {
    since: {
      type: 'string',
      pattern: CURSOR.source,
      description: 'The cursor of the previous page (default 0)',
    },
  },
  additionalProperties: false,
} as const;

const feedPageSchema = {
  description: 'Sessions revoked after the cursor whose tokens may still be valid, and the next cursor',
  type: 'object',
  properties: {
    cursor: { type: 'integer' },
    revoked: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          sid: { type: 'string', description: 'The session id (`sid` claim)' },
          exp: { type: 'integer', description: 'Seconds since the epoch until which to remember it' },
        },
        required: ['sid', 'exp'],
        additionalProperties: false,
      },
    },
  },
  required: ['cursor', 'revoked'],
  additionalProperties: false,
} as const;

/**
 * The revocation feed for resource servers (SPEC §4; docs/design.md "Revocation feed"): public
 * like the JWKS, since it holds only opaque session ids, never who they belong to.
 * - `GET /auth/revocations?since=<cursor>` answers the revocations committed after the cursor
 *   whose tokens may still be valid, and the cursor to ask from next (one page; the client asks
 *   again until the cursor stops moving);
 * - `GET /auth/revocations/stream?since=<cursor>` (Server-Sent Events) sends the same pages as
 *   events whose `id` is the cursor, the first one at once, then each revocation as it reaches
 *   this process: at once when made here, within the store sync (1 s) when made by another.
 */
export function revocationRoutes(app: FastifyInstance, services: Services): void {
  const streams = new Set<ServerResponse>();
  const skewMs = services.config.clockSkew * 1000;

  /** One page of the store's revocation log after `cursor`; expired entries are left out. */
  const readPage = async (cursor: number): Promise<FeedPage> => {
    const page = await services.store.listRevocations(services.now() - skewMs, cursor);
    return {
      cursor: page.cursor,
      // Tokens are accepted until `exp + leeway`, so the entry matters that long too.
      revoked: page.revoked.map((entry) => ({
        sid: entry.sessionId,
        exp: Math.ceil((entry.accessExpiresAt + skewMs) / 1000),
      })),
    };
  };

  app.get<{ Querystring: SinceQuery }>(
    '/auth/revocations',
    {
      schema: {
        tags: ['revocations'],
        summary: 'Revoked sessions after a cursor',
        description:
          'One page; ask again from the returned cursor until it stops moving. Public, like the JWKS.',
        querystring: sinceQuery,
        response: withErrors({ 200: feedPageSchema }),
      },
    },
    async (request) => readPage(sinceOf(request)),
  );

  app.get<{ Querystring: SinceQuery }>(
    '/auth/revocations/stream',
    {
      schema: {
        tags: ['revocations'],
        summary: 'Revoked sessions as Server-Sent Events',
        description:
          'The same pages as `GET /auth/revocations`, as `revocations` events whose `id` is the cursor: ' +
          'the backlog at once, then each revocation as it happens. Reconnect with `Last-Event-ID`.',
        querystring: sinceQuery,
        response: withErrors({
          200: {
            description: 'An event stream',
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
        }),
      },
    },
    async (request, reply) => {
      let cursor = sinceOf(request);
      const first = await readPage(cursor); // a store outage answers 503 here, before the stream opens
      reply.hijack();
      const response = reply.raw;
      response.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        // Reverse proxies such as nginx would otherwise buffer the events.
        'x-accel-buffering': 'no',
      });
      response.write(`retry: ${RECONNECT_MS}\n\n`);
      const send = (page: FeedPage) => {
        response.write(`id: ${page.cursor}\nevent: revocations\ndata: ${JSON.stringify(page)}\n\n`);
        cursor = page.cursor;
      };
      send(first);

      // Each signal reads the log from this stream's own cursor, so every entry is sent exactly
      // once, in order, whatever the timing; signals arriving during a read coalesce into one more.
      let reading = false;
      let again = false;
      const pump = async (): Promise<void> => {
        if (reading) {
          again = true;
          return;
        }
        reading = true;
        try {
          do {
            again = false;
            for (let page = await readPage(cursor); page.cursor !== cursor; page = await readPage(cursor)) {
              send(page);
            }
          } while (again && !response.writableEnded);
        } finally {
          reading = false;
        }
      };
      const onRevoked = () => {
        pump().catch((error: unknown) => {
          request.log.warn({ err: error }, 'revocation stream ended: store unavailable');
          response.end(); // the client reconnects from its cursor
        });
      };
      const unsubscribe = services.sessions.onRevoked(onRevoked);
      const heartbeat = setInterval(() => response.write(': keepalive\n\n'), HEARTBEAT_MS);
      heartbeat.unref();
      streams.add(response);
      response.once('close', () => {
        unsubscribe();
        clearInterval(heartbeat);
        streams.delete(response);
      });
      onRevoked(); // anything committed between the first read and the subscription
    },
  );

  // Open streams would hold `close()` until clients hang up; they reconnect to another instance.
  app.addHook('preClose', async () => {
    for (const response of streams) response.end();
  });
}

/** The cursor from `?since=`, or from `Last-Event-ID` when an `EventSource` reconnects by itself. */
function sinceOf(request: FastifyRequest<{ Querystring: SinceQuery }>): number {
  const lastEventId = request.headers['last-event-id'];
  const text = request.query.since ?? (typeof lastEventId === 'string' ? lastEventId : '0');
  if (!CURSOR.test(text))
    throw new InvalidRequestError('Last-Event-ID must be a cursor: a non-negative integer');
  return Number(text);
}
