/**
 * The Lua scripts that change a deal's state. Each runs atomically in Redis, so no interleaving
 * of ticketing, admission, payment and the sweeper can double-count a unit or a slot.
 *
 * Every script gets the fixed keys first (see fixedKeys): cfg, avail, sold, active, served,
 * stats, admissions; the shopper ticket keys it touches follow. Keys derived inside a script
 * (a swept shopper's ticket) share the deal's hash tag, so they live in the same slot.
 */
const prelude = /* lua */ `
local PREFIX = string.sub(KEYS[1], 1, -4)
local K_CFG, K_AVAIL, K_SOLD, K_ACTIVE, K_SERVED, K_STATS, K_ADMISSIONS = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local K_EVENTS = PREFIX .. 'events'
local SPENT_TTL_MS = 3600000

local function num(value, default)
  if value == false or value == nil or value == '' then return default end
  return tonumber(value)
end

local function ticket_key(shopper) return PREFIX .. 'ticket:' .. shopper end

-- avail = stock - sold - held, never below zero: derived, so it can never drift.
local function recount()
  local stock = num(redis.call('HGET', K_CFG, 'stock'), 0)
  local sold = num(redis.call('GET', K_SOLD), 0)
  local avail = stock - sold - redis.call('ZCARD', K_ACTIVE)
  if avail < 0 then avail = 0 end
  redis.call('SET', K_AVAIL, avail)
  return avail
end

-- Ends checkouts whose deadline passed, giving their units and slots back. A checkout being paid
-- for keeps its unit until its payment lease ends; then it is returned as stuck, for the caller
-- to settle against Postgres.
local function expire_due(now, limit)
  local due = redis.call('ZRANGEBYSCORE', K_ACTIVE, '-inf', now, 'LIMIT', 0, limit)
  local freed, stuck = 0, {}
  for _, shopper in ipairs(due) do
    local tkey = ticket_key(shopper)
    local t = redis.call('HMGET', tkey, 'state', 'payingUntil')
    if t[1] == 'paying' then
      if num(t[2], 0) <= now then table.insert(stuck, shopper) end
    else
      redis.call('ZREM', K_ACTIVE, shopper)
      redis.call('HSET', tkey, 'state', 'expired', 'endedBy', 'timeout')
      redis.call('PEXPIRE', tkey, SPENT_TTL_MS)
      freed = freed + 1
    end
  end
  if freed > 0 then
    redis.call('HINCRBY', K_STATS, 'expired', freed)
    recount()
    redis.call('PUBLISH', K_EVENTS, 'freed')
  end
  return freed, stuck
end
`;

/** ARGV: now, jti, pendingTtlMs. KEYS: fixed…, ticket. */
export const reserveTicketLua = `${prelude}
local now, jti, pending_ttl = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local tkey = KEYS[8]
local cfg = redis.call('HMGET', K_CFG, 'stock', 'opensAt', 'closesAt')
if cfg[1] == false then return {'unknown_deal'} end
local t = redis.call('HMGET', tkey, 'state', 'token', 'qn', 'exp', 'jti')
local state = t[1]
if state == 'purchased' then return {'purchased'} end
-- The same jti is this request's own reservation, re-sent by the client after a reconnect.
if state == 'pending' then return {t[5] == jti and 'reserved' or 'pending'} end
if state == 'admitted' or state == 'paying' or (state == 'waiting' and num(t[4], 0) > now) then
  return {'existing', t[2], t[3]}
end
if now < num(cfg[2], 0) then return {'not_open', cfg[2]} end
if cfg[3] ~= '' and now >= num(cfg[3], now + 1) then return {'closed', cfg[3]} end
if num(redis.call('GET', K_SOLD), 0) >= num(cfg[1], 0) then return {'sold_out'} end
redis.call('DEL', tkey)
redis.call('HSET', tkey, 'state', 'pending', 'jti', jti)
redis.call('PEXPIRE', tkey, pending_ttl)
return {'reserved'}
`;

/** ARGV: jti, qn, token, expMs, ttlMs. KEYS: fixed…, ticket. Returns 1 when the ticket is recorded. */
export const finalizeTicketLua = `${prelude}
local jti, qn, token, exp, ttl = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], tonumber(ARGV[5])
local tkey = KEYS[8]
if redis.call('HGET', tkey, 'jti') ~= jti then return 0 end
redis.call('HSET', tkey, 'state', 'waiting', 'qn', qn, 'token', token, 'exp', exp)
redis.call('PEXPIRE', tkey, ttl)
redis.call('HINCRBY', K_STATS, 'issued', 1)
if qn > num(redis.call('HGET', K_STATS, 'lastQn'), 0) then redis.call('HSET', K_STATS, 'lastQn', qn) end
return 1
`;

/** ARGV: jti. KEYS: fixed…, ticket. Undoes a reservation whose ticket could not be queued. */
export const abortTicketLua = `${prelude}
local tkey = KEYS[8]
local t = redis.call('HMGET', tkey, 'jti', 'state')
if t[1] == ARGV[1] and t[2] == 'pending' then redis.call('DEL', tkey) return 1 end
return 0
`;

/**
 * ARGV: now, count, then per ticket in log order: qn, shopper, jti, expMs, valid (1/0).
 * KEYS: fixed…, one ticket key per ticket. Processes tickets in order and stops at the first one
 * that must wait (a unit, a slot, a pause or its own answer), which stays unprocessed.
 * Returns {processed, blockedBy, admitted, invalid, expired, soldout, duplicate, checkoutsExpired}.
 */
export const admitBatchLua = `${prelude}
local now, count = tonumber(ARGV[1]), tonumber(ARGV[2])
local cfg = redis.call('HMGET', K_CFG, 'stock', 'cap', 'windowMs', 'paused')
if cfg[1] == false then return {0, 'unknown_deal', 0, 0, 0, 0, 0, 0} end
local stock, cap, window, paused = tonumber(cfg[1]), tonumber(cfg[2]), tonumber(cfg[3]), cfg[4] == '1'
local checkouts_expired = expire_due(now, 1000)
local served = num(redis.call('GET', K_SERVED), 0)
local sold = num(redis.call('GET', K_SOLD), 0)
local held = redis.call('ZCARD', K_ACTIVE)
local processed, blocked = 0, ''
local admitted, invalid, expired, soldout, duplicate = 0, 0, 0, 0, 0
for i = 1, count do
  local at = 2 + (i - 1) * 5
  local qn, shopper, jti, exp, valid = tonumber(ARGV[at + 1]), ARGV[at + 2], ARGV[at + 3], tonumber(ARGV[at + 4]), ARGV[at + 5] == '1'
  local tkey = KEYS[7 + i]
  if qn <= served then
    duplicate = duplicate + 1
  elseif not valid then
    invalid = invalid + 1
    served = qn
  else
    local t = redis.call('HMGET', tkey, 'jti', 'state', 'qn')
    if t[1] ~= jti then
      -- never answered to the shopper (the reservation was undone or lapsed), or replaced since
      invalid = invalid + 1
      served = qn
    elseif t[2] == 'pending' then
      blocked = 'pending'
    elseif t[2] ~= 'waiting' or tonumber(t[3]) ~= qn then
      -- already dealt with, or a stray copy (a retried write) away from the queue number the shopper was given
      duplicate = duplicate + 1
      served = qn
    elseif exp <= now then
      redis.call('HSET', tkey, 'state', 'skipped', 'endedBy', 'ticket_expired')
      redis.call('PEXPIRE', tkey, SPENT_TTL_MS)
      expired = expired + 1
      served = qn
    elseif paused then
      blocked = 'paused'
    elseif stock - sold - held <= 0 then
      if sold >= stock then
        redis.call('HSET', tkey, 'state', 'soldout')
        soldout = soldout + 1
        served = qn
      else
        blocked = 'stock'
      end
    elseif held >= cap then
      blocked = 'cap'
    else
      local deadline = now + window
      redis.call('ZADD', K_ACTIVE, deadline, shopper)
      redis.call('HSET', tkey, 'state', 'admitted', 'deadline', deadline)
      redis.call('PEXPIRE', tkey, window + SPENT_TTL_MS)
      redis.call('RPUSH', K_ADMISSIONS, qn .. ':' .. shopper .. ':' .. now)
      held = held + 1
      admitted = admitted + 1
      served = qn
    end
  end
  if blocked ~= '' then break end
  processed = i
end
redis.call('SET', K_SERVED, served)
if admitted > 0 then redis.call('HINCRBY', K_STATS, 'admitted', admitted) end
if invalid + expired > 0 then redis.call('HINCRBY', K_STATS, 'skipped', invalid + expired) end
if soldout > 0 then redis.call('HINCRBY', K_STATS, 'soldout', soldout) end
recount()
if processed > 0 then redis.call('PUBLISH', K_EVENTS, 'changed') end
return {processed, blocked, admitted, invalid, expired, soldout, duplicate, checkouts_expired}
`;

/** ARGV: now, limit. KEYS: fixed…. Returns {freed, stuck shoppers…}. */
export const expireDueLua = `${prelude}
local freed, stuck = expire_due(tonumber(ARGV[1]), tonumber(ARGV[2]))
local result = {freed}
for _, shopper in ipairs(stuck) do table.insert(result, shopper) end
return result
`;

/** ARGV: shopper, qn. KEYS: fixed…, ticket. The shopper gives the unit back at once. */
export const releaseCheckoutLua = `${prelude}
local shopper, qn = ARGV[1], ARGV[2]
local tkey = KEYS[8]
local t = redis.call('HMGET', tkey, 'state', 'qn')
if t[2] ~= qn then return 'not_admitted' end
if t[1] == 'paying' then return 'paying' end
if t[1] == 'purchased' then return 'purchased' end
if t[1] == 'expired' then return 'expired' end
if t[1] ~= 'admitted' then return 'not_admitted' end
redis.call('ZREM', K_ACTIVE, shopper)
redis.call('HSET', tkey, 'state', 'expired', 'endedBy', 'cancelled')
redis.call('PEXPIRE', tkey, SPENT_TTL_MS)
redis.call('HINCRBY', K_STATS, 'cancelled', 1)
recount()
redis.call('PUBLISH', K_EVENTS, 'freed')
return 'released'
`;

/**
 * ARGV: shopper, qn, now, leaseMs. KEYS: fixed…, ticket. Marks an open checkout as being paid
 * for, so the sweeper leaves its unit alone until the payment settles or its lease ends.
 * Returns {'claimed', deadline} or {reason}.
 */
export const claimForPaymentLua = `${prelude}
local shopper, qn, now, lease = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local tkey = KEYS[8]
local t = redis.call('HMGET', tkey, 'state', 'qn', 'deadline', 'orderId')
if t[2] ~= qn then return {'not_admitted'} end
if t[1] == 'purchased' then return {'purchased', t[4]} end
if t[1] == 'paying' then return {'in_progress'} end
if t[1] == 'expired' then return {'expired'} end
if t[1] ~= 'admitted' then return {'not_admitted'} end
if num(t[3], 0) <= now then
  local freed = expire_due(now, 1000)
  return {'expired', freed}
end
redis.call('HSET', tkey, 'state', 'paying', 'payingUntil', now + lease)
return {'claimed', t[3]}
`;

/** ARGV: shopper, qn. KEYS: fixed…, ticket. A payment that did not go through: the checkout stays open until its deadline. */
export const abortPaymentLua = `${prelude}
local tkey = KEYS[8]
local t = redis.call('HMGET', tkey, 'state', 'qn')
if t[1] ~= 'paying' or t[2] ~= ARGV[2] then return 0 end
redis.call('HSET', tkey, 'state', 'admitted')
redis.call('HDEL', tkey, 'payingUntil')
return 1
`;

/** ARGV: shopper, qn, orderId, soldInPostgres. KEYS: fixed…, ticket. Records a paid order: the slot is freed, the unit is sold. */
export const completePaymentLua = `${prelude}
local shopper, qn, order_id, sold_in_db = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local tkey = KEYS[8]
if redis.call('HGET', tkey, 'state') == 'purchased' then return 0 end
redis.call('ZREM', K_ACTIVE, shopper)
redis.call('HSET', tkey, 'state', 'purchased', 'qn', qn, 'orderId', order_id)
redis.call('HDEL', tkey, 'payingUntil')
redis.call('PERSIST', tkey)
local sold = num(redis.call('GET', K_SOLD), 0)
if sold_in_db > sold then sold = sold_in_db end
redis.call('SET', K_SOLD, sold)
redis.call('HINCRBY', K_STATS, 'purchased', 1)
recount()
redis.call('PUBLISH', K_EVENTS, 'freed')
if sold >= num(redis.call('HGET', K_CFG, 'stock'), 0) then redis.call('PUBLISH', K_EVENTS, 'soldout') end
return 1
`;

/**
 * ARGV: stock, cap, windowMs, opensAt, closesAt ('' for none), paused (1/0), ticketTtlMs, price,
 * currency, product, soldInPostgres. KEYS: fixed…. Applies a deal's settings; safe to repeat.
 */
export const applyDealLua = `${prelude}
redis.call('HSET', K_CFG, 'stock', ARGV[1], 'cap', ARGV[2], 'windowMs', ARGV[3], 'opensAt', ARGV[4],
  'closesAt', ARGV[5], 'paused', ARGV[6], 'ticketTtlMs', ARGV[7], 'price', ARGV[8], 'currency', ARGV[9], 'product', ARGV[10])
local sold = num(redis.call('GET', K_SOLD), 0)
local sold_in_db = tonumber(ARGV[11])
if sold_in_db > sold then sold = sold_in_db end
redis.call('SET', K_SOLD, sold)
redis.call('SETNX', K_SERVED, 0)
local avail = recount()
redis.call('PUBLISH', K_EVENTS, 'config')
redis.call('PUBLISH', K_EVENTS, 'freed')
return avail
`;

/** KEYS: fixed…. Everything a cache needs to answer polls, in one atomic read. */
export const snapshotLua = `${prelude}
return {
  redis.call('HGETALL', K_CFG),
  num(redis.call('GET', K_AVAIL), 0),
  redis.call('ZCARD', K_ACTIVE),
  num(redis.call('GET', K_SERVED), 0),
  num(redis.call('GET', K_SOLD), 0),
  redis.call('HGETALL', K_STATS),
}
`;
