/** One HTTP exchange of the soak, as the client saw it. `status` 0 means no answer (network error). */
export interface Reply {
  status: number;
  body: Record<string, unknown> & Array<Record<string, unknown>>;
  /** The `error` code of an error body, or the network error's message when `status` is 0. */
  code: string | undefined;
}

/** A JSON request to the server under test; `token` goes in `Authorization: Bearer`. */
export async function request(
  base: string,
  method: string,
  path: string,
  { body, token }: { body?: unknown; token?: string } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { 'user-agent': 'tessera-soak' };
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  try {
    const response = await fetch(base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    const parsed = (
      text.length > 0 && (response.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : {}
    ) as Reply['body'];
    const error = parsed['error'];
    const code = response.ok ? undefined : typeof error === 'string' ? error : `http_${response.status}`;
    return { status: response.status, body: parsed, code };
  } catch (error) {
    return { status: 0, body: {} as Reply['body'], code: `network: ${(error as Error).message}` };
  }
}

/** The `sid` claim of an access token (read, not verified: the server under test issued it). */
export function sessionIdOf(accessToken: string): string {
  const payload = accessToken.split('.')[1] ?? '';
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sid?: unknown };
  return String(claims.sid);
}
