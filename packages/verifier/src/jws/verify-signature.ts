import { InvalidTokenError } from '@tessera/protocol';
import type { AlgorithmName, PreparedKey } from '../algorithms.ts';
import { MalformedTokenError, precheckAccessToken, type PrecheckedToken } from './precheck.ts';

/** The structural pre-check, with its failure as the client-facing `invalid_token`. */
export function parseAccessToken(token: string, algorithms: ReadonlySet<AlgorithmName>): PrecheckedToken {
  try {
    return precheckAccessToken(token, algorithms);
  } catch (error) {
    throw new InvalidTokenError(undefined, { cause: error });
  }
}

/**
 * Checks the signature on the calling thread. The key must exist and be bound to the token's own
 * `alg`: a key is never used with another algorithm than its own (RFC 8725 §3.1; ATTACKS ALG-07,
 * KID-07), whatever the header says.
 */
export function verifySignature(token: PrecheckedToken, key: PreparedKey | undefined): void {
  if (!usableKey(token, key).verify(token.signingInput, token.signature)) throw invalid('bad signature');
}

/** Like `verifySignature`, on the threadpool. */
export async function verifySignatureAsync(
  token: PrecheckedToken,
  key: PreparedKey | undefined,
): Promise<void> {
  if (!(await usableKey(token, key).verifyAsync(token.signingInput, token.signature)))
    throw invalid('bad signature');
}

function usableKey(token: PrecheckedToken, key: PreparedKey | undefined): PreparedKey {
  if (!key) throw invalid('unknown kid');
  if (key.alg !== token.header.alg) throw invalid('alg does not match the key');
  return key;
}

const invalid = (why: string) => new InvalidTokenError(undefined, { cause: new MalformedTokenError(why) });
