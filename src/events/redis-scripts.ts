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
 * Applies a job's events to its videos exactly once. KEYS: per video its stats blob,
 * applied-markers ZSET and trend blob; the first video's markers ZSET holds the marker
 * of this call (member = job marker, score = time applied). ARGV: now, markerWindowMs,
 * number of known fields, job marker, then per video: event count, then per event:
 * trend1h ('' = none), trend24h, trend30d, count of delta pairs, then (field index, delta)
 * pairs. If the marker is already there, nothing is applied again. Counters are float64
 * little-endian (see src/features/video-stats.ts); fields past the known ones (written
 * by a newer version) are kept as they are. Trend scores are combined in log space (see
 * trending.ts); a 16-byte trend blob (no 30-day score yet) starts its 30-day score at
 * the event. Returns per video its trend blob (or nil).
 *
 * One call carries all the videos of a job on a single Redis node; on a cluster one
 * call per video, since a script may only touch one slot.
 */
export const APPLY_VIDEOS_LUA = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local known = tonumber(ARGV[3])
local out = {}
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
if redis.call('ZADD', KEYS[2], 'NX', now, ARGV[4]) == 0 then
  for v = 1, #KEYS / 3 do out[v] = redis.call('GET', KEYS[3 * v]) end
  return out
end
redis.call('PEXPIRE', KEYS[2], window)
local function logaddexp(a, b)
  if a > b then return a + math.log(1 + math.exp(b - a)) end
  return b + math.log(1 + math.exp(a - b))
end
local a = 5
for v = 1, #KEYS / 3 do
  local kStats, kTrend = KEYS[3 * v - 2], KEYS[3 * v]
  local raw = redis.call('GET', kStats) or ''
  local n = math.floor(#raw / 8)
  local stats = {}
  for f = 1, n do stats[f] = struct.unpack('<d', raw, (f - 1) * 8 + 1) end
  while n < known do
    n = n + 1
    stats[n] = 0
  end
  local trend = nil
  local events = tonumber(ARGV[a])
  a = a + 1
  for e = 1, events do
    local t1, t24, t30, pairs = ARGV[a], ARGV[a + 1], ARGV[a + 2], tonumber(ARGV[a + 3])
    for p = a + 4, a + 3 + 2 * pairs, 2 do
      local f = tonumber(ARGV[p])
      stats[f] = stats[f] + tonumber(ARGV[p + 1])
    end
    a = a + 4 + 2 * pairs
    if t1 ~= '' then
      if trend == nil then
        local tr = redis.call('GET', kTrend)
        if tr and #tr >= 16 then
          trend = { struct.unpack('<d', tr, 1), struct.unpack('<d', tr, 9), nil }
          if #tr >= 24 then trend[3] = struct.unpack('<d', tr, 17) end
        else
          trend = false
        end
      end
      local i1, i24, i30 = tonumber(t1), tonumber(t24), tonumber(t30)
      if not trend then
        trend = { i1, i24, i30 }
      else
        trend = { logaddexp(trend[1], i1), logaddexp(trend[2], i24), trend[3] and logaddexp(trend[3], i30) or i30 }
      end
    end
  end
  local parts = {}
  for f = 1, n do parts[f] = struct.pack('<d', stats[f]) end
  local tail = ''
  if #raw > n * 8 then tail = string.sub(raw, n * 8 + 1) end
  redis.call('SET', kStats, table.concat(parts) .. tail)
  if trend then
    local blob = struct.pack('<ddd', trend[1], trend[2], trend[3])
    redis.call('SET', kTrend, blob)
    out[v] = blob
  else
    out[v] = redis.call('GET', kTrend)
  end
end
return out
`;
