import { systemClock, type Clock } from './clock.ts';
import { createCrossTab, type TabCoordinator } from './cross-tab.ts';
import { Emitter, type Listener } from './emitter.ts';
import { errorCodeOf, readJson, responseError, TesseraRequestError } from './errors.ts';
import {
  readGrant,
  type Grant,
  type MfaStatus,
  type RecoveryCodes,
  type SessionInfo,
  type TotpEnrolment,
  type User,
} from './grant.ts';
import { Refresher, type ClientEvents } from './refresher.ts';
import { memoryStorage, type TokenSet, type TokenStorage } from './storage.ts';

export interface ClientOptions {
  /** The Tessera server, e.g. `https://auth.example.com`. */
  baseUrl: string;
  /**
   * `bearer` (default): tokens in `storage`, sent as `Authorization: Bearer`. `cookie`: tokens in
   * HttpOnly cookies the script never sees, with the CSRF header on state-changing requests.
   */
  mode?: 'bearer' | 'cookie';
  /** Bearer mode only; memory by default. See the README for the trade-offs. */
  storage?: TokenStorage;
  fetch?: typeof globalThis.fetch;
  clock?: Clock;
  /** Source of the refresh jitter, in [0, 1). */
  random?: () => number;
  /** Refresh at least this many ms before expiry (up to twice as many, at random). Default 10 000. */
  refreshSkew?: number;
  /**
   * Origins whose requests through `client.fetch` carry the access token (or cookies and the CSRF
   * header). Default: the origin of `baseUrl`. A request anywhere else goes out untouched, so a
   * third-party URL never sees a token.
   */
  tokenOrigins?: string[];
  /**
   * Coordinates refreshes with other tabs sharing the credentials (cookie mode, `localStorage`).
   * Default: Web Locks and BroadcastChannel where present; `false` turns it off.
   */
  crossTab?: TabCoordinator | false;
  /**
   * How long after the last activity (a request through the client, `touch()`, or either in another
   * tab sharing the credentials) background refreshes go on, in ms. When a refresh comes due with no
   * activity in this window, the access token is left to expire (`idle` event); the session is not
   * over, and the next activity refreshes first. Default: the access token's lifetime, so roughly
   * "any activity since the last refresh". `Infinity` refreshes for as long as the session lasts.
   */
  idleTimeout?: number;
  /** Whether requests through `fetch` and the API methods count as activity. Default true. */
  activityFromRequests?: boolean;
  /**
   * Count the user's input as activity: `true` listens on `document` (where there is one) for
   * key, pointer, wheel, touch and scroll events; or pass the `EventTarget` to listen on. Default
   * false: the app calls `touch()` itself.
   */
  activityEvents?: boolean | EventTarget;
}

/** Methods that change state: in cookie mode they carry the CSRF token (double submit). */
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const CSRF_COOKIE = 'tessera_csrf';
const CSRF_HEADER = 'x-csrf-token';
/** 401 answers that a fresh access token may cure; anything else is returned as it came. */
const RETRY_AFTER_REFRESH = new Set(['token_expired', 'token_revoked']);
const DEFAULT_REFRESH_SKEW_MS = 10_000;
/** The input `activityEvents` listens to (capture phase, passive). */
const ACTIVITY_EVENTS = ['keydown', 'pointerdown', 'pointermove', 'wheel', 'touchstart', 'scroll'];

/**
 * Creates a Tessera client.
 *
 * @example
 * const auth = createClient({ baseUrl: 'https://auth.example.com' });
 * auth.on('end', ({ reason }) => showLogin(reason));
 * await auth.login({ email, password, remember: true });
 * const response = await auth.fetch('https://auth.example.com/auth/me');
 */
export function createClient(options: ClientOptions): TesseraClient {
  return new TesseraClient(options);
}

/** Login, logout and the account calls of the Tessera API, plus a `fetch` that keeps tokens fresh. */
export class TesseraClient {
  readonly #baseUrl: string;
  readonly #cookie: boolean;
  readonly #fetch: typeof globalThis.fetch;
  readonly #clock: Clock;
  readonly #tokenOrigins: Set<string>;
  readonly #events = new Emitter<ClientEvents>();
  readonly #tabs: TabCoordinator | null;
  readonly #refresher: Refresher;
  readonly #requestsAreActivity: boolean;
  readonly #stopListening: () => void;
  #serverOffset: number | null = null;

  constructor(options: ClientOptions) {
    this.#baseUrl = new URL(options.baseUrl).href.replace(/\/$/, '');
    this.#cookie = options.mode === 'cookie';
    if (this.#cookie && options.storage)
      throw new TypeError('Cookie mode keeps no tokens in script: drop `storage`');
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#clock = options.clock ?? systemClock;
    this.#tokenOrigins = new Set((options.tokenOrigins ?? [this.#baseUrl]).map((url) => new URL(url).origin));
    const storage = this.#cookie ? memoryStorage() : (options.storage ?? memoryStorage());
    const shared = this.#cookie || storage.shared === true;
    this.#tabs =
      options.crossTab === false
        ? null
        : (options.crossTab ?? (shared ? createCrossTab({ name: this.#baseUrl, clock: this.#clock }) : null));
    const { idleTimeout } = options;
    if (idleTimeout !== undefined && !(idleTimeout >= 0))
      throw new TypeError('`idleTimeout` must be a number of ms, 0 or more');
    this.#refresher = new Refresher({
      storage,
      clock: this.#clock,
      random: options.random ?? Math.random,
      refreshSkew: options.refreshSkew ?? DEFAULT_REFRESH_SKEW_MS,
      idleTimeout: idleTimeout ?? null,
      tabs: this.#tabs,
      cookie: this.#cookie,
      events: this.#events,
      exchange: async (tokens) => (await this.#grant('/auth/refresh', this.#refreshBody(tokens))).tokens,
    });
    this.#requestsAreActivity = options.activityFromRequests ?? true;
    this.#stopListening = listenForActivity(options.activityEvents ?? false, () => this.touch());
  }

  /** Listens to `start`, `refresh`, `idle` and `end`; the returned function stops listening. */
  on<K extends keyof ClientEvents>(event: K, listener: Listener<ClientEvents[K]>): () => void {
    return this.#events.on(event, listener);
  }

  /** Creates an account. It does not log in. */
  async signup(input: { email: string; password: string; name?: string }): Promise<User> {
    const { email, password, name } = input;
    const response = await this.#send(
      this.#jsonRequest('POST', '/auth/signup', { email, password, name }),
      null,
    );
    return ((await this.#expectJson(response)) as { user: User }).user;
  }

  /**
   * Asks for a password-reset link for `email`. Resolves alike whether or not the address has an
   * account (the server never tells); the link is mailed to the account's owner only.
   */
  async forgotPassword(email: string): Promise<void> {
    const request = this.#jsonRequest('POST', '/auth/password/forgot', { email });
    await this.#expectJson(await this.#send(request, null));
  }

  /**
   * Sets a new password with the token of an emailed reset link. Every session of the account
   * ends, this client's included: log in with the new password afterwards.
   */
  async resetPassword(input: { token: string; newPassword: string }): Promise<void> {
    const { token, newPassword } = input;
    const request = this.#jsonRequest('POST', '/auth/password/reset', { token, newPassword });
    await this.#expectJson(await this.#send(request, null));
  }

  /** Verifies the email address with the token of the emailed link; the user as it now is. */
  async verifyEmail(token: string): Promise<User> {
    const response = await this.#send(this.#jsonRequest('POST', '/auth/email/verify', { token }), null);
    return ((await this.#expectJson(response)) as { user: User }).user;
  }

  /** Mails the signed-in user a new verification link (nothing if the address is verified). */
  async resendVerification(): Promise<void> {
    await this.#call('POST', '/auth/email/verify/resend');
  }

  /**
   * Asks for a change of the signed-in user's address, with the password: a confirmation link goes
   * to `newEmail` and a notice to the current address. Nothing changes until the link is confirmed.
   */
  async changeEmail(input: { newEmail: string; password: string }): Promise<void> {
    const { newEmail, password } = input;
    await this.#call('POST', '/auth/email/change', { newEmail, password });
  }

  /** Confirms a new address with the token of the emailed link; the user as it now is. */
  async confirmEmailChange(token: string): Promise<User> {
    const request = this.#jsonRequest('POST', '/auth/email/change/confirm', { token });
    return ((await this.#expectJson(await this.#send(request, null))) as { user: User }).user;
  }

  /**
   * Mails a 6-digit sign-in code (and a link with the same grant) to `email` if it has an account;
   * resolves the same either way. Finish with `loginWithEmailCode`.
   */
  async requestEmailCode(input: { email: string; remember?: boolean }): Promise<void> {
    const { email, remember } = input;
    const body = this.#cookie ? { email, remember, cookie: true } : { email, remember };
    await this.#expectJson(await this.#send(this.#jsonRequest('POST', '/auth/login/email', body), null));
  }

  /** Signs in with the emailed code and starts the session, as `login` does. */
  async loginWithEmailCode(input: { email: string; code: string }): Promise<User> {
    const { email, code } = input;
    const grant = await this.#grant('/auth/login/email/verify', { email, code });
    await this.#refresher.start(grant.tokens, grant.user);
    return grant.user;
  }

  /**
   * The second step of a sign-in whose `login` (or `loginWithEmailCode`) rejected with
   * `mfa_required`: that error's `mfaToken` and a code from the user's authenticator app (or a
   * recovery code). Starts the session the first step asked for.
   */
  async verifyMfa(input: { mfaToken: string; code: string }): Promise<User> {
    const { mfaToken, code } = input;
    const grant = await this.#grant('/auth/mfa/verify', { mfaToken, code });
    await this.#refresher.start(grant.tokens, grant.user);
    return grant.user;
  }

  /** Which second factors the signed-in user has, and how many recovery codes are left. */
  async mfaStatus(): Promise<MfaStatus> {
    return (await this.#call('GET', '/auth/mfa')) as MfaStatus;
  }

  /** Starts enrolling an authenticator app (needs the password); show `qrCode` or `secret`. */
  async enrolTotp(password: string): Promise<TotpEnrolment> {
    return (await this.#call('POST', '/auth/mfa/totp', { password })) as TotpEnrolment;
  }

  /** Activates the app with its first code; the recovery codes, to show the user once. */
  async confirmTotp(code: string): Promise<string[]> {
    return ((await this.#call('POST', '/auth/mfa/totp/confirm', { code })) as RecoveryCodes).recoveryCodes;
  }

  /** Removes the app and the recovery codes, with a current code or the password. */
  async removeTotp(proof: { code: string } | { password: string }): Promise<void> {
    await this.#call('DELETE', '/auth/mfa/totp', proof);
  }

  /** A new set of recovery codes, for a current code; the old set stops working. */
  async newRecoveryCodes(code: string): Promise<string[]> {
    return ((await this.#call('POST', '/auth/mfa/recovery-codes', { code })) as RecoveryCodes).recoveryCodes;
  }

  /** Logs in and starts the session; `remember: false` gives a session of one access lifetime. */
  async login(input: { email: string; password: string; remember?: boolean }): Promise<User> {
    const { email, password, remember } = input;
    const body = this.#cookie ? { email, password, remember, cookie: true } : { email, password, remember };
    const grant = await this.#grant('/auth/login', body);
    await this.#refresher.start(grant.tokens, grant.user);
    return grant.user;
  }

  /**
   * Picks up an existing session after a reload: stored tokens in bearer mode; in cookie mode, a
   * refresh from the cookies. Resolves false when there is none.
   */
  async resume(): Promise<boolean> {
    if (!this.#cookie) return this.#refresher.resume();
    try {
      const grant = await this.#grant('/auth/refresh', {});
      await this.#refresher.start(grant.tokens, grant.user);
      return true;
    } catch (error) {
      if (error instanceof TesseraRequestError && (error.status === 400 || error.status === 401))
        return false;
      throw error;
    }
  }

  /**
   * Ends the session at the server and here. The local end happens even when the server cannot be
   * reached; an answer of 401 (already over) counts as done.
   */
  async logout(): Promise<void> {
    const tokens = await this.#refresher.current();
    this.#refresher.abandonRefreshes();
    try {
      if (tokens !== null || this.#cookie) {
        const body =
          this.#cookie || tokens?.refreshToken === undefined ? {} : { refreshToken: tokens.refreshToken };
        const response = await this.#send(this.#jsonRequest('POST', '/auth/logout', body), tokens);
        if (!response.ok && response.status !== 401) throw await responseError(response);
      }
    } finally {
      await this.#refresher.end('logout');
    }
  }

  /** Ends every session of the user, on every device. */
  async logoutAll(): Promise<void> {
    await this.#call('POST', '/auth/logout-all');
    await this.#refresher.end('logout');
  }

  /** The signed-in user's profile. */
  async me(): Promise<User> {
    return (await this.#call('GET', '/auth/me')) as User;
  }

  /** The user's sessions; `current` marks this one. */
  async sessions(): Promise<SessionInfo[]> {
    return (await this.#call('GET', '/auth/sessions')) as SessionInfo[];
  }

  /**
   * Revokes one session. Revoking the current one ends this client's session at its next
   * refresh or request.
   */
  async revokeSession(id: string): Promise<void> {
    await this.#call('DELETE', `/auth/sessions/${encodeURIComponent(id)}`);
  }

  /** Changes the password; every other session of the user is revoked, this one continues. */
  async changePassword(input: { currentPassword: string; newPassword: string }): Promise<void> {
    const { currentPassword, newPassword } = input;
    await this.#call('POST', '/auth/password', { currentPassword, newPassword });
  }

  /**
   * Records user activity (call it on input; it is cheap): background refreshes go on while there
   * is activity within `idleTimeout`, in this tab or any tab sharing the credentials. After an idle
   * period, it refreshes the expired or expiring access token right away.
   */
  touch(): void {
    this.#refresher.activity();
  }

  /** Refreshes now (normally not needed); false when the session is over. */
  async refresh(): Promise<boolean> {
    return (await this.#refresher.refresh()) !== null;
  }

  /**
   * `fetch` with the session's credentials for `tokenOrigins`. Tokens about to expire are refreshed
   * first; after a `401 token_expired` the client refreshes once and replays the request. When the
   * session is over the 401 comes back as is, after the `end` event: never a loop. A call counts as
   * activity (unless `activityFromRequests` is false).
   */
  async fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    if (this.#requestsAreActivity) this.touch();
    const request =
      input instanceof Request ? new Request(input, init) : new Request(this.#absolute(input), init);
    if (!this.#tokenOrigins.has(new URL(request.url).origin)) return this.#fetch(request);
    const tokens = await this.#refresher.usable();
    const response = await this.#send(request.clone(), tokens);
    if (response.status !== 401 || tokens === null) return response;
    const code = await errorCodeOf(response);
    if (code === null || !RETRY_AFTER_REFRESH.has(code)) return response;
    const fresh = await this.#refresher.refresh(tokens);
    if (fresh === null) return response;
    await response.body?.cancel();
    return this.#send(request, fresh);
  }

  /**
   * The server's time now, as best known (token `iat` or the `Date` header against this clock):
   * for showing a countdown to the token's `exp` when the local clock is off.
   */
  serverTime(): number {
    return this.#clock.now() + (this.#serverOffset ?? 0);
  }

  /** Stops the background refresh, cross-tab and input listening; the stored tokens stay. */
  close(): void {
    this.#stopListening();
    this.#refresher.close();
    this.#tabs?.close();
  }

  async #grant(path: string, body: object): Promise<Grant> {
    const sentAt = this.#clock.now();
    const response = await this.#send(this.#jsonRequest('POST', path, body), null);
    if (!response.ok) throw await responseError(response);
    const json: unknown = await response.json();
    const grant = readGrant(json, sentAt, this.#clock.now(), response.headers.get('date'), this.#cookie);
    this.#serverOffset = grant.serverOffset ?? this.#serverOffset;
    return grant;
  }

  #refreshBody(tokens: TokenSet): object {
    return this.#cookie ? {} : { refreshToken: tokens.refreshToken };
  }

  /** An authenticated API call through `fetch` (refresh and replay included); the parsed body. */
  async #call(method: string, path: string, body?: object): Promise<unknown> {
    const request =
      body === undefined
        ? new Request(this.#baseUrl + path, { method })
        : this.#jsonRequest(method, path, body);
    return this.#expectJson(await this.fetch(request));
  }

  async #expectJson(response: Response): Promise<unknown> {
    if (!response.ok) throw await responseError(response);
    return readJson(response);
  }

  #jsonRequest(method: string, path: string, body: object): Request {
    return new Request(this.#baseUrl + path, {
      method,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  #send(request: Request, tokens: TokenSet | null): Promise<Response> {
    const headers = new Headers(request.headers);
    if (tokens?.accessToken !== undefined) headers.set('authorization', `Bearer ${tokens.accessToken}`);
    if (this.#cookie && STATE_CHANGING.has(request.method)) {
      const csrf = readCookie(CSRF_COOKIE);
      if (csrf !== null) headers.set(CSRF_HEADER, csrf);
    }
    return this.#fetch(
      new Request(request, { headers, credentials: this.#cookie ? 'include' : request.credentials }),
    );
  }

  #absolute(input: string | URL): string | URL {
    if (typeof input !== 'string' || URL.canParse(input)) return input;
    const page = (globalThis as { location?: { href: string } }).location?.href;
    return new URL(input, page ?? `${this.#baseUrl}/`);
  }
}

/** Calls `onInput` on the user's input events (see `activityEvents`); returns the function that stops. */
function listenForActivity(option: boolean | EventTarget, onInput: () => void): () => void {
  const target =
    option === true
      ? (globalThis as { document?: EventTarget }).document
      : option === false
        ? undefined
        : option;
  if (target === undefined) return () => {};
  const listener = (): void => onInput();
  const flags = { capture: true, passive: true };
  for (const type of ACTIVITY_EVENTS) target.addEventListener(type, listener, flags);
  return () => {
    for (const type of ACTIVITY_EVENTS) target.removeEventListener(type, listener, flags);
  };
}

/** A cookie the page can read (`document.cookie`), or null outside a browser. */
function readCookie(name: string): string | null {
  const cookies = (globalThis as { document?: { cookie?: string } }).document?.cookie;
  if (cookies === undefined) return null;
  for (const pair of cookies.split(';')) {
    const [key, ...value] = pair.trim().split('=');
    if (key === name) return decodeURIComponent(value.join('='));
  }
  return null;
}
