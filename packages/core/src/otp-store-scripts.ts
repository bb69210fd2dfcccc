/** Lua scripts of OtpStore. */

// Each script runs atomically in Redis, so concurrent verifications and status updates from
// several API replicas and workers cannot interleave between a check and a write.
export const VERIFY_SCRIPT = `
local key = KEYS[1]
if redis.call('EXISTS', key) == 0 then return {'not_found'} end
local status = redis.call('HGET', key, 'status')
if status == 'verified' then return {'already_verified'} end
if redis.call('HGET', key, 'superseded') == '1' then return {'superseded'} end
local failed = tonumber(redis.call('HGET', key, 'failedVerifications') or '0')
local max = tonumber(redis.call('HGET', key, 'maxVerifyAttempts'))
if failed >= max then return {'locked'} end
if tonumber(ARGV[1]) > tonumber(redis.call('HGET', key, 'expiresAt')) then return {'expired'} end
if ARGV[2] == '1' then
  redis.call('HSET', key, 'status', 'verified', 'verifiedAt', ARGV[1])
  return {'valid'}
end
failed = redis.call('HINCRBY', key, 'failedVerifications', 1)
return {'invalid', tostring(max - failed)}
`;

// Moves the status forward unless the record is already in a final state.
export const TRANSITION_SCRIPT = `
local key = KEYS[1]
local status = redis.call('HGET', key, 'status')
if not status then return 0 end
if status == 'verified' then return 0 end
if status == 'sent' and ARGV[1] ~= 'sent' then return 0 end
redis.call('HSET', key, 'status', ARGV[1])
for i = 2, #ARGV, 2 do redis.call('HSET', key, ARGV[i], ARGV[i + 1]) end
return 1
`;

// Applies one receipt to the record at `key`. Only submitted -> delivered, submitted -> undelivered
// and undelivered -> delivered change anything. Shared by RECEIPT_SCRIPT and SUBMISSION_SCRIPT.
const APPLY_RECEIPT_LUA = `
local function apply_receipt(key, provider, messageId, state, errorCode, at)
  local current = redis.call('HGET', key, 'deliveryStatus')
  if not current then
    if redis.call('EXISTS', key) == 0 then return 'missing' end
    return 'superseded'
  end
  if redis.call('HGET', key, 'deliveryProvider') ~= provider or redis.call('HGET', key, 'deliveryMessageId') ~= messageId then
    return 'superseded'
  end
  if current == state then return 'duplicate' end
  if current == 'delivered' or state == 'submitted' then return 'ignored' end
  redis.call('HSET', key, 'deliveryStatus', state, 'deliveryAt', at)
  if errorCode ~= '' then redis.call('HSET', key, 'deliveryErrorCode', errorCode) else redis.call('HDEL', key, 'deliveryErrorCode') end
  return 'applied'
end
`;

// Indexes a provider message id and starts its receipt state. A new message (a re-send) replaces
// the tracked one unless the earlier one was already delivered. The index lives as long as the record.
// Receipts that arrived before the index (KEYS[3], kept by HOLD_RECEIPT_SCRIPT) are applied in
// arrival order in the same step, so none is lost to the race with the provider's callback.
// Returns {0} when the record is gone, else {1, state, errorCode, policy, result, ...} per pending receipt.
export const SUBMISSION_SCRIPT = `${APPLY_RECEIPT_LUA}
local key = KEYS[1]
local ttl = redis.call('PTTL', key)
if ttl <= 0 then return {0} end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ttl)
if redis.call('HGET', key, 'deliveryStatus') ~= 'delivered' then
  redis.call('HSET', key, 'deliveryStatus', 'submitted', 'deliveryProvider', ARGV[2], 'deliveryMessageId', ARGV[3], 'deliveryAt', ARGV[4])
  redis.call('HDEL', key, 'deliveryErrorCode')
end
local out = {1}
for _, raw in ipairs(redis.call('LRANGE', KEYS[3], 0, -1)) do
  local ok, held = pcall(cjson.decode, raw)
  if ok and type(held) == 'table' and type(held.state) == 'string' then
    local errorCode = type(held.errorCode) == 'string' and held.errorCode or ''
    local at = tostring(held.at or ARGV[4])
    local result = apply_receipt(key, ARGV[2], ARGV[3], held.state, errorCode, at)
    table.insert(out, held.state)
    table.insert(out, errorCode)
    table.insert(out, type(held.policy) == 'string' and held.policy or '')
    table.insert(out, result)
  end
end
redis.call('DEL', KEYS[3])
return out
`;

// Keeps a receipt whose message id is not indexed yet: the provider may call back before the
// worker recorded the submission. KEYS: index, pending list. ARGV: entry, ttl ms, max entries.
// Returns the otp id instead when the index appeared meanwhile, so the caller applies it at once.
export const HOLD_RECEIPT_SCRIPT = `
local id = redis.call('GET', KEYS[1])
if id then return id end
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1)
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return false
`;

// Applies one receipt. ARGV: provider, messageId, state, errorCode, at.
export const RECEIPT_SCRIPT = `${APPLY_RECEIPT_LUA}
return apply_receipt(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])
`;

// Swaps the recipient index to the new id and marks the previous record superseded, in one step,
// so two sends racing from different replicas cannot both stay valid.
export const SUPERSEDE_SCRIPT = `
local previous = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2])
if not previous or previous == ARGV[1] then return false end
local old = ARGV[3] .. previous
if redis.call('EXISTS', old) == 1 then redis.call('HSET', old, 'superseded', '1') end
return previous
`;
