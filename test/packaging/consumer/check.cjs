'use strict';
/**
 * What a service does with the installed packages, shared by verify.mjs (`import`) and
 * verify.cjs (`require`): sign up and log in through @tessera/client, verify the access token
 * with @tessera/verifier against the running server's JWKS, and see a tampered copy refused.
 * Prints one JSON line for the test to read.
 */
module.exports = async function check(libraries, loadedWith) {
  const { createClient, memoryStorage, createVerifier, InvalidTokenError } = libraries;
  const url = process.env.TESSERA_URL;
  const issuer = process.env.TESSERA_ISSUER;
  const storage = memoryStorage();
  const auth = createClient({ baseUrl: url, storage });
  const email = `${loadedWith}-${process.version}-${Date.now()}@example.test`;
  const password = 'a long passphrase for the packaging test';
  await auth.signup({ email, password });
  const user = await auth.login({ email, password });
  const { accessToken } = await storage.get();
  const verifier = createVerifier({ issuer, audience: issuer, jwksUrl: `${url}/.well-known/jwks.json` });
  try {
    const claims = await verifier.verify(accessToken);
    let tampered = 'accepted';
    try {
      await verifier.verify(`${accessToken.slice(0, -4)}AAAA`);
    } catch (error) {
      tampered = error instanceof InvalidTokenError ? error.code : String(error);
    }
    return { node: process.version, loadedWith, user: user.id, sub: claims.sub, iss: claims.iss, tampered };
  } finally {
    await verifier.close();
    await auth.logout();
  }
};
