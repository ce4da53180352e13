// Package redis holds the shared implementations of the rate-limit and
// spend stores: every gateway replica pointing at the same Redis sees the
// same counters. Each check-and-charge is one Lua script, so it is atomic
// across replicas and exact under any concurrency; time comes from the
// Redis server (TIME), so replicas with skewed clocks still agree.
//
// Scripts touch several keys at once, so a Redis Cluster would need them
// in one slot; the gateway targets a single Redis (or a failover pair).
package redis

import (
	"context"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/aigateway/aigateway/internal/store"
)

// Limiter is the Redis store.Limiter.
type Limiter struct {
	c      goredis.UniversalClient
	prefix string
}

// NewLimiter returns a limiter whose keys start with prefix (e.g. "aig:").
func NewLimiter(c goredis.UniversalClient, prefix string) *Limiter {
	return &Limiter{c: c, prefix: prefix + "rl:"}
}

// takeScript checks every window and charges all of them only when each
// has room. ARGV: n, then per window limit, period ms, fixed (0/1), cost.
// Returns allowed, then per window used, reset ms, retry ms, allowed,
// bucket.
var takeScript = goredis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = tonumber(ARGV[1])
local out = {1}
local plan = {}
for i = 1, n do
  local a = 2 + (i - 1) * 4
  local limit, period, fixed, cost = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), ARGV[a + 2] == '1', tonumber(ARGV[a + 3])
  local used, reset, retry, bucket, r, nb = 0, 0, 0, 0, 0, 0
  if fixed then
    bucket = math.floor(now / period)
    used = tonumber(redis.call('GET', KEYS[i] .. ':' .. bucket) or '0')
    reset = (bucket + 1) * period - now
    retry = reset
  else
    r = math.max(1, math.floor(period / 60))
    nb = math.floor((period + r - 1) / r)
    bucket = math.floor(now / r)
    local oldest = bucket - nb + 1
    local h = redis.call('HGETALL', KEYS[i])
    local live = {}
    local newest = -1
    for j = 1, #h, 2 do
      local b, c = tonumber(h[j]), tonumber(h[j + 1])
      if b < oldest then
        redis.call('HDEL', KEYS[i], h[j])
      else
        used = used + c
        live[#live + 1] = {b, c}
        if b > newest then newest = b end
      end
    end
    if newest >= 0 then reset = (newest + nb) * r - now end
    local need = used + cost - limit
    if need > 0 then
      table.sort(live, function(x, y) return x[1] < y[1] end)
      retry = period
      local freed = 0
      for _, e in ipairs(live) do
        freed = freed + e[2]
        if freed >= need then retry = (e[1] + nb) * r - now break end
      end
    end
  end
  if used < 0 then used = 0 end
  local ok = 0
  if used + cost <= limit then ok = 1 else out[1] = 0 end
  plan[i] = {fixed, period, cost, bucket, r, nb}
  out[#out + 1] = used
  out[#out + 1] = reset
  out[#out + 1] = retry
  out[#out + 1] = ok
  out[#out + 1] = bucket
end
if out[1] == 1 then
  for i = 1, n do
    local p = plan[i]
    local base = 1 + (i - 1) * 5
    if p[1] then
      local k = KEYS[i] .. ':' .. p[4]
      redis.call('INCRBY', k, p[3])
      redis.call('PEXPIRE', k, p[2] + 1000)
    else
      redis.call('HINCRBY', KEYS[i], p[4], p[3])
      redis.call('PEXPIRE', KEYS[i], p[2] + p[5])
      out[base + 2] = (p[4] + p[6]) * p[5] - now
    end
    out[base + 1] = out[base + 1] + p[3]
    out[base + 3] = 0
  end
end
return out
`)

// Take implements store.Limiter.
func (l *Limiter) Take(ctx context.Context, ws []store.Window) (store.TakeResult, error) {
	res := store.TakeResult{States: make([]store.WindowState, len(ws))}
	if len(ws) == 0 {
		res.Allowed = true
		return res, nil
	}
	keys := make([]string, len(ws))
	args := make([]any, 0, 1+4*len(ws))
	args = append(args, len(ws))
	for i, w := range ws {
		keys[i] = l.prefix + w.Key
		fixed := 0
		if w.Fixed {
			fixed = 1
		}
		args = append(args, w.Limit, max(w.Period.Milliseconds(), 1), fixed, w.Cost)
	}
	vals, err := takeScript.Run(ctx, l.c, keys, args...).Int64Slice()
	if err != nil {
		return res, fmt.Errorf("taking rate limit: %w", err)
	}
	if len(vals) != 1+5*len(ws) {
		return res, fmt.Errorf("taking rate limit: unexpected reply of %d values", len(vals))
	}
	res.Allowed = vals[0] == 1
	if res.Allowed {
		res.Charges = make([]store.Charge, len(ws))
	}
	for i, w := range ws {
		v := vals[1+5*i:]
		res.States[i] = store.WindowState{
			Limit: w.Limit, Used: v[0], Reset: msDur(v[1]), RetryAfter: msDur(v[2]), Allowed: v[3] == 1 || res.Allowed,
		}
		if res.Allowed {
			res.Charges[i] = store.Charge{Key: w.Key, Period: w.Period, Fixed: w.Fixed, Bucket: v[4]}
		}
	}
	return res, nil
}

// adjustScript adds ARGV[4] to a charged bucket if it is still counted.
// ARGV: period ms, fixed (0/1), bucket, delta.
var adjustScript = goredis.NewScript(`
local period, fixed, bucket, delta = tonumber(ARGV[1]), ARGV[2] == '1', ARGV[3], tonumber(ARGV[4])
if fixed then
  local k = KEYS[1] .. ':' .. bucket
  if redis.call('EXISTS', k) == 1 then redis.call('INCRBY', k, delta) end
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local r = math.max(1, math.floor(period / 60))
local nb = math.floor((period + r - 1) / r)
if tonumber(bucket) > math.floor(now / r) - nb and redis.call('HEXISTS', KEYS[1], bucket) == 1 then
  redis.call('HINCRBY', KEYS[1], bucket, delta)
end
return 0
`)

// Adjust implements store.Limiter.
func (l *Limiter) Adjust(ctx context.Context, c store.Charge, delta int64) error {
	if delta == 0 {
		return nil
	}
	fixed := 0
	if c.Fixed {
		fixed = 1
	}
	err := adjustScript.Run(ctx, l.c, []string{l.prefix + c.Key}, max(c.Period.Milliseconds(), 1), fixed, c.Bucket, delta).Err()
	if err != nil {
		return fmt.Errorf("adjusting rate limit: %w", err)
	}
	return nil
}

// acquireScript takes a concurrency slot: a sorted set of holders scored
// by lease expiry. ARGV: limit, lease ms, holder id.
var acquireScript = goredis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1
`)

// Acquire implements store.Limiter.
func (l *Limiter) Acquire(ctx context.Context, key string, limit int64, lease time.Duration) (func(), bool, error) {
	k := l.prefix + "conc:" + key
	holder := store.RandomID()
	n, err := acquireScript.Run(ctx, l.c, []string{k}, limit, max(lease.Milliseconds(), 1), holder).Int64()
	if err != nil {
		return nil, false, fmt.Errorf("acquiring concurrency slot: %w", err)
	}
	if n != 1 {
		return nil, false, nil
	}
	return func() {
		// released after the request, whose context may be gone
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		l.c.ZRem(ctx, k, holder)
	}, true, nil
}

// Spend is the Redis store.SpendStore; amounts are integer nano-dollars.
type Spend struct {
	c      goredis.UniversalClient
	prefix string
}

// NewSpend returns a spend store whose keys start with prefix.
func NewSpend(c goredis.UniversalClient, prefix string) *Spend {
	return &Spend{c: c, prefix: prefix + "spend:"}
}

// Spent implements store.SpendStore.
func (s *Spend) Spent(ctx context.Context, keys []string) ([]float64, error) {
	out := make([]float64, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = s.prefix + k
	}
	vals, err := s.c.MGet(ctx, full...).Result()
	if err != nil {
		return nil, fmt.Errorf("reading spend: %w", err)
	}
	for i, v := range vals {
		str, ok := v.(string)
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(str, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("reading spend: %w", err)
		}
		out[i] = float64(n) / 1e9
	}
	return out, nil
}

// addSpendScript adds ARGV[1] to every key, setting the expiry on first write.
var addSpendScript = goredis.NewScript(`
for i = 1, #KEYS do
  local v = redis.call('INCRBY', KEYS[i], ARGV[1])
  if v == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[i], ARGV[2]) end
end
return 0
`)

// AddSpend implements store.SpendStore.
func (s *Spend) AddSpend(ctx context.Context, keys []string, usd float64, ttl time.Duration) error {
	n := store.NanoUSD(usd)
	if n == 0 || len(keys) == 0 {
		return nil
	}
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = s.prefix + k
	}
	if err := addSpendScript.Run(ctx, s.c, full, n, max(ttl.Milliseconds(), 1)).Err(); err != nil {
		return fmt.Errorf("recording spend: %w", err)
	}
	return nil
}

func msDur(n int64) time.Duration { return time.Duration(max(n, 0)) * time.Millisecond }

var (
	_ store.Limiter    = (*Limiter)(nil)
	_ store.SpendStore = (*Spend)(nil)
)
