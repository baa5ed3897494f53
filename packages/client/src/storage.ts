/**
 * What the client keeps between requests. Times are on the local clock: they are computed from
 * the server's relative `expiresIn`, so a client whose clock disagrees with the server's still
 * refreshes on time.
 */
export interface TokenSet {
  /** Absent in cookie mode: the token lives in an HttpOnly cookie that scripts cannot read. */
  accessToken?: string;
  /** Absent in cookie mode, and when the user logged in without "keep me logged in". */
  refreshToken?: string;
  /** When the access token expires, in local milliseconds since the epoch. */
  expiresAt: number;
  /** When the refresh token expires (local ms); absent when the session cannot be refreshed. */
  refreshExpiresAt?: number;
}

/**
 * Where bearer-mode tokens live. Every method may be synchronous or return a promise, so a mobile
 * app can plug in its platform's secure store (Keychain, Keystore).
 *
 * @example
 * const secureStore: TokenStorage = {
 *   get: async () => JSON.parse((await SecureStore.getItemAsync('tessera')) ?? 'null'),
 *   set: (tokens) => SecureStore.setItemAsync('tessera', JSON.stringify(tokens)),
 *   clear: () => SecureStore.deleteItemAsync('tessera'),
 * };
 */
export interface TokenStorage {
  get(): TokenSet | null | Promise<TokenSet | null>;
  set(tokens: TokenSet): void | Promise<void>;
  clear(): void | Promise<void>;
  /**
   * True when other tabs or instances read and write the same tokens (like `localStorage`): the
   * client then coordinates refreshes with them, since two tabs rotating one refresh token at once
   * would waste a rotation or, outside the server's grace window, revoke the session.
   */
  readonly shared?: boolean;
}

/** The part of the Web Storage API (`localStorage`, `sessionStorage`) the adapters use. */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/**
 * Tokens in this JavaScript context only (the default): gone on reload, invisible to other tabs,
 * and readable by injected script only while the page runs.
 */
export function memoryStorage(): TokenStorage {
  let tokens: TokenSet | null = null;
  return {
    get: () => tokens,
    set: (next) => {
      tokens = next;
    },
    clear: () => {
      tokens = null;
    },
  };
}

/**
 * Tokens in `sessionStorage`: survive a reload of this tab, not shared with other tabs, and
 * readable by any script on the origin (an XSS steals the refresh token).
 */
export function sessionStorageAdapter(storage?: StorageLike, key = DEFAULT_KEY): TokenStorage {
  return webStorage(storage ?? globalStorage('sessionStorage'), key, false);
}

/**
 * Tokens in `localStorage`: survive restarts and are shared by every tab of the origin (refreshes
 * are coordinated across tabs), and readable by any script on the origin until logout, so an XSS
 * steals a long-lived refresh token. Prefer cookie mode for browsers when the API allows it.
 */
export function localStorageAdapter(storage?: StorageLike, key = DEFAULT_KEY): TokenStorage {
  return webStorage(storage ?? globalStorage('localStorage'), key, true);
}

const DEFAULT_KEY = 'tessera.tokens';

function webStorage(storage: StorageLike, key: string, shared: boolean): TokenStorage {
  return {
    shared,
    get: () => parseTokenSet(storage.getItem(key)),
    set: (tokens) => storage.setItem(key, JSON.stringify(tokens)),
    clear: () => storage.removeItem(key),
  };
}

function globalStorage(name: 'localStorage' | 'sessionStorage'): StorageLike {
  const storage = (globalThis as Partial<Record<typeof name, StorageLike>>)[name];
  if (!storage) throw new TypeError(`${name} is not available here; pass a Storage object`);
  return storage;
}

/** A stored token set, or null when absent or not one (edited by hand, older format). */
export function parseTokenSet(text: string | null): TokenSet | null {
  if (text === null) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { accessToken, refreshToken, expiresAt, refreshExpiresAt } = value as Record<string, unknown>;
  if (typeof expiresAt !== 'number') return null;
  if (accessToken !== undefined && typeof accessToken !== 'string') return null;
  if (refreshToken !== undefined && typeof refreshToken !== 'string') return null;
  if (refreshExpiresAt !== undefined && typeof refreshExpiresAt !== 'number') return null;
  return { accessToken, refreshToken, expiresAt, refreshExpiresAt };
}

/** Whether the session behind these tokens can be extended by a refresh. */
export function canRefresh(tokens: TokenSet): boolean {
  return tokens.refreshExpiresAt !== undefined;
}
