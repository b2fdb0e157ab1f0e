/**
 * The hot-key slice script: in one atomic step, give back an agent's unused units (if any),
 * reserve up to `want` units of the key's GCRA budget (as if that many unit requests arrived
 * now: exact GCRA decides how many fit), and mark the agent present, returning how many agents
 * reserved on this key within `presenceMs`.
 *
 * ```
 * KEYS = [limitKey, presenceKey]   (same hash tag: one slot)
 * ARGV = [T, τ, want, agentId, presenceMs, giveBack]
 * reply = [granted, retryAfterUs (when granted = 0), agents, tat − now (after)]
 * ```
 * A reservation gets all of `want` or nothing; then retryAfterUs is the wait until the whole
 * `want` fits: an agent over the limit calls once per slice, not once per few units (the units
 * wait in the key's capacity for whoever reserves first, so none is lost).
 * Giving back moves the TAT back by giveBack × T, never below now: the units are as if never
 * taken (a later reservation by another agent stays paid for, since TATs add up).
 * @module
 */

/** The Lua source (Valkey 8/9). */
export const SLICE_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local em = tonumber(ARGV[1])
local c = tonumber(ARGV[2]) + em
local want = tonumber(ARGV[3])
local back = tonumber(ARGV[6])
local tat = tonumber(redis.call('GET', KEYS[1]) or '') or now
if tat < now then tat = now end
if back > 0 then
  tat = tat - back * em
  if tat < now then tat = now end
end
if tat > now + c then tat = now + c end
-- All of want or nothing: partial grants would send agents racing for crumbs (one call per
-- few units) once the key is over its limit; the units wait in the key's capacity instead.
local grant = 0
if math.floor((now + c - tat) / em) >= want then grant = want end
local retry = 0
if grant >= 1 then
  tat = tat + grant * em
else
  grant = 0
  retry = tat + want * em - c - now
end
if grant >= 1 or back > 0 then
  local ttl = math.ceil((tat - now) / 1000)
  if ttl < 1 then ttl = 1 end
  redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', string.format('%.0f', ttl))
end
local pms = tonumber(ARGV[5])
local nowMs = math.floor(now / 1000)
redis.call('ZADD', KEYS[2], nowMs, ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', nowMs - pms)
redis.call('PEXPIRE', KEYS[2], pms)
return { grant, retry, redis.call('ZCARD', KEYS[2]), tat - now }
`;
