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
-- sorted set: shopper → payingUntil, the checkouts being paid for (derived key, same slot)
local K_PAYING = PREFIX .. 'paying'
local SPENT_TTL_MS = 3600000
-- the pre-queue and its draw (derived keys, same slot): see prequeue-draw in ticketing
local K_PREQUEUE, K_DRAW, K_DRAW_LOCK = PREFIX .. 'prequeue', PREFIX .. 'draw', PREFIX .. 'draw:lock'

-- Redis's own clock, so replicas whose clocks disagree still agree on deadlines and leases.
local function redis_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

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
-- for keeps its unit until its payment lease lapses, deadline or not: then it is returned as stuck,
-- for the caller to settle against Postgres and the provider (never released here).
local function expire_due(now, limit)
  local due = redis.call('ZRANGEBYSCORE', K_ACTIVE, '-inf', now, 'LIMIT', 0, limit)
  local freed, stuck = 0, redis.call('ZRANGEBYSCORE', K_PAYING, '-inf', now, 'LIMIT', 0, limit)
  for _, shopper in ipairs(due) do
    local tkey = ticket_key(shopper)
    local t = redis.call('HMGET', tkey, 'state', 'payingUntil')
    if t[1] == 'paying' then
      -- a claim made before the paying index existed
      if num(t[2], 0) <= now and not redis.call('ZSCORE', K_PAYING, shopper) then table.insert(stuck, shopper) end
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

/**
 * The per-shopper limit on asking for a ticket, counted where the ask is answered (so across every
 * replica, and without a Redis command of its own): a fixed window of `window` ms, opened by the
 * first ask. Returns nil while within `limit` asks (0: no limit), else the ms until the window ends.
 */
const askLimitLua = `
local function over_ask_limit(akey, limit, window)
  if limit <= 0 then return nil end
  local asks = redis.call('INCR', akey)
  if asks == 1 then redis.call('PEXPIRE', akey, window) end
  if asks <= limit then return nil end
  local left = redis.call('PTTL', akey)
  -- a count that somehow lost its expiry must not lock the shopper out for good
  if left < 0 then
    redis.call('PEXPIRE', akey, window)
    left = window
  end
  return left
end
`;

/**
 * ARGV: pendingTtlMs, askLimit, askWindowMs, then one jti per ticket. KEYS: fixed…, then per ticket
 * its ticket key and its shopper's asks key. Reserves a whole batch of ticket requests in one call,
 * each as if alone and in order (a shopper asking twice in one batch finds their own first request
 * pending). Every ask counts against its shopper's limit; one over it changes nothing else. Returns
 * one {outcome, …} per ticket.
 */
export const reserveTicketsLua = `${prelude}${askLimitLua}
local now, pending_ttl, ask_limit, ask_window = redis_now(), tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local cfg = redis.call('HMGET', K_CFG, 'stock', 'opensAt', 'closesAt')
local sold_out = num(redis.call('GET', K_SOLD), 0) >= num(cfg[1], 0)
-- Arrivals after the open join behind the drawn pre-queue: held back until the draw is written.
local drawing = num(redis.call('HGET', K_CFG, 'prequeueMs'), 0) > 0 and redis.call('HGET', K_DRAW, 'state') ~= 'done'
local results = {}
for j = 1, (#KEYS - 7) / 2 do
  local tkey, akey, jti = KEYS[6 + 2 * j], KEYS[7 + 2 * j], ARGV[3 + j]
  local result
  local wait_ms = cfg[1] and over_ask_limit(akey, ask_limit, ask_window)
  if cfg[1] == false then result = {'unknown_deal'}
  elseif wait_ms then result = {'rate_limited', wait_ms} else
    local t = redis.call('HMGET', tkey, 'state', 'token', 'qn', 'exp', 'jti')
    local state = t[1]
    if state == 'purchased' then result = {'purchased'}
    elseif state == 'prequeued' then result = {'prequeued', t[2]}
    -- The same jti is this request's own reservation, re-sent by the client after a reconnect.
    elseif state == 'pending' then result = {t[5] == jti and 'reserved' or 'pending'}
    elseif state == 'admitted' or state == 'paying' or (state == 'waiting' and num(t[4], 0) > now) then
      result = {'existing', t[2], t[3]}
    elseif now < num(cfg[2], 0) then result = {'not_open', cfg[2]}
    elseif cfg[3] ~= '' and now >= num(cfg[3], now + 1) then result = {'closed', cfg[3]}
    elseif sold_out then result = {'sold_out'}
    elseif drawing then result = {'drawing'}
    else
      redis.call('DEL', tkey)
      redis.call('HSET', tkey, 'state', 'pending', 'jti', jti)
      redis.call('PEXPIRE', tkey, pending_ttl)
      result = {'reserved'}
    end
  end
  results[#results + 1] = result
end
return results
`;

/**
 * ARGV: five per ticket: jti, qn, token, expMs, ttlMs. KEYS: fixed…, one ticket key per ticket.
 * Records a produced batch's tickets in one call; returns 1 per ticket recorded (or already
 * recorded: a repeated call changes nothing, so it can never move a ticket back to waiting), else 0.
 */
export const finalizeTicketsLua = `${prelude}
local results, issued, last_qn = {}, 0, num(redis.call('HGET', K_STATS, 'lastQn'), 0)
for i = 8, #KEYS do
  local tkey, a = KEYS[i], (i - 8) * 5
  local jti, qn, token, exp, ttl = ARGV[a + 1], tonumber(ARGV[a + 2]), ARGV[a + 3], ARGV[a + 4], tonumber(ARGV[a + 5])
  local t = redis.call('HMGET', tkey, 'jti', 'state', 'qn')
  local recorded = 0
  if t[1] == jti then
    if t[2] ~= 'pending' then
      if tonumber(t[3]) == qn then recorded = 1 end
    else
      redis.call('HSET', tkey, 'state', 'waiting', 'qn', qn, 'token', token, 'exp', exp)
      redis.call('PEXPIRE', tkey, ttl)
      issued = issued + 1
      if qn > last_qn then last_qn = qn end
      recorded = 1
    end
  end
  results[#results + 1] = recorded
end
if issued > 0 then
  redis.call('HINCRBY', K_STATS, 'issued', issued)
  redis.call('HSET', K_STATS, 'lastQn', last_qn)
end
return results
`;

/** ARGV: one jti per ticket. KEYS: fixed…, one ticket key per ticket. Undoes reservations whose tickets could not be queued. */
export const abortTicketsLua = `${prelude}
local aborted = 0
for i = 8, #KEYS do
  local t = redis.call('HMGET', KEYS[i], 'jti', 'state')
  if t[1] == ARGV[i - 7] and t[2] == 'pending' then
    redis.call('DEL', KEYS[i])
    aborted = aborted + 1
  end
end
return aborted
`;

/**
 * The admission of tickets in log order (the body of admitBatchLua and admitAtOnceLua). ARGV: count,
 * then per ticket in log order: qn, shopper, jti, expMs, valid (1/0); then acceptGap (1/0).
 * KEYS: fixed…, one ticket key per ticket. Processes tickets in order and stops at the first one
 * that must wait (a unit, a slot, the inflow rate, a pause or its own answer), which stays unprocessed.
 * Returns {processed, blockedBy, admitted, invalid, expired, soldout, duplicate, checkoutsExpired, served, retryInMs}.
 * A batch that starts past the next unprocessed queue number means Redis lost admissions it had
 * made (a failover to a replica that lagged): nothing is done and blockedBy is 'rewind', so the
 * caller reads the log again from `served` (or, when the log no longer holds those messages,
 * sends the batch again with acceptGap).
 */
const admitInOrder = /* lua */ `
local now, count = redis_now(), tonumber(ARGV[1])
local cfg = redis.call('HMGET', K_CFG, 'stock', 'cap', 'windowMs', 'paused', 'inflowPerMin')
if cfg[1] == false then return {0, 'unknown_deal', 0, 0, 0, 0, 0, 0, 0, 0} end
local stock, cap, window, paused = tonumber(cfg[1]), tonumber(cfg[2]), tonumber(cfg[3]), cfg[4] == '1'
-- The inflow rate as a generic cell rate algorithm: each admission moves the theoretical arrival
-- time (tat) on by one interval; a burst of up to a tenth of a second's worth may go in together.
local K_INFLOW = PREFIX .. 'inflow'
local per_min = num(cfg[5], 0)
local interval = per_min > 0 and 60000 / per_min or 0
local tolerance = per_min > 0 and interval * (math.max(1, math.floor(per_min / 600)) - 1) or 0
local tat = per_min > 0 and num(redis.call('GET', K_INFLOW), 0) or 0
local retry_in = 0
local checkouts_expired = expire_due(now, 1000)
local served = num(redis.call('GET', K_SERVED), 0)
local sold = num(redis.call('GET', K_SOLD), 0)
local held = redis.call('ZCARD', K_ACTIVE)
if count > 0 and tonumber(ARGV[2]) > served + 1 and ARGV[2 + count * 5] ~= '1' then return {0, 'rewind', 0, 0, 0, 0, 0, checkouts_expired, served, 0} end
local processed, blocked = 0, ''
local admitted, invalid, expired, soldout, duplicate = 0, 0, 0, 0, 0
for i = 1, count do
  local at = 1 + (i - 1) * 5
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
    elseif t[2] == 'pending' or t[2] == 'prequeued' then
      -- written to the log, its record not yet updated (a reservation, or a drawn batch about to be placed)
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
    elseif interval > 0 and tat - tolerance > now then
      blocked = 'rate'
      retry_in = math.ceil(tat - tolerance - now)
    else
      if interval > 0 then tat = math.max(tat, now) + interval end
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
if admitted > 0 and interval > 0 then redis.call('SET', K_INFLOW, tostring(tat)) end
return {processed, blocked, admitted, invalid, expired, soldout, duplicate, checkouts_expired, served, retry_in}
`;

/** The consumer's admission of the next tickets of a deal's log: see admitInOrder. */
export const admitBatchLua = `${prelude}${admitInOrder}`;

/**
 * ARGV and KEYS as admitBatchLua, for one ticket just finalized. In a WhenBusy deal, admits it at
 * once when it is the head of the line (every queue number before it processed), so nobody can
 * overtake a shopper already waiting; anything else leaves it to the consumer ('queued'), or
 * says the consumer already dealt with it ('processed').
 */
export const admitAtOnceLua = `${prelude}
if redis.call('HGET', K_CFG, 'queueMode') ~= 'WhenBusy' then return {0, 'queued', 0, 0, 0, 0, 0, 0, 0, 0} end
local head = num(redis.call('GET', K_SERVED), 0) + 1
-- the consumer was quicker: the ticket's fate is in its record
if tonumber(ARGV[2]) < head then return {0, 'processed', 0, 0, 0, 0, 0, 0, 0, 0} end
if tonumber(ARGV[2]) > head then return {0, 'queued', 0, 0, 0, 0, 0, 0, 0, 0} end
${admitInOrder}`;

/** ARGV: limit. KEYS: fixed…. Returns {freed, stuck shoppers…}: stuck ones are paid for by a payment whose lease lapsed. */
export const expireDueLua = `${prelude}
local freed, stuck = expire_due(redis_now(), tonumber(ARGV[1]))
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
 * ARGV: shopper, qn, leaseMs, attempt (a mark unique to the paying request). KEYS: fixed…, ticket. Marks an open checkout as being paid for, so
 * the sweeper leaves its unit alone until the payment settles or its lease lapses. Each claim gets
 * a new fence (a counter per ticket): aborting or completing a claim needs its fence, so a payment
 * that outlived its lease cannot touch a claim that replaced it. A claim whose lease lapsed is
 * answered 'lapsed' with its fence, for the caller to settle (as the sweeper would) and claim again.
 * Returns {'claimed', deadline, fence}, {'in_progress', payingUntil}, {'lapsed', fence}, {'purchased', orderId},
 * {'expired', checkoutsExpired} or {'not_admitted'}.
 */
export const claimForPaymentLua = `${prelude}
local shopper, qn, lease, attempt = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local now = redis_now()
local tkey = KEYS[8]
local t = redis.call('HMGET', tkey, 'state', 'qn', 'deadline', 'orderId', 'payingUntil', 'fence', 'attempt')
if t[2] ~= qn then return {'not_admitted'} end
if t[1] == 'purchased' then return {'purchased', t[4]} end
if t[1] == 'paying' then
  -- The same attempt's claim, re-sent by the Redis client after a reconnect: it is this request's own.
  if num(t[5], 0) > now and attempt ~= '' and t[7] == attempt then return {'claimed', t[3], t[6]} end
  if num(t[5], 0) > now then return {'in_progress', t[5]} end
  return {'lapsed', t[6] or ''}
end
if t[1] == 'expired' then return {'expired'} end
if t[1] ~= 'admitted' then return {'not_admitted'} end
if num(t[3], 0) <= now then
  local freed = expire_due(now, 1000)
  return {'expired', freed}
end
local fence = redis.call('HINCRBY', tkey, 'fence', 1)
redis.call('HSET', tkey, 'state', 'paying', 'payingUntil', now + lease, 'attempt', attempt)
redis.call('ZADD', K_PAYING, now + lease, shopper)
return {'claimed', t[3], fence}
`;

/**
 * ARGV: shopper, qn, fence. KEYS: fixed…, ticket. A payment that did not go through: the checkout
 * stays open until its deadline (the sweeper ends it if that has passed). Only the claim's own fence releases it.
 */
export const abortPaymentLua = `${prelude}
local tkey = KEYS[8]
local t = redis.call('HMGET', tkey, 'state', 'qn', 'fence')
if t[1] ~= 'paying' or t[2] ~= ARGV[2] or (t[3] or '') ~= ARGV[3] then return 0 end
redis.call('HSET', tkey, 'state', 'admitted')
redis.call('HDEL', tkey, 'payingUntil')
redis.call('ZREM', K_PAYING, ARGV[1])
return 1
`;

/**
 * ARGV: shopper, qn, orderId, soldInPostgres, fence ('' when settling from Postgres's orders).
 * KEYS: fixed…, ticket. Records a paid order: the slot is freed, the unit is sold. With a fence,
 * only the claim it belongs to may be completed; without, Postgres's order is the truth and wins.
 * Returns 1 when recorded, 0 when it already was, -1 when the fence no longer holds.
 */
export const completePaymentLua = `${prelude}
local shopper, qn, order_id, sold_in_db, fence = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local tkey = KEYS[8]
local t = redis.call('HMGET', tkey, 'state', 'fence')
if t[1] == 'purchased' then return 0 end
if fence ~= '' and (t[1] ~= 'paying' or (t[2] or '') ~= fence) then return -1 end
redis.call('ZREM', K_ACTIVE, shopper)
redis.call('ZREM', K_PAYING, shopper)
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
 * currency, product, soldInPostgres, queueMode, inflowPerMin ('' for none), prequeueMs, drawSeed, drawCommitment,
 * powDifficulty, powMaxDifficulty ('' for no proof of work).
 * KEYS: fixed…. Applies a deal's settings; safe to repeat.
 */
export const applyDealLua = `${prelude}
-- A new inflow rate applies from now: a theoretical arrival time set by a slower rate is brought within one new interval.
if (redis.call('HGET', K_CFG, 'inflowPerMin') or '') ~= ARGV[13] then
  local K_INFLOW = PREFIX .. 'inflow'
  local bound = ARGV[13] == '' and 0 or redis_now() + 60000 / tonumber(ARGV[13])
  if num(redis.call('GET', K_INFLOW), 0) > bound then redis.call('SET', K_INFLOW, tostring(bound)) end
end
redis.call('HSET', K_CFG, 'stock', ARGV[1], 'cap', ARGV[2], 'windowMs', ARGV[3], 'opensAt', ARGV[4],
  'closesAt', ARGV[5], 'paused', ARGV[6], 'ticketTtlMs', ARGV[7], 'price', ARGV[8], 'currency', ARGV[9], 'product', ARGV[10],
  'queueMode', ARGV[12], 'inflowPerMin', ARGV[13], 'prequeueMs', ARGV[14], 'powDifficulty', ARGV[17], 'powMaxDifficulty', ARGV[18])
-- The draw's seed is committed once, the first time the deal has a pre-queue, and never replaced.
if tonumber(ARGV[14]) > 0 and redis.call('HSETNX', K_DRAW, 'seed', ARGV[15]) == 1 then
  redis.call('HSET', K_DRAW, 'commitment', ARGV[16], 'state', 'scheduled', 'placed', 0, 'fence', 0)
end
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
  redis.call('HMGET', K_DRAW, 'commitment', 'state', 'seed'),
  redis.call('HLEN', K_PREQUEUE),
}
`;

/**
 * ARGV: jti, token (the signed pre-queue ticket), shopper, askLimit, askWindowMs. KEYS: fixed…,
 * ticket, the shopper's asks. Takes a shopper into the deal's pre-queue while it is open (from
 * opensAt − prequeue until opensAt): one per shopper, so asking again returns the same ticket. The
 * ask counts against the shopper's limit, as in reserveTicketsLua. Returns {'prequeued'},
 * {'existing', token}, {'purchased'}, {'not_prequeue', opensAt} (no pre-queue, not yet open, or the
 * open has come), {'rate_limited', ms} or {'unknown_deal'}.
 */
export const prequeueTicketLua = `${prelude}${askLimitLua}
local now, jti, token, shopper = redis_now(), ARGV[1], ARGV[2], ARGV[3]
local tkey = KEYS[8]
local cfg = redis.call('HMGET', K_CFG, 'opensAt', 'prequeueMs', 'ticketTtlMs', 'windowMs')
if cfg[1] == false then return {'unknown_deal'} end
local wait_ms = over_ask_limit(KEYS[9], tonumber(ARGV[4]), tonumber(ARGV[5]))
if wait_ms then return {'rate_limited', wait_ms} end
local opens, prequeue = num(cfg[1], 0), num(cfg[2], 0)
local t = redis.call('HMGET', tkey, 'state', 'token')
if t[1] == 'prequeued' then return {'existing', t[2]} end
if t[1] == 'purchased' then return {'purchased'} end
if prequeue <= 0 or now < opens - prequeue or now >= opens or t[1] then return {'not_prequeue', cfg[1]} end
redis.call('HSET', tkey, 'state', 'prequeued', 'jti', jti, 'token', token)
redis.call('PEXPIRE', tkey, opens - now + num(cfg[3], 0) + num(cfg[4], 0))
redis.call('HSET', K_PREQUEUE, shopper, jti)
return {'prequeued'}
`;

/**
 * ARGV: holder, leaseMs. KEYS: fixed…. Takes (or renews) the lock on a deal's draw once the open
 * has come. A new holder gets a new fence; only the current fence may place a batch, so a process
 * that lost its lease (paused, partitioned) cannot place anything after another took over.
 * Returns {'claimed', fence, placedBatches, seed}, {'busy'}, {'done'}, {'not_yet', opensAt} or {'none'}.
 */
export const claimDrawLua = `${prelude}
local now, holder, lease = redis_now(), ARGV[1], tonumber(ARGV[2])
local opens = num(redis.call('HGET', K_CFG, 'opensAt'), 0)
local d = redis.call('HMGET', K_DRAW, 'state', 'fence', 'placed', 'seed')
if d[1] == false then return {'none'} end
if d[1] == 'done' then return {'done'} end
if now < opens then return {'not_yet', opens} end
local current = redis.call('GET', K_DRAW_LOCK)
if current and current ~= holder then return {'busy'} end
local fence = num(d[2], 0)
if not current then
  fence = redis.call('HINCRBY', K_DRAW, 'fence', 1)
  redis.call('HSET', K_DRAW, 'state', 'drawing', 'holder', holder)
end
redis.call('SET', K_DRAW_LOCK, holder, 'PX', lease)
return {'claimed', fence, num(d[3], 0), d[4]}
`;

/**
 * ARGV: fence, batch (its index in the draw), last (1/0), expMs, leaseMs, holder, then per
 * shopper in draw order: shopper, jti, qn. KEYS: fixed…, one ticket key per shopper. Places one
 * batch of drawn shoppers the drawing process has written to the log: each pre-queued record
 * becomes a waiting ticket with its queue number. Only the lock's current fence may place, and
 * only the next batch: a repeated or stale call changes nothing. Returns 'placed', 'fenced' or 'stale'.
 */
export const placeDrawnLua = `${prelude}
local fence, batch, last, exp, lease, holder = ARGV[1], tonumber(ARGV[2]), ARGV[3] == '1', ARGV[4], tonumber(ARGV[5]), ARGV[6]
local d = redis.call('HMGET', K_DRAW, 'fence', 'placed', 'state')
if d[1] ~= fence or redis.call('GET', K_DRAW_LOCK) ~= holder then return 'fenced' end
if num(d[2], 0) ~= batch or d[3] == 'done' then return 'stale' end
local placed, last_qn = 0, 0
for i = 1, (#ARGV - 6) / 3 do
  local at = 7 + (i - 1) * 3
  local tkey = KEYS[7 + i]
  local t = redis.call('HMGET', tkey, 'state', 'jti')
  local qn = tonumber(ARGV[at + 2])
  if t[1] == 'prequeued' and t[2] == ARGV[at + 1] then
    redis.call('HSET', tkey, 'state', 'waiting', 'qn', qn, 'exp', exp, 'token', '')
    placed = placed + 1
  end
  if qn > last_qn then last_qn = qn end
end
if placed > 0 then redis.call('HINCRBY', K_STATS, 'issued', placed) end
if last_qn > num(redis.call('HGET', K_STATS, 'lastQn'), 0) then redis.call('HSET', K_STATS, 'lastQn', last_qn) end
redis.call('HSET', K_DRAW, 'placed', batch + 1)
if last then
  redis.call('HSET', K_DRAW, 'state', 'done')
  redis.call('DEL', K_DRAW_LOCK)
  redis.call('PUBLISH', K_EVENTS, 'config')
else
  redis.call('PEXPIRE', K_DRAW_LOCK, lease)
end
redis.call('PUBLISH', K_EVENTS, 'changed')
return 'placed'
`;

/** ARGV: shopper, qn, token. KEYS: fixed…, ticket. Keeps the drawn ticket signed on first demand (the draw itself signs nothing). */
export const storeDrawnTokenLua = `${prelude}
local t = redis.call('HMGET', KEYS[8], 'qn', 'token')
if t[1] ~= ARGV[2] then return '' end
if t[2] and t[2] ~= '' then return t[2] end
redis.call('HSET', KEYS[8], 'token', ARGV[3])
return ARGV[3]
`;
