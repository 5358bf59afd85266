/**
 * Lua scripts of the event pipeline. Each touches the keys of one hash tag only (one
 * user or one video), so they run unchanged on Redis Cluster.
 */

/**
 * Ingest dedupe. KEYS[1] = the user's accepted-ids ZSET (score = acceptance time).
 * ARGV: now, windowMs, eventId... Returns 1 per id accepted now, 0 per id already seen
 * (earlier, or earlier in this same call).
 */
export const MARK_ACCEPTED_LUA = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local out = {}
for i = 3, #ARGV do
  out[#out + 1] = redis.call('ZADD', KEYS[1], 'NX', now, ARGV[i])
end
redis.call('PEXPIRE', KEYS[1], window)
return out
`;

/**
 * Compare-and-set of a user's state. KEYS: state, applied ZSET (member = eventId,
 * score = user seq), seen ZSET, meta hash. ARGV: expected state ('' = absent), new
 * state, appliedMax, seenMax, acceptedAt, appliedAt, nApplied, then nApplied pairs
 * (seq, eventId), then pairs (time, videoId) for the seen set. Writes nothing and
 * returns 0 if the state changed since it was read; else writes everything at once.
 */
export const COMMIT_USER_LUA = `
local current = redis.call('GET', KEYS[1]) or ''
if current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
local n = tonumber(ARGV[7])
local first = 8
if n > 0 then
  redis.call('ZADD', KEYS[2], unpack(ARGV, first, first + 2 * n - 1))
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(tonumber(ARGV[3]) + 1))
end
first = first + 2 * n
if first <= #ARGV then
  redis.call('ZADD', KEYS[3], 'GT', unpack(ARGV, first, #ARGV))
  redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -(tonumber(ARGV[4]) + 1))
end
redis.call('HSET', KEYS[4], 'acceptedAt', ARGV[5], 'appliedAt', ARGV[6])
return 1
`;

/**
 * Applies events to one video exactly once. KEYS: stats blob, applied-markers ZSET
 * (member = userId:eventId, score = time applied), trend blob. ARGV: now, windowMs,
 * nFields, then per event: marker, trend1h ('' = none), trend24h, nFields deltas.
 * Counters are float64 little-endian (see src/features/video-stats.ts); trend scores
 * are combined in log space (see trending.ts). Returns the trend blob (or nil).
 */
export const APPLY_VIDEO_LUA = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local nf = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
local stats = nil
local tail = ''
local trend = nil
local trendChanged = false
local function logaddexp(a, b)
  if a > b then return a + math.log(1 + math.exp(b - a)) end
  return b + math.log(1 + math.exp(a - b))
end
local i = 4
while i <= #ARGV do
  if redis.call('ZADD', KEYS[2], 'NX', now, ARGV[i]) == 1 then
    if not stats then
      stats = {}
      local raw = redis.call('GET', KEYS[1])
      for f = 1, nf do
        if raw and #raw >= f * 8 then stats[f] = struct.unpack('<d', raw, (f - 1) * 8 + 1) else stats[f] = 0 end
      end
      if raw and #raw > nf * 8 then tail = string.sub(raw, nf * 8 + 1) end
    end
    for f = 1, nf do stats[f] = stats[f] + tonumber(ARGV[i + 2 + f]) end
    if ARGV[i + 1] ~= '' then
      if trend == nil then
        local raw = redis.call('GET', KEYS[3])
        if raw and #raw >= 16 then
          local a, next = struct.unpack('<d', raw, 1)
          trend = { a, (struct.unpack('<d', raw, next)) }
        end
      end
      local t1, t24 = tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
      if trend == nil then trend = { t1, t24 } else trend = { logaddexp(trend[1], t1), logaddexp(trend[2], t24) } end
      trendChanged = true
    end
  end
  i = i + 3 + nf
end
redis.call('PEXPIRE', KEYS[2], window)
if stats then
  local parts = {}
  for f = 1, nf do parts[f] = struct.pack('<d', stats[f]) end
  redis.call('SET', KEYS[1], table.concat(parts) .. tail)
end
if trendChanged then
  local blob = struct.pack('<dd', trend[1], trend[2])
  redis.call('SET', KEYS[3], blob)
  return blob
end
return redis.call('GET', KEYS[3])
`;
