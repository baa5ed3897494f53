import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { ForgedTokenCase } from '../../../test/corpus/forged-access-tokens.ts';
import { forgedTokensFor } from '../../server/test/helpers/forged-corpus.ts';
import { signupAndLogin, startServer, type TestServer } from '../../server/test/helpers/test-server.ts';
import type { Verifier } from '../src/index.ts';
import { outcomeOf, verifierFor } from './helpers/verifier-setup.ts';

/**
 * The shared forged-token corpus (ATTACKS 1A–1C) against the library: every case gets the same
 * answer as at the auth server, and no `jku`/`x5u` is ever fetched.
 */
for (const alg of ['RS256', 'ES256', 'EdDSA'] as const) {
  describe(`forged access tokens against the verifier, ${alg}`, () => {
    let server: TestServer;
    let verifier: Verifier;
    let cases: ForgedTokenCase[];
    let trapHits = 0;
    const trap = createServer((_request, response) => {
      trapHits += 1;
      response.end('{"keys":[]}');
    });

    before(async () => {
      server = await startServer({ TESSERA_SIGNING_ALG: alg });
      await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
      const address = trap.address();
      if (address === null || typeof address === 'string') throw new Error('no address');
      const session = await signupAndLogin(server);
      verifier = verifierFor(server);
      cases = await forgedTokensFor(server, session.accessToken, `http://127.0.0.1:${address.port}`);
    });
    after(async () => {
      await verifier.close();
      trap.close();
      await server.close();
    });

    test('every case gets the corpus answer, quickly', async () => {
      assert.ok(cases.length > 100, `corpus size ${cases.length}`);
      const wrong: string[] = [];
      for (const testCase of cases) {
        const started = performance.now();
        const outcome = await outcomeOf(verifier, testCase.token);
        if (outcome !== testCase.expect) wrong.push(`${testCase.id} ${testCase.variant}: ${outcome}`);
        // Generous: a refusal takes microseconds; a kid that reached a shell would take 10 s (KID-03).
        assert.ok(performance.now() - started < 2000, `${testCase.id} ${testCase.variant} answered promptly`);
      }
      assert.deepEqual(wrong, []);
    });

    test('no jku, x5u or x5c was ever followed (KID-06)', () => {
      assert.equal(trapHits, 0);
    });
  });
}
