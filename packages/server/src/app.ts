import fastifyCookie from '@fastify/cookie';
import fastifyCors from '@fastify/cors';
import { resolve } from 'node:path';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { Accounts } from './accounts/accounts.ts';
import { EmailChange } from './accounts/email-change.ts';
import { EmailSignIn } from './accounts/email-sign-in.ts';
import { EmailedTokens } from './accounts/emailed-tokens.ts';
import { Recovery } from './accounts/recovery.ts';
import { MailSender, type MailEvent } from './mail/mail-sender.ts';
import { MailTemplates } from './mail/templates.ts';
import { fileTransport, smtpTransport } from './mail/transport.ts';
import { recoveryRoutes } from './http/routes/recovery-routes.ts';
import { emailSignInRoutes } from './http/routes/email-sign-in-routes.ts';
import { mfaRoutes } from './http/routes/mfa-routes.ts';
import type { Config } from './config/config.ts';
import type { Services } from './http/context.ts';
import { InvalidRequestError, UnavailableError } from '@tessera/protocol';
import { registerApiDocs } from './http/api-docs.ts';
import { clientErrorHandler, installErrorHandling, sendError } from './http/errors.ts';
import { OneLinePerRequest } from './http/logging.ts';
import { applyResponseHeaders, installResponseHeaders, responseHeaders } from './http/security-headers.ts';
import { Administration } from './admin/administration.ts';
import { accountRoutes } from './http/routes/account-routes.ts';
import { adminRoutes } from './http/routes/admin-routes.ts';
import { authRoutes } from './http/routes/auth-routes.ts';
import { demoRoutes } from './http/routes/demo-routes.ts';
import { revocationRoutes } from './http/routes/revocation-routes.ts';
import { systemRoutes } from './http/routes/system-routes.ts';
import { Keyring } from './keys/keyring.ts';
import { measureRequests } from './observability/http-metrics.ts';
import { Metrics } from './observability/metrics.ts';
import { requestId } from './observability/request-id.ts';
import { Mfa } from './mfa/mfa.ts';
import { SecondStep } from './mfa/second-step.ts';
import { PasswordHasher } from './passwords/password-hasher.ts';
import { loadSecretKeys } from './secrets/secret-keys.ts';
import { Csrf } from './security/csrf.ts';
import { RateLimits } from './security/rate-limits.ts';
import { RevocationList } from './sessions/revocation-list.ts';
import { Sessions } from './sessions/sessions.ts';
import { endConnectionsWhenClosing } from './shutdown.ts';
import { Cleanup } from './maintenance/cleanup.ts';
import { scheduleCleanup } from './maintenance/cleanup-schedule.ts';
import type { Store } from './stores/store.ts';
import { AccessTokens } from './tokens/access-token.ts';

export interface AppOptions {
  config: Config;
  store: Store;
  /** Injectable clock (ms); tests freeze it instead of sleeping. */
  now?: () => number;
  logger?: FastifyServerOptions['logger'];
  /** How often keys are reloaded from the store, to pick up rotations from the CLI. */
  keyReloadIntervalMs?: number;
  /** How often revocations made by other processes on the same store are read (ms). */
  revocationSyncIntervalMs?: number;
  /** How often the cleanup job deletes what has expired (ms); default `TESSERA_CLEANUP_INTERVAL`. */
  cleanupIntervalMs?: number;
  /** Export the process's CPU, memory and event-loop metrics too (the one app of `serve`). */
  processMetrics?: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Tessera's services, for tests and the CLI. */
    tessera: Services;
  }
}

/** A Fastify instance with Tessera's services attached. */
export type TesseraApp = FastifyInstance;

/** JSON bodies above this are refused with 413 before parsing (ATTACKS AUTH-16). */
export const BODY_LIMIT_BYTES = 16 * 1024;

/**
 * Builds the auth server: services, routes and error handling, with keys ready and the
 * revocation list loaded. Does not listen; `main.ts` does.
 */
export async function buildApp(options: AppOptions): Promise<TesseraApp> {
  const { config, store } = options;
  const now = options.now ?? Date.now;
  const headers = responseHeaders(config.issuer);

  const app = Fastify({
    logger: options.logger ?? false,
    // One line per request, written when it is answered.
    logController: new OneLinePerRequest(),
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: config.trustProxy.length > 0 ? config.trustProxy : false,
    genReqId: requestId,
    requestTimeout: 30_000,
    // A request arriving on a kept-alive connection while closing is served, with `Connection:
    // close`, rather than answered with Fastify's own 503 body (not our error shape).
    return503OnClosing: false,
    clientErrorHandler,
    // Node enforces headersTimeout/requestTimeout only as often as this; its default of 30 s
    // would let a slow-loris connection live twice as long as configured (ATTACKS AUTH-18).
    http: { connectionsCheckingInterval: 1000 },
    // Errors Fastify raises before routing (a malformed URL) get our body too, not Fastify's.
    frameworkErrors: (error, _request, reply) => {
      applyResponseHeaders(reply, headers);
      void sendError(reply, new InvalidRequestError('Malformed request URL', { cause: error }));
    },
    ajv: {
      // Fastify's defaults coerce types ("123" for 123, [x] for x) and strip unknown fields; a
      // security API refuses both instead (ATTACKS AUTH-13, AUTH-14).
      customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false },
    },
  });
  app.server.headersTimeout = 15_000;
  const services = await createServices(config, store, now, options.processMetrics ?? false, app.log);
  // First, so every response has them, and every route and plugin below is measured.
  installResponseHeaders(app, headers);
  measureRequests(app, services.metrics);
  endConnectionsWhenClosing(app);
  // Only JSON bodies: a text/plain or form "simple request" can't be sent cross-site without a
  // CORS preflight then (ATTACKS WEB-03, AUTH-15).
  app.removeContentTypeParser('text/plain');
  app.addHook('onRequest', (request, _reply, done) => {
    // JSON is UTF-8 (RFC 8259 §8.1); a body declared in another charset would be misread.
    const contentType = request.headers['content-type'];
    const charset = contentType && /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType)?.[1];
    if (charset && charset.toLowerCase() !== 'utf-8') {
      done(new InvalidRequestError('JSON bodies must be UTF-8', { status: 415 }));
      return;
    }
    done();
  });

  app.decorate('tessera', services);
  await app.register(fastifyCookie);
  // CORS for the configured origins only, never reflected, never `*` (ATTACKS WEB-07).
  const corsOrigins = new Set(config.corsOrigins);
  await app.register(fastifyCors, {
    origin: (origin, callback) => callback(null, origin !== undefined && corsOrigins.has(origin)),
    credentials: true,
    methods: ['GET', 'POST', 'PATCH', 'DELETE'],
    allowedHeaders: ['content-type', 'authorization', 'x-csrf-token'],
    maxAge: 600,
  });
  installErrorHandling(app);
  await registerApiDocs(app);

  authRoutes(app, services);
  accountRoutes(app, services);
  adminRoutes(app, services);
  systemRoutes(app, services);
  demoRoutes(app);
  revocationRoutes(app, services);
  recoveryRoutes(app, services);
  emailSignInRoutes(app, services);
  mfaRoutes(app, services);

  // Housekeeping: pick up key rotations made elsewhere, and forget revocations whose tokens
  // have all expired so the in-memory list stays as small as the set of live revoked sessions.
  const maintenance = setInterval(() => {
    runMaintenance(services).catch((error: unknown) => app.log.warn({ err: error }, 'maintenance failed'));
  }, options.keyReloadIntervalMs ?? 30_000);
  maintenance.unref();
  const syncRevocations = coalesced(() =>
    services.sessions
      .syncRevocations(services.now())
      .catch((error: unknown) => app.log.warn({ err: error }, 'revocation sync failed')),
  );
  const revocationSync = setInterval(syncRevocations, options.revocationSyncIntervalMs ?? 1000);
  revocationSync.unref();
  // With Redis, a revocation committed by any instance is published in the same step: read the log
  // now rather than at the next tick. The message is only a signal (the log holds the cursor), and
  // the one-second sync above stays the safety net for messages sent while the subscriber was down.
  const stopListening = store.onRevoked?.(syncRevocations);
  // Dead sessions with their refresh tokens, expired revocations and counters, old audit entries
  // (issue 12 §2). Stopped before the store closes, between two batches.
  const cleanup = scheduleCleanup(
    services.cleanup,
    options.cleanupIntervalMs ?? config.cleanupInterval * 1000,
    () => services.now(),
    app.log,
  );
  // Mail queued by requests (and left by earlier runs or other instances) goes out from here.
  services.mail.start();
  services.mail.nudge();
  if (config.smtpUrl === undefined) {
    app.log.warn(
      { mailDir: resolve(config.mailDir) },
      'TESSERA_SMTP_URL is not set: mail is not delivered, each message is written as an .eml file to the mail folder',
    );
  }
  app.addHook('onClose', async () => {
    await services.recovery.idle();
    await services.mail.stop();
    await cleanup.stop();
    clearInterval(maintenance);
    clearInterval(revocationSync);
    stopListening?.();
  });

  return app;
}

/**
 * `run` as a function that never overlaps itself: called while a run is in progress, it runs once
 * more after it (a burst of revocation messages costs two log reads, not one per message).
 */
function coalesced(run: () => Promise<void>): () => void {
  let running = false;
  let again = false;
  const start = (): void => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    void run().finally(() => {
      running = false;
      if (again) {
        again = false;
        start();
      }
    });
  };
  return start;
}

/**
 * One housekeeping pass: forget expired revocations, rotate the signing key when its period is
 * up, and pick up keys rotated elsewhere. Run every 30 s; exported so tests run it on a fake clock.
 */
export async function runMaintenance(services: Services): Promise<void> {
  const now = services.now();
  services.sessions.pruneRevocations(now);
  await services.keyring.rotateIfDue(now, services.config.keyRotation * 1000);
  await services.keyring.load();
}

async function createServices(
  config: Config,
  store: Store,
  now: () => number,
  processMetrics: boolean,
  log: FastifyBaseLogger,
): Promise<Services> {
  const keyring = new Keyring(store, {
    alg: config.signingAlg,
    hs256Secret: config.hs256Secret,
    retireAfterSeconds: config.accessTtl + config.clockSkew,
  });
  await keyring.ensureSigningKey(now());
  const accessTokens = new AccessTokens(keyring, {
    issuer: config.issuer,
    audience: config.audience,
    ttl: config.accessTtl,
    clockSkew: config.clockSkew,
  });
  const metrics = new Metrics({
    now,
    mailQueued: () => store.outbox.countQueued(),
    signingKeyActivatedAt: (at) => {
      try {
        return keyring.signingKey(at).activatesAt;
      } catch (error) {
        if (error instanceof UnavailableError) return undefined; // no key signs now: no age
        throw error;
      }
    },
    processMetrics,
  });
  const revocations = new RevocationList(config.clockSkew * 1000);
  const sessions = new Sessions(
    store,
    accessTokens,
    revocations,
    {
      refreshTtl: config.refreshTtl,
      sessionMaxAge: config.sessionMaxAge,
      requireVerifiedEmail: config.emailVerification === 'required',
      policy: {
        graceMs: config.reuseGrace * 1000,
        earlyRefresh: config.earlyRefresh,
        skewMs: config.clockSkew * 1000,
        refreshTtlMs: config.refreshTtl * 1000,
      },
    },
    metrics,
  );
  await sessions.syncRevocations(now());
  const rateLimits = new RateLimits(store, config, metrics);
  const hasher = new PasswordHasher();
  const secrets = loadSecretKeys(config.secretKeys, config.databaseUrl);
  if (secrets.created)
    log.warn(
      { file: secrets.file },
      'generated the key that seals two-factor secrets; back it up with the database (losing it loses every enrolled factor)',
    );
  if (secrets.exposed)
    log.warn(
      { file: secrets.file },
      'the key file that seals two-factor secrets is readable by others: chmod 600 it',
    );
  if (secrets.box === null) log.info('TESSERA_SECRET_KEY is not set: two-factor enrolment is off');
  const mfa = new Mfa({
    store,
    box: secrets.box,
    hasher,
    limits: rateLimits,
    sessions,
    issuer: new URL(config.issuer).host,
  });
  const secondStep = new SecondStep({ store, sessions, mfa, limits: rateLimits, metrics });
  const accounts = new Accounts(store, hasher, rateLimits, sessions, secondStep, metrics, {
    requireVerifiedEmail: config.emailVerification === 'required',
  });
  const administration = new Administration(
    store,
    hasher,
    (revoked, reason) => sessions.noteRevoked(revoked, reason),
    metrics,
  );
  const mail = new MailSender(
    store.outbox,
    config.smtpUrl === undefined ? fileTransport(resolve(config.mailDir)) : smtpTransport(config.smtpUrl),
    { from: config.mailFrom, now, report: (event) => reportMail(event, metrics, log) },
  );
  const tokens = new EmailedTokens({
    store,
    templates: new MailTemplates(config.mailTemplates),
    sender: mail,
    appUrl: config.appUrl,
    metrics,
    onError: (error) => log.warn({ err: error }, 'emailed link or code not queued'),
  });
  const recovery = new Recovery(
    { store, hasher, limits: rateLimits, sessions, tokens },
    { resetTtl: config.resetTtl, emailVerification: config.emailVerification },
  );
  const emailChange = new EmailChange({ store, hasher, limits: rateLimits, tokens });
  const emailSignIn = new EmailSignIn({ store, limits: rateLimits, secondStep, tokens, metrics });
  // Cookie-mode requests may come from the server's own origin and the configured ones.
  const csrf = await Csrf.load(store, [new URL(config.issuer).origin, ...config.corsOrigins], now());
  return {
    config,
    store,
    keyring,
    accessTokens,
    sessions,
    accounts,
    recovery,
    emailChange,
    emailSignIn,
    mfa,
    secondStep,
    mail,
    administration,
    rateLimits,
    csrf,
    metrics,
    cleanup: new Cleanup(store, { auditRetention: config.auditRetention, skewMs: config.clockSkew * 1000 }),
    now,
  };
}

/** Each delivery outcome counted, and logged by id and template: never an address or content. */
function reportMail(event: MailEvent, metrics: Metrics, log: FastifyBaseLogger): void {
  metrics.mail(event.kind);
  // Flat fields: one line each in the pretty format too.
  const { id: mailId, template, attempts } = event.message;
  if (event.kind === 'sent') log.info({ mailId, template, attempts }, 'mail sent');
  else if (event.kind === 'failed') {
    const retryAt = new Date(event.nextAttemptAt).toISOString();
    log.warn({ mailId, template, attempts, error: event.error, retryAt }, 'mail delivery failed; will retry');
  } else log.error({ mailId, template, attempts, error: event.error }, 'mail given up');
}
