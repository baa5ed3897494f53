import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** The sealed form's version; a new format would add `v2` beside it, not replace it. */
const VERSION = 'v1';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A sealed value that cannot be opened: another key, another context, or altered bytes. */
export class SealedValueError extends Error {
  override readonly name = 'SealedValueError';
}

/**
 * Envelope encryption of secrets at rest (TOTP secrets; issue 14): AES-256-GCM under a key the
 * database never holds (`TESSERA_SECRET_KEY`, or a key file beside an embedded database). A
 * sealed value is `v1.<key id>.<iv>.<ciphertext and tag>`, each part base64url. The key id is a
 * hash of the key, so after a rotation (the new key first in the list, the old ones after it)
 * every value still opens and names the key that sealed it. `context` (what the value is and
 * whose) is authenticated data: a value copied to another row or another purpose does not open.
 */
export class SecretBox {
  readonly #keys: ReadonlyArray<{ id: string; key: Buffer }>;

  /** `keys[0]` seals; every key opens. */
  constructor(keys: ReadonlyArray<Buffer>) {
    if (keys.length === 0) throw new Error('a secret box needs at least one key');
    for (const key of keys)
      if (key.length !== KEY_BYTES) throw new Error(`a secret key is ${KEY_BYTES} bytes`);
    this.#keys = keys.map((key) => ({ id: keyId(key), key }));
  }

  /** A new random key, base64url: what `TESSERA_SECRET_KEY` and the key file hold. */
  static generateKey(): string {
    return randomBytes(KEY_BYTES).toString('base64url');
  }

  seal(plaintext: string, context: string): string {
    const { id, key } = this.#keys[0]!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return [VERSION, id, iv.toString('base64url'), body.toString('base64url')].join('.');
  }

  /** Throws `SealedValueError` for anything but a value this box sealed for `context`. */
  open(sealed: string, context: string): string {
    const [version, id, iv, body, ...rest] = sealed.split('.');
    const entry = this.#keys.find((candidate) => candidate.id === id);
    if (
      version !== VERSION ||
      rest.length > 0 ||
      entry === undefined ||
      iv === undefined ||
      body === undefined
    )
      throw new SealedValueError('the value was not sealed by a key this server has');
    const ivBytes = Buffer.from(iv, 'base64url');
    const bytes = Buffer.from(body, 'base64url');
    if (ivBytes.length !== IV_BYTES || bytes.length < TAG_BYTES)
      throw new SealedValueError('the sealed value is malformed');
    try {
      const decipher = createDecipheriv('aes-256-gcm', entry.key, ivBytes, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      return Buffer.concat([
        decipher.update(bytes.subarray(0, bytes.length - TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    } catch (error) {
      throw new SealedValueError('the sealed value does not open (altered, or sealed for another use)', {
        cause: error,
      });
    }
  }

  /** Whether `sealed` was sealed with another key than the current one (to be sealed again). */
  isStale(sealed: string): boolean {
    return sealed.split('.')[1] !== this.#keys[0]!.id;
  }
}

function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 8);
}
