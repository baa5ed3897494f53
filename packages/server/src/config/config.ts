import type { AlgorithmName } from '../keys/algorithms.ts';

/** `allow` (default) or `revoke`: how a refresh during the latest access token's life is treated. */
export type EarlyRefreshPolicy = 'allow' | 'revoke';

/** Validated server configuration. Durations are whole seconds. */
export interface Config {
  port: number;
  host: string;
  databaseUrl: string;
  redisUrl: string | undefined;
  /** Prefix of every Redis key and channel, so deployments sharing one Redis stay apart. */
  redisPrefix: string;
  issuer: string;
  audience: string;
  accessTtl: number;
  refreshTtl: number;
  sessionMaxAge: number;
  /** Seconds audit entries are kept; older ones are deleted by the cleanup job. */
  auditRetention: number;
  /** Seconds between sweeps of the cleanup job. */
  cleanupInterval: number;
  reuseGrace: number;
  signingAlg: AlgorithmName;
  /** Base64url HS256 secret shared with resource servers; generated and stored when unset. */
  hs256Secret: Buffer | undefined;
  clockSkew: number;
  loginMaxFailures: number;
  loginFailureWindow: number;
  ipRateLimit: number;
  /** Proxy addresses or CIDRs whose `X-Forwarded-For` is believed; empty trusts none. */
  trustProxy: string[];
  earlyRefresh: EarlyRefreshPolicy;
  /** Browser origins allowed to call with credentials (CORS) and to send cookie-mode requests. */
  corsOrigins: string[];
  /** Seconds between scheduled signing-key rotations; 0 is off. */
  keyRotation: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'silent';
  /** `json` (one object a line, for collectors) or `pretty` (human-readable, for development). */
  logFormat: 'json' | 'pretty';
  /** `smtp://[user:pass@]host:port` or `smtps://…`; unset writes each message to `mailDir`. */
  smtpUrl: string | undefined;
  /** The `From` of every message. */
  mailFrom: string;
  /** Where messages are written as `.eml` files while no SMTP server is configured. */
  mailDir: string;
  /** A folder of template overrides (`mail/templates.ts`); unset uses the defaults. */
  mailTemplates: string | undefined;
  /**
   * `optional`: a verification link is mailed at sign-up, nothing waits for it; `required`: login
   * and refresh answer `403 email_not_verified` until the address is verified; `off`: no mail.
   */
  emailVerification: 'optional' | 'required' | 'off';
  /** Seconds a password-reset link stays valid. */
  resetTtl: number;
  /** Where emailed links point: this origin's `/reset-password`; the issuer unless set. */
  appUrl: string;
  /**
   * Keys that seal secrets at rest (`secrets/secret-box.ts`), the first sealing; empty when
   * `TESSERA_SECRET_KEY` is unset (`secrets/secret-keys.ts` then decides).
   */
  secretKeys: Buffer[];
}
