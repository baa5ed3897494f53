import { hasDuplicateKeys } from './json-duplicates.ts';
import { MalformedTokenError } from './malformed-token-error.ts';

/**
 * Parses a decoded segment that must hold one JSON object with no member twice (RFC 7515 §4;
 * ATTACKS CLM-11). `what` names the segment in the (internal) error.
 */
export function parseJsonObject(bytes: Buffer, what: string): Record<string, unknown> {
  const text = bytes.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new MalformedTokenError(`${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MalformedTokenError(`${what} is not a JSON object`);
  }
  if (hasDuplicateKeys(text, value)) {
    throw new MalformedTokenError(`${what} has duplicate members`);
  }
  return value as Record<string, unknown>;
}
