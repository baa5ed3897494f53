import { isErrorCode, TesseraError, type ErrorCode } from '@tessera/protocol';

/**
 * A Tessera API call that failed. `code` is one of the stable codes of `docs/errors.md`, shared
 * with the server; `status` is the HTTP status actually received.
 *
 * @example
 * try { await client.login({ email, password }); }
 * catch (error) { if (error instanceof TesseraRequestError && error.code === 'invalid_credentials') … }
 */
export class TesseraRequestError extends TesseraError {
  override readonly status: number;
  /**
   * `mfa_required` only: what `client.verifyMfa` takes with a code to finish the sign-in, and
   * which codes it accepts.
   */
  readonly mfaToken: string | undefined;
  readonly methods: readonly string[] | undefined;

  constructor(
    code: ErrorCode,
    status: number,
    message?: string,
    secondStep?: { mfaToken: string; methods: readonly string[] },
  ) {
    super(code, message);
    this.name = 'TesseraRequestError';
    this.status = status;
    this.mfaToken = secondStep?.mfaToken;
    this.methods = secondStep?.methods;
  }
}

/** The refresh answers that mean the session is over: log in again, never retry. */
export const SESSION_OVER = new Set<ErrorCode>(['invalid_grant', 'refresh_token_reused', 'session_expired']);

/** The error a failed response stands for; a body that is not Tessera's (a proxy's page) is classed by status. */
export async function responseError(response: Response): Promise<TesseraRequestError> {
  const body = await readJson(response);
  const { error, message, mfaToken, methods } = (body ?? {}) as Record<string, unknown>;
  const code = isErrorCode(error) ? error : codeForStatus(response.status);
  const secondStep =
    code === 'mfa_required' && typeof mfaToken === 'string'
      ? { mfaToken, methods: Array.isArray(methods) ? methods.filter((m) => typeof m === 'string') : [] }
      : undefined;
  return new TesseraRequestError(
    code,
    response.status,
    typeof message === 'string' ? message : undefined,
    secondStep,
  );
}

/** The `error` code of a Tessera error response, without consuming the caller's body. */
export async function errorCodeOf(response: Response): Promise<ErrorCode | null> {
  const body = await readJson(response.clone());
  const error = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['error'] : null;
  return isErrorCode(error) ? error : null;
}

export async function readJson(response: Response): Promise<unknown> {
  if (!(response.headers.get('content-type') ?? '').includes('json')) return null;
  try {
    return await response.json();
  } catch {
    return null;
  }
}

function codeForStatus(status: number): ErrorCode {
  if (status === 401) return 'invalid_token';
  if (status === 403) return 'insufficient_scope';
  if (status === 404) return 'not_found';
  if (status === 429) return 'rate_limited';
  if (status === 502 || status === 503 || status === 504) return 'unavailable';
  return status >= 500 ? 'server_error' : 'invalid_request';
}
