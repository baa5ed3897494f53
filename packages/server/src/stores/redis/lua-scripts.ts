import { LuaScript } from './redis-connection.ts';

/**
 * The Lua scripts of the Redis session store. Redis runs each script alone, start to end, so a
 * script is the store's transaction: its writes are all visible or none.
 *
 * Keys (every name starts with the prefix, `ARGV[1]`; every key has a time to live):
 * - `session:<id>`        hash: the session's fields and `ver`, its version; lives until the
 *                         session's absolute end plus `KEEP_MS`.
 * - `token:<hash>`        hash: a refresh token; lives until its own expiry plus `KEEP_MS`, and
 *                         once spent until its session's absolute end plus `KEEP_MS`, so its
 *                         reuse is caught for as long as the session can be refreshed.
 * - `user-sessions:<uid>` sorted set: the user's unrevoked sessions by absolute end; expired
 *                         members are trimmed at each login, revoked ones removed at revocation.
 * - `user-epoch:<uid>`    counter bumped when the user's password changes or the account is
 *                         disabled or demoted; a login commits only if it did not move.
 * - `revocations`, `revocations:by-exp` sorted sets of the same entries, by sequence number and by
 *                         access-token expiry; `revocations:seq` the last sequence number.
 * - `counter:<key>`       hash: a rate-limit window; lives for the window.
 * - channel `revoked`     each committed batch of revocations, published by the script.
 *
 * Times come from the caller's clock (arguments), never from Redis, except the sequence floor.
 * Numbers are passed and stored as decimal strings: Lua's default number formatting rounds
 * millisecond times to 14 digits.
 */

/** How long records stay after their own end: reuse detection, late reads, the feed's leeway. */
export const KEEP_MS = 24 * 60 * 60 * 1000;
/** How long a user's epoch survives its last bump; far beyond any login in flight. */
export const EPOCH_TTL_MS = 24 * 60 * 60 * 1000;
/** How long the sequence counter survives its last use; the clock floor covers its loss. */
const SEQ_TTL_MS = 90 * 24 * 60 * 60 * 1000;

const PRELUDE = `
local P = ARGV[1]
local KEEP = ${KEEP_MS}
local function session_key(id) return P .. 'session:' .. id end
local function token_key(hash) return P .. 'token:' .. hash end
local function index_key(user) return P .. 'user-sessions:' .. user end
local function epoch_key(user) return P .. 'user-epoch:' .. user end
local LOG = P .. 'revocations'
local LOG_BY_EXP = P .. 'revocations:by-exp'
local SEQ = P .. 'revocations:seq'

-- Extends a key's life to at least ms (never shortens it).
local function keep_for(key, ms)
  if redis.call('PTTL', key) < ms then redis.call('PEXPIRE', key, string.format('%.0f', ms)) end
end

local function hset_json(key, json)
  local args = {}
  for name, value in pairs(cjson.decode(json)) do
    args[#args + 1] = name
    args[#args + 1] = value
  end
  redis.call('HSET', key, unpack(args))
end

-- The next log sequence number. Never below the clock (in 10 us units: 15 digits, the feed's
-- cursor format), so a counter Redis lost (a restart without persistence, an expiry) can never
-- hand out a number a reader has already passed and make it skip a revocation.
local function next_seq()
  local t = redis.call('TIME')
  local floor = tonumber(t[1]) * 100000 + math.floor(tonumber(t[2]) / 10)
  local seq = math.max(tonumber(redis.call('GET', SEQ) or '0') + 1, floor)
  local text = string.format('%.0f', seq)
  redis.call('SET', SEQ, text, 'PX', ${SEQ_TTL_MS})
  return text
end

-- Revokes one live session: marks it, bumps its version (a rotation decided on the old state
-- fails its compare-and-set), drops it from the user's index and appends it to the log.
local function revoke(id, reason, now, out)
  local key = session_key(id)
  local s = redis.call('HMGET', key, 'userId', 'revokedAt', 'accessExpiresAt')
  if not s[1] or s[2] then return end
  redis.call('HSET', key, 'revokedAt', now, 'revokeReason', reason)
  redis.call('HINCRBY', key, 'ver', 1)
  redis.call('ZREM', index_key(s[1]), id)
  local entry = cjson.encode({id, s[1], now, s[3]})
  redis.call('ZADD', LOG, next_seq(), entry)
  redis.call('ZADD', LOG_BY_EXP, s[3], entry)
  local keep = tonumber(s[3]) - tonumber(now) + KEEP
  keep_for(LOG, keep)
  keep_for(LOG_BY_EXP, keep)
  out[#out + 1] = entry
end

-- Tells every instance at once (pub/sub), in the same step as the commit.
local function publish(out)
  if #out > 0 then redis.call('PUBLISH', P .. 'revoked', '[' .. table.concat(out, ',') .. ']') end
  return out
end
`;

const script = (body: string): LuaScript => new LuaScript(PRELUDE + body);

/**
 * ARGV: prefix, userId, epoch seen before the SQL check ('' for none), session id, session JSON,
 * session TTL, now, token hash ('' for none), token JSON, token TTL. 1 when created, 0 when the
 * user's epoch moved since it was read (a password change, disable or demotion committed).
 */
export const CREATE_SESSION = script(`
if (redis.call('GET', epoch_key(ARGV[2])) or '') ~= ARGV[3] then return 0 end
local key = session_key(ARGV[4])
if redis.call('EXISTS', key) == 1 then return redis.error_reply('session id taken') end
if ARGV[8] ~= '' and redis.call('EXISTS', token_key(ARGV[8])) == 1 then
  return redis.error_reply('refresh token hash taken')
end
hset_json(key, ARGV[5])
redis.call('HSET', key, 'ver', '0')
redis.call('PEXPIRE', key, ARGV[6])
local index = index_key(ARGV[2])
redis.call('ZADD', index, redis.call('HGET', key, 'expiresAt'), ARGV[4])
redis.call('ZREMRANGEBYSCORE', index, '-inf', ARGV[7])
keep_for(index, tonumber(ARGV[6]))
if ARGV[8] ~= '' then
  hset_json(token_key(ARGV[8]), ARGV[9])
  redis.call('PEXPIRE', token_key(ARGV[8]), ARGV[10])
end
return 1
`);

/** ARGV: prefix, token hash. The token, its session and its successor, read in one step. */
export const READ_ROTATION = script(`
local token = redis.call('HGETALL', token_key(ARGV[2]))
if #token == 0 then return {} end
local session = redis.call('HGETALL', session_key(redis.call('HGET', token_key(ARGV[2]), 'sessionId')))
local successor = {}
local next_hash = redis.call('HGET', token_key(ARGV[2]), 'successorHash')
if next_hash then successor = redis.call('HGETALL', token_key(next_hash)) end
return {token, session, successor}
`);

/**
 * ARGV: prefix, presented hash, session id, version read, now, access exp, decision, then per
 * decision: reuse → reason; rotate → successor hash, sealed successor, successor expiry, TTL.
 * Applies the decision only if the session's version is still the one the policy saw, else
 * answers {'conflict'} and changes nothing (optimistic compare-and-set: the caller re-reads).
 */
export const APPLY_ROTATION = script(`
local key = session_key(ARGV[3])
if redis.call('HGET', key, 'ver') ~= ARGV[4] then return {'conflict'} end
local now = ARGV[5]
local function touch()
  local access = redis.call('HGET', key, 'accessExpiresAt')
  if tonumber(ARGV[6]) > tonumber(access) then access = ARGV[6] end
  redis.call('HSET', key, 'lastUsedAt', now, 'accessExpiresAt', access)
  redis.call('HINCRBY', key, 'ver', 1)
end
if ARGV[7] == 'reuse' then
  local out = {}
  revoke(ARGV[3], ARGV[8], now, out)
  publish(out)
  return {'reused', out[1] or ''}
end
if ARGV[7] == 'grace' then
  touch()
  return {'grace', redis.call('HGETALL', key)}
end
local presented = token_key(ARGV[2])
local successor = token_key(ARGV[8])
-- The version matched, so the token was unconsumed when the policy saw it: anything else means
-- an invariant broke; refuse rather than mint a second successor (ATTACKS RT-03).
if redis.call('HEXISTS', presented, 'consumedAt') == 1 or redis.call('EXISTS', successor) == 1 then
  return redis.error_reply('refresh rotation lost its compare-and-set')
end
redis.call('HSET', presented, 'consumedAt', now, 'successorHash', ARGV[8], 'successorSealed', ARGV[9])
-- Spent, it must outlive its own expiry: presenting it again ends the session for as long as the
-- session can be refreshed (SPEC §3 reuse), so it lives as long as the session's key does.
keep_for(presented, tonumber(redis.call('HGET', key, 'expiresAt')) - tonumber(now) + KEEP)
redis.call('HSET', successor, 'sessionId', ARGV[3], 'parentHash', ARGV[2], 'createdAt', now, 'expiresAt', ARGV[10])
redis.call('PEXPIRE', successor, ARGV[11])
redis.call('HSET', key, 'idleExpiresAt', ARGV[10])
touch()
return {'rotated', redis.call('HGETALL', key)}
`);

/** ARGV: prefix, session id, reason, now. The entry, if it was live (empty otherwise). */
export const REVOKE_SESSION = script(`
local out = {}
revoke(ARGV[2], ARGV[3], ARGV[4], out)
return publish(out)
`);

/**
 * ARGV: prefix, user id, reason, now, session id to spare ('' for none), '1' to bump the user's
 * epoch first (password change, disable, demotion: a login in flight must not commit after this).
 */
export const REVOKE_USER_SESSIONS = script(`
if ARGV[6] == '1' then
  redis.call('INCR', epoch_key(ARGV[2]))
  redis.call('PEXPIRE', epoch_key(ARGV[2]), ${EPOCH_TTL_MS})
end
local out = {}
local index = index_key(ARGV[2])
for _, id in ipairs(redis.call('ZRANGE', index, 0, -1)) do
  if id ~= ARGV[5] then
    if redis.call('EXISTS', session_key(id)) == 0 then redis.call('ZREM', index, id) end
    revoke(id, ARGV[3], ARGV[4], out)
  end
end
return publish(out)
`);

/**
 * ARGV: prefix, time, limit. Forgets at most `limit` log entries whose access tokens expired
 * before the time; answers how many.
 */
export const PRUNE_REVOCATIONS = script(`
local gone = redis.call('ZRANGEBYSCORE', LOG_BY_EXP, '-inf', '(' .. ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
for i = 1, #gone, 500 do
  redis.call('ZREM', LOG, unpack(gone, i, math.min(i + 499, #gone)))
  redis.call('ZREM', LOG_BY_EXP, unpack(gone, i, math.min(i + 499, #gone)))
end
return #gone
`);

/**
 * ARGV: prefix, counter name, now, window (ms). {count, resetAt}: a fixed window from the first
 * hit, counted atomically for every instance; the key lives exactly as long as the window.
 */
export const HIT_COUNTER = script(`
local key = P .. 'counter:' .. ARGV[2]
local c = redis.call('HMGET', key, 'count', 'resetAt')
if c[2] and tonumber(c[2]) > tonumber(ARGV[3]) then
  return {redis.call('HINCRBY', key, 'count', 1), c[2]}
end
local reset_at = string.format('%.0f', tonumber(ARGV[3]) + tonumber(ARGV[4]))
redis.call('HSET', key, 'count', 1, 'resetAt', reset_at)
redis.call('PEXPIRE', key, ARGV[4])
return {1, reset_at}
`);
