/**
 * The signing keys (`keys/keyring.ts` decides which sign and which are published): kept in the
 * SQL store in every deployment, Redis or not, since each instance must sign with the same key.
 */
export interface KeyStore {
  /** Every key, in activation order (then creation). */
  list(): Promise<KeyRecord[]>;
  /** Inserts a key and sets the retirement time of the keys it replaces, atomically. */
  add(key: KeyRecord, retire: ReadonlyArray<KeyRetirement>): Promise<void>;
}

/** When a replaced key stops being published; an earlier time already set is kept. */
export interface KeyRetirement {
  kid: string;
  retiresAt: number;
}

export interface KeyRecord {
  kid: string;
  alg: string;
  /** Private (or secret) key as a JWK JSON string; never leaves the server. */
  privateJwk: string;
  /** Public JWK JSON; `null` for symmetric keys, which are never published. */
  publicJwk: string | null;
  createdAt: number;
  /** Signs from this time on; published before it (RFC 8725 §3.1 key rotation hygiene). */
  activatesAt: number;
  /** Unpublished from this time on: after the last token it signed has expired. */
  retiresAt: number | null;
}
