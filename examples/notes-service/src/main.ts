import { createVerifier } from '@tessera/verifier';
import { buildNotesService } from './app.ts';

// The same values the auth server is configured with (TESSERA_ISSUER, TESSERA_AUDIENCE).
const issuer = process.env['TESSERA_ISSUER'] ?? 'http://localhost:8080';
const verifier = createVerifier({
  issuer,
  audience: process.env['TESSERA_AUDIENCE'] ?? issuer,
  revocations: { url: `${issuer}/auth/revocations` },
});

const app = await buildNotesService(verifier);
app.addHook('onClose', () => verifier.close());
const address = await app.listen({ port: Number(process.env['PORT'] ?? 3000), host: '127.0.0.1' });
console.log(`notes service on ${address}`);
