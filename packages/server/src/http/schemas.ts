/**
 * JSON schemas shared by the routes. They validate requests (unknown fields are refused, types
 * are never coerced), shape responses, and document the API from the same source (`/docs`).
 */
export const emailSchema = { type: 'string', minLength: 3, maxLength: 320 } as const;
// The byte limit (1024) is checked in code; this bound only stops absurd bodies early.
export const passwordSchema = { type: 'string', minLength: 1, maxLength: 1024 } as const;
// Generous on purpose: a wrong kind of token (an access token is ~800 characters) must reach the
// format check and answer `invalid_grant`, not a length error (ATTACKS RT-09). The body limit
// bounds it anyway.
export const refreshTokenSchema = { type: 'string', minLength: 1, maxLength: 8192 } as const;

export const userSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    email: { type: 'string' },
    name: { type: ['string', 'null'] },
    role: { type: 'string', enum: ['user', 'admin'] },
    emailVerified: { type: 'boolean' },
    createdAt: { type: 'string', format: 'date-time' },
  },
  required: ['id', 'email', 'name', 'role', 'emailVerified', 'createdAt'],
  additionalProperties: false,
} as const;

/** A `{user}` body (sign-up, email verification). */
export function userResponse(description: string) {
  return { description, type: 'object', properties: { user: userSchema }, required: ['user'] } as const;
}

export const tokenResponseSchema = {
  type: 'object',
  properties: {
    accessToken: { type: 'string' },
    tokenType: { type: 'string', const: 'Bearer' },
    expiresIn: { type: 'integer' },
    refreshToken: { type: 'string' },
    refreshExpiresIn: { type: 'integer' },
    user: userSchema,
  },
  required: ['accessToken', 'tokenType', 'expiresIn', 'user'],
  additionalProperties: false,
} as const;

/** Cookie mode answers without tokens: they are in `Set-Cookie`. */
export const cookieGrantResponseSchema = {
  type: 'object',
  properties: {
    expiresIn: { type: 'integer' },
    refreshExpiresIn: { type: 'integer' },
    user: userSchema,
  },
  required: ['expiresIn', 'user'],
  additionalProperties: false,
} as const;

/** What login and refresh answer, in either mode. */
export const grantResponseSchema = { anyOf: [tokenResponseSchema, cookieGrantResponseSchema] } as const;

export const errorSchema = {
  description: 'An error: a stable code (docs/errors.md) and a human sentence',
  type: 'object',
  properties: { error: { type: 'string' }, message: { type: 'string' } },
  required: ['error', 'message'],
  additionalProperties: false,
} as const;

/**
 * `403 mfa_required` from a first factor (password login, emailed code): the error, and what the
 * second step needs (`POST /auth/mfa/verify`). Any other 403 has only `error` and `message`.
 */
export const mfaRequiredSchema = {
  description: 'A second factor is needed (`mfa_required`), or another 403 error',
  type: 'object',
  properties: {
    error: { type: 'string' },
    message: { type: 'string' },
    mfaToken: { type: 'string', description: 'For `POST /auth/mfa/verify`; 5 minutes, single use' },
    methods: { type: 'array', items: { type: 'string', enum: ['totp', 'recovery_code'] } },
  },
  required: ['error', 'message'],
  additionalProperties: false,
} as const;

/** A success without a body. */
export const noContent = { description: 'Done', type: 'null' } as const;

/**
 * A route's responses: its successes, and the error shape every failure has. `description` says
 * which codes the route answers.
 */
export function withErrors<T extends object>(
  successes: T,
): T & { '4xx': typeof errorSchema; '5xx': typeof errorSchema } {
  return { ...successes, '4xx': errorSchema, '5xx': errorSchema };
}

/** Operations that take an access token (`Authorization: Bearer`, or the cookie in cookie mode). */
export const bearerAuth = [{ bearer: [] }];

export const sessionSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    lastUsedAt: { type: 'string', format: 'date-time' },
    expiresAt: { type: 'string', format: 'date-time' },
    userAgent: { type: ['string', 'null'] },
    ip: { type: ['string', 'null'] },
    current: { type: 'boolean' },
  },
  required: ['id', 'createdAt', 'lastUsedAt', 'expiresAt', 'userAgent', 'ip', 'current'],
  additionalProperties: false,
} as const;

/** A user as the admin API shows it: the public view plus status (never the password hash). */
export const adminUserSchema = {
  type: 'object',
  properties: {
    ...userSchema.properties,
    disabled: { type: 'boolean' },
    disabledAt: { type: ['string', 'null'], format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
  required: [...userSchema.required, 'disabled', 'disabledAt', 'updatedAt'],
  additionalProperties: false,
} as const;

export const auditEntrySchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    occurredAt: { type: 'string', format: 'date-time' },
    actor: { type: ['string', 'null'], description: 'A user id, `cli`, `system`, or null when unknown' },
    action: { type: 'string' },
    subject: { type: ['string', 'null'], description: 'The user id it concerns' },
    ip: { type: ['string', 'null'] },
    userAgent: { type: ['string', 'null'] },
    detail: { type: 'object', additionalProperties: true },
  },
  required: ['id', 'occurredAt', 'actor', 'action', 'subject', 'ip', 'userAgent', 'detail'],
  additionalProperties: false,
} as const;
