/**
 * `@tessera/verifier/tokens`: the token checks themselves, without the JWKS or the feed, for the
 * auth server, which holds its keys in memory and must refuse exactly what verifiers refuse.
 */
export { isAlgorithmName, keyFits, prepareKey, type AlgorithmName, type PreparedKey } from './algorithms.ts';
export { checkClaims, type AccessTokenClaims, type ClaimPolicy, type Role } from './claims.ts';
export {
  MAX_TOKEN_LENGTH,
  MalformedTokenError,
  precheckAccessToken,
  type AccessTokenHeader,
  type PrecheckedToken,
} from './jws/precheck.ts';
export { parseAccessToken, verifySignature, verifySignatureAsync } from './jws/verify-signature.ts';
export { p1363ToDer } from './jws/ecdsa-der.ts';
