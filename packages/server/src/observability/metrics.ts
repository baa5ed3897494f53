import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ErrorCode } from '@tessera/protocol';
import type { AuditAction, RevokeReason } from '../stores/store.ts';

/** How a login attempt that reached the credential check ended: `success` or the error's code. */
export type LoginOutcome = 'success' | ErrorCode;
/** What the rotation decided for a presented refresh token (`decideRotation`). */
export type RefreshOutcome = 'rotated' | 'grace' | 'reused' | 'invalid_grant' | 'session_expired';
/** Which brute-force limit refused a request (`RateLimits`). */
export type RateLimitName = 'address' | 'login' | 'signup' | 'password' | 'recovery' | 'recovery_mail';
/** What happened to a message of the outbox: queued by a request, then sent, failed once, or given up. */
export type MailOutcome = 'queued' | 'sent' | 'failed' | 'given_up';
/** Why a refresh was taken for theft and its session revoked. */
export type ReuseReason = 'reuse_detected' | 'early_refresh';

/**
 * What the services report, called where each outcome is decided. `Metrics` implements it; a
 * service built without one (the CLI, a unit test) gets `NO_METRICS`.
 */
export interface MetricsSink {
  login(outcome: LoginOutcome): void;
  refresh(outcome: RefreshOutcome): void;
  reuseDetected(reason: ReuseReason): void;
  revoked(reason: RevokeReason, sessions: number): void;
  rateLimited(limit: RateLimitName): void;
  /** A change made through the admin API or the CLI (role, status, sessions). */
  adminAction(action: AuditAction): void;
  mail(outcome: MailOutcome): void;
}

export const NO_METRICS: MetricsSink = {
  login() {},
  refresh() {},
  reuseDetected() {},
  revoked() {},
  rateLimited() {},
  adminAction() {},
  mail() {},
};

export interface MetricsOptions {
  now(): number;
  /** When the key that signs at `now` started signing (ms); `undefined` when none does. */
  signingKeyActivatedAt(now: number): number | undefined;
  /**
   * CPU, memory, event-loop and GC metrics of the process. Their collectors are process-wide and
   * never stopped, so only the one app of a real process turns them on, not tests building many.
   */
  processMetrics?: boolean;
  /** Messages in the outbox not yet sent or given up (read at each scrape). */
  mailQueued?: () => Promise<number>;
}

// Known label values start at 0, so a rate() over a fresh server is 0 rather than no series.
const LOGIN_OUTCOMES: LoginOutcome[] = ['success', 'invalid_credentials', 'rate_limited', 'unavailable'];
const REFRESH_OUTCOMES: RefreshOutcome[] = ['rotated', 'grace', 'reused', 'invalid_grant', 'session_expired'];
const RATE_LIMITS: RateLimitName[] = ['address', 'login', 'signup', 'password', 'recovery', 'recovery_mail'];
const MAIL_OUTCOMES: MailOutcome[] = ['queued', 'sent', 'failed', 'given_up'];
const REUSE_REASONS: ReuseReason[] = ['reuse_detected', 'early_refresh'];

/**
 * Tessera's Prometheus metrics, in a registry of this app's own: several apps in one process (the
 * tests) never share or collide on a series.
 */
export class Metrics implements MetricsSink {
  readonly #registry = new Registry();
  readonly #logins: Counter<'outcome'>;
  readonly #refreshes: Counter<'outcome'>;
  readonly #reuse: Counter<'reason'>;
  readonly #revocations: Counter<'reason'>;
  readonly #rateLimits: Counter<'limit'>;
  readonly #adminActions: Counter<'action'>;
  readonly #storeErrors: Counter;
  readonly #mail: Counter<'outcome'>;
  readonly #requests: Histogram<'method' | 'route' | 'status_code'>;

  constructor(options: MetricsOptions) {
    const registers = [this.#registry];
    this.#logins = new Counter({
      name: 'tessera_logins_total',
      help: 'Login attempts that reached the credential check, by outcome (success or error code)',
      labelNames: ['outcome'],
      registers,
    });
    this.#refreshes = new Counter({
      name: 'tessera_refreshes_total',
      help: 'Refresh-token presentations, by what the rotation decided',
      labelNames: ['outcome'],
      registers,
    });
    this.#reuse = new Counter({
      name: 'tessera_refresh_reuse_detected_total',
      help: 'Refreshes taken for token theft; each revoked its whole session',
      labelNames: ['reason'],
      registers,
    });
    this.#revocations = new Counter({
      name: 'tessera_sessions_revoked_total',
      help: 'Sessions revoked, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.#rateLimits = new Counter({
      name: 'tessera_rate_limit_hits_total',
      help: 'Requests stopped by a limit, by limit: refused 429, or (recovery_mail) answered with no mail sent',
      labelNames: ['limit'],
      registers,
    });
    this.#adminActions = new Counter({
      name: 'tessera_admin_actions_total',
      help: 'Changes made through the admin API, by audit action',
      labelNames: ['action'],
      registers,
    });
    this.#storeErrors = new Counter({
      name: 'tessera_store_errors_total',
      help: 'Requests answered 503 unavailable because the store (or a signing key) was out of reach',
      registers,
    });
    this.#mail = new Counter({
      name: 'tessera_mail_total',
      help: 'Outbox messages: queued by a request, sent, failed (one attempt, to be retried), given up',
      labelNames: ['outcome'],
      registers,
    });
    this.#requests = new Histogram({
      name: 'tessera_http_request_duration_seconds',
      help: 'Time to answer a request, by route pattern',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    new Gauge({
      name: 'tessera_signing_key_age_seconds',
      help: 'Seconds since the key that signs access tokens now started signing',
      registers,
      collect() {
        const now = options.now();
        const activatedAt = options.signingKeyActivatedAt(now);
        if (activatedAt === undefined) this.reset();
        else this.set(Math.max(0, (now - activatedAt) / 1000));
      },
    });
    const { mailQueued } = options;
    if (mailQueued) {
      new Gauge({
        name: 'tessera_mail_queued',
        help: 'Messages waiting in the outbox: queued, or retrying after a failed delivery',
        registers,
        async collect() {
          try {
            this.set(await mailQueued());
          } catch {
            this.reset(); // the store is down: no value rather than a stale one
          }
        },
      });
    }
    for (const outcome of LOGIN_OUTCOMES) this.#logins.inc({ outcome }, 0);
    for (const outcome of REFRESH_OUTCOMES) this.#refreshes.inc({ outcome }, 0);
    for (const reason of REUSE_REASONS) this.#reuse.inc({ reason }, 0);
    for (const limit of RATE_LIMITS) this.#rateLimits.inc({ limit }, 0);
    for (const outcome of MAIL_OUTCOMES) this.#mail.inc({ outcome }, 0);
    if (options.processMetrics) collectDefaultMetrics({ register: this.#registry });
  }

  /** The `Content-Type` of `render()`'s text. */
  get contentType(): string {
    return this.#registry.contentType;
  }

  /** Every metric in the Prometheus text exposition format. */
  async render(): Promise<string> {
    return this.#registry.metrics();
  }

  login(outcome: LoginOutcome): void {
    this.#logins.inc({ outcome });
  }

  refresh(outcome: RefreshOutcome): void {
    this.#refreshes.inc({ outcome });
  }

  reuseDetected(reason: ReuseReason): void {
    this.#reuse.inc({ reason });
  }

  revoked(reason: RevokeReason, sessions: number): void {
    if (sessions > 0) this.#revocations.inc({ reason }, sessions);
  }

  mail(outcome: MailOutcome): void {
    this.#mail.inc({ outcome });
  }

  rateLimited(limit: RateLimitName): void {
    this.#rateLimits.inc({ limit });
  }

  adminAction(action: AuditAction): void {
    this.#adminActions.inc({ action });
  }

  /**
   * One answered request. `route` is the route's pattern (`/auth/sessions/:id`), never the raw
   * URL: ids and junk paths would make a series each.
   */
  observeRequest(method: string, route: string, statusCode: number, seconds: number): void {
    this.#requests.observe({ method, route, status_code: String(statusCode) }, seconds);
    if (statusCode === 503) this.#storeErrors.inc();
  }
}
