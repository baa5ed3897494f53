// A TypeScript service using the installed packages' declarations; compiled with
// `moduleResolution` nodenext and bundler. Wrong uses must not compile: were the types `any`,
// the @ts-expect-error lines would themselves be errors.
import { createClient, memoryStorage, type TokenSet, type User } from '@tessera/client';
import { createVerifier, InvalidTokenError, type AccessTokenClaims, type Verifier } from '@tessera/verifier';
import { protect } from '@tessera/verifier/node';
import { createServer } from 'node:http';

const verifier: Verifier = createVerifier({
  issuer: 'https://auth.example.test',
  audience: 'https://api.example.test',
  maxTokenAge: '15m',
});

export async function subjectOf(token: string): Promise<string> {
  const claims: AccessTokenClaims = await verifier.verify(token);
  return claims.sub;
}

export function isInvalid(error: unknown): boolean {
  return error instanceof InvalidTokenError && error.code === 'invalid_token';
}

export async function logIn(email: string, password: string): Promise<User> {
  const auth = createClient({ baseUrl: 'https://auth.example.test', storage: memoryStorage() });
  return auth.login({ email, password });
}

const handle = protect({ verifier }, (request, response) => response.end(request.tessera.sub));
export const server = createServer((request, response) => void handle(request, response));

export const stored: TokenSet = { accessToken: 'a', expiresAt: 0 };

// @ts-expect-error verify takes the token as a string
void verifier.verify(42);
// @ts-expect-error an unknown option is refused
createClient({ baseUrl: 'https://auth.example.test', mode: 'carrier-pigeon' });
