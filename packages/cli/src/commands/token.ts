import { TesseraError } from '@tessera/protocol';
import { AccessTokens } from '@tessera/server';
import { parseCommand, wantsHelp } from '../args.ts';
import { configuredKeyring, openConfiguredStore } from '../open.ts';
import { UsageError } from '../usage-error.ts';

export const TOKEN_USAGE = `Usage: tessera token <action>

  token decode <jwt>   Print the header and claims WITHOUT verifying anything (no signature,
                       expiry or revocation check): for reading a token, never for trusting it.
  token verify <jwt>   Verify it as the servers do, with the configured store's keys, issuer,
                       audience and leeway, and check its session is not revoked. Prints
                       "valid", or "expired"/"revoked"/"invalid" with the error code; exit 0
                       only when valid.`;

/** `tessera token decode|verify <jwt>`. */
export async function tokenCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  if (action === undefined || wantsHelp(args)) {
    process.stdout.write(`${TOKEN_USAGE}\n`);
    return action === undefined ? 2 : 0;
  }
  if (action !== 'decode' && action !== 'verify') {
    throw new UsageError(`unknown action "${action}"\n${TOKEN_USAGE}`);
  }
  const { positionals } = parseCommand(rest, {}, 1, `usage: tessera token ${action} <jwt>`);
  const token = positionals[0] ?? '';
  return action === 'decode' ? decode(token) : verify(token);
}

function decode(token: string): number {
  const segments = token.split('.');
  const [header, claims] = segments.slice(0, 2).map(parseSegment);
  if (segments.length !== 3 || header === undefined || claims === undefined) {
    process.stderr.write('tessera: not a compact JWT (three base64url segments, JSON header and claims)\n');
    return 1;
  }
  process.stdout.write(
    'UNVERIFIED: decoded only; the signature, expiry and revocation were NOT checked.\n' +
      `header: ${JSON.stringify(header, null, 2)}\nclaims: ${JSON.stringify(claims, null, 2)}\n`,
  );
  return 0;
}

function parseSegment(segment: string): unknown {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

async function verify(token: string): Promise<number> {
  const { config, store } = await openConfiguredStore();
  try {
    const keyring = configuredKeyring(config, store);
    await keyring.load();
    const tokens = new AccessTokens(keyring, {
      issuer: config.issuer,
      audience: config.audience,
      ttl: config.accessTtl,
      clockSkew: config.clockSkew,
    });
    let claims;
    try {
      claims = await tokens.verify(token, Date.now());
    } catch (error) {
      if (!(error instanceof TesseraError) || error.code === 'unavailable') throw error;
      const state = error.code === 'token_expired' ? 'expired' : 'invalid';
      const why =
        error.cause instanceof Error
          ? error.cause.message
          : typeof error.cause === 'string'
            ? error.cause
            : error.message;
      process.stdout.write(`${state} (${error.code}): ${why}\n`);
      return 1;
    }
    const session = await store.getSession(claims.sid);
    if (session?.revokedAt != null) {
      process.stdout.write(
        `revoked (token_revoked): session ${claims.sid} was revoked (${session.revokeReason ?? 'unknown'}) ` +
          `at ${new Date(session.revokedAt).toISOString()}\n`,
      );
      return 1;
    }
    process.stdout.write(
      `valid: sub ${claims.sub}, role ${claims.role}, scope "${claims.scope}", session ${claims.sid}, ` +
        `expires ${new Date(claims.exp * 1000).toISOString()}\n`,
    );
    return 0;
  } finally {
    await store.close();
  }
}
