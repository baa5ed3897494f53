import { LogController, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { DestinationStream } from 'pino';
import { prettyFactory } from 'pino-pretty';

/** `json`: one object a line, for a log collector. `pretty`: readable lines, for development. */
export type LogFormat = 'json' | 'pretty';

/**
 * Logger settings for the server. Request lines carry the method, the path without its query
 * string, the status and a request id — never headers, bodies or query strings, so tokens,
 * passwords and cookies cannot reach a log line (ATTACKS OPS-03).
 */
export function loggerOptions(level: string, stream?: DestinationStream): FastifyServerOptions['logger'] {
  return {
    level,
    ...(stream ? { stream } : {}),
    serializers: {
      req: (request: { method: string; url: string; id: string }) => ({
        id: request.id,
        method: request.method,
        path: request.url.split('?', 1)[0],
      }),
      res: (reply: { statusCode: number }) => ({ statusCode: reply.statusCode }),
    },
  };
}

/**
 * One line per request, when it is answered: `request completed` with the request (id, method,
 * path), the status and the response time — the `pino-http` convention. Fastify's default also
 * writes `incoming request` as each request arrives; at the default `info` level that doubled the
 * logging cost of every request (issue 12 §3) and says nothing the completion line does not. Every
 * other line Fastify writes (errors, route not found, 503 while closing) is kept as it was.
 */
export class OneLinePerRequest extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (this.isLogDisabled(request)) return;
    const line = { req: request, res: reply, responseTime: reply.elapsedTime };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request completed');
  }
}

/**
 * Where log lines go in `format`: `undefined` keeps pino's JSON on stdout. In `pretty` mode every
 * line is first serialized to JSON by the same serializers, then reformatted, so the pretty output
 * can only hold what the JSON would have held: the redaction above applies to both. Formatting
 * runs in this thread (no worker transport), so a line logged just before `process.exit` is
 * written, not lost.
 */
export function logDestination(
  format: LogFormat,
  { out = process.stdout, colorize = process.stdout.isTTY && !process.env['NO_COLOR'] } = {},
): DestinationStream | undefined {
  if (format === 'json') return undefined;
  const pretty = prettyFactory({
    colorize,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,req,res,reqId,responseTime',
    messageFormat: requestSummary,
  });
  return { write: (line: string) => void out.write(pretty(line)) };
}

/** `request completed GET /auth/me 200 in 1.2 ms (req-id)`. */
function requestSummary(log: Record<string, unknown>, messageKey: string): string {
  const message = log[messageKey];
  const parts = [typeof message === 'string' ? message : ''];
  const req = log['req'] as { method?: unknown; path?: unknown } | undefined;
  if (req) parts.push(`${String(req.method)} ${String(req.path)}`);
  const res = log['res'] as { statusCode?: unknown } | undefined;
  if (res) parts.push(String(res.statusCode));
  if (typeof log['responseTime'] === 'number') parts.push(`in ${log['responseTime'].toFixed(1)} ms`);
  if (typeof log['reqId'] === 'string') parts.push(`(${log['reqId']})`);
  return parts.join(' ');
}
