package armapi

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/azemu/azemu/internal/armid"
)

// RateLimits are Resource Manager's request budgets per subscription, in
// requests per hour, as token buckets: a bucket holds at most that many
// tokens and refills continuously at that many per hour, so a burst may
// spend a whole hour's budget at once (A: ARM's model; Azure's numbers are
// 12000 reads, 1200 writes and 15000 deletes). Zero leaves a class
// unlimited; all zero (the default) turns limiting off.
type RateLimits struct {
	Reads   int `json:"reads,omitempty"`   // GET, HEAD (and any other read-only method)
	Writes  int `json:"writes,omitempty"`  // PUT, PATCH, POST
	Deletes int `json:"deletes,omitempty"` // DELETE
}

// AzureRateLimits are Azure's documented per-subscription budgets.
var AzureRateLimits = RateLimits{Reads: 12000, Writes: 1200, Deletes: 15000}

// maxRate bounds a budget so that the bucket arithmetic, in tokens times
// nanoseconds per hour, stays within int64.
const maxRate = 1_000_000

// Enabled reports whether any class is limited.
func (l RateLimits) Enabled() bool { return l.Reads > 0 || l.Writes > 0 || l.Deletes > 0 }

// String is the flag form, "reads=12000,writes=1200,deletes=15000",
// naming only the limited classes.
func (l RateLimits) String() string {
	var parts []string
	for _, c := range []struct {
		name string
		n    int
	}{{"reads", l.Reads}, {"writes", l.Writes}, {"deletes", l.Deletes}} {
		if c.n > 0 {
			parts = append(parts, c.name+"="+strconv.Itoa(c.n))
		}
	}
	return strings.Join(parts, ",")
}

// ParseRateLimits reads the flag form: comma-separated class=perHour pairs
// (reads, writes, deletes); "" is no limit. "azure" stands for Azure's own
// numbers.
func ParseRateLimits(s string) (RateLimits, error) {
	var l RateLimits
	s = strings.TrimSpace(s)
	if s == "" {
		return l, nil
	}
	if strings.EqualFold(s, "azure") {
		return AzureRateLimits, nil
	}
	for _, part := range strings.Split(s, ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return l, fmt.Errorf("rate limit %q is not class=perHour", part)
		}
		n, err := strconv.Atoi(strings.TrimSpace(value))
		if err != nil || n < 0 || n > maxRate {
			return l, fmt.Errorf("rate limit %q: the budget must be a whole number of requests per hour from 0 to %d", part, maxRate)
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "reads":
			l.Reads = n
		case "writes":
			l.Writes = n
		case "deletes":
			l.Deletes = n
		default:
			return l, fmt.Errorf("rate limit %q: the class must be reads, writes or deletes", part)
		}
	}
	return l, nil
}

// bucket is one token bucket. level counts tokens times nanoseconds per
// hour, so that a refill of rate tokens per hour over d is exactly rate*d.
type bucket struct {
	level int64
	at    time.Time // when level was last brought up to date; zero: never used (full)
}

const hourNs = int64(time.Hour)

// takeToken is the bucket arithmetic, pure: it refills b at rate tokens per
// hour up to now, then takes a token. ok tells whether one was there;
// remaining is how many whole tokens are left; when !ok, retryAfter is the
// whole seconds (at least 1) until one is back.
func takeToken(b bucket, rate int, now time.Time) (next bucket, remaining int, retryAfter int, ok bool) {
	full := int64(rate) * hourNs
	switch {
	case b.at.IsZero():
		b.level, b.at = full, now
	case now.After(b.at): // a clock that went back refills nothing
		elapsed := min(now.Sub(b.at), time.Hour) // a full bucket either way; keeps rate*elapsed in range
		b.level, b.at = min(full, b.level+int64(rate)*int64(elapsed)), now
	}
	if b.level >= hourNs {
		b.level -= hourNs
		return b, int(b.level / hourNs), 0, true
	}
	need := hourNs - b.level                       // tokens*ns/h missing for one token
	wait := (need + int64(rate) - 1) / int64(rate) // ns until they are refilled
	secs := int((wait + int64(time.Second) - 1) / int64(time.Second))
	return b, 0, max(secs, 1), false
}

// Request classes, as ARM counts them.
const (
	classReads = iota
	classWrites
	classDeletes
)

var classNames = [...]string{"reads", "writes", "deletes"}

func requestClass(method string) int {
	switch method {
	case http.MethodPut, http.MethodPatch, http.MethodPost:
		return classWrites
	case http.MethodDelete:
		return classDeletes
	}
	return classReads
}

// rateLimiter holds one bucket per subscription and class.
type rateLimiter struct {
	rates   [3]int
	mu      sync.Mutex
	buckets map[string]*[3]bucket // key: lower-case subscription ID
}

func newRateLimiter(l RateLimits) *rateLimiter {
	if !l.Enabled() {
		return nil
	}
	return &rateLimiter{rates: [3]int{l.Reads, l.Writes, l.Deletes}, buckets: map[string]*[3]bucket{}}
}

// take spends a token of class for sub at now; limited is false when the
// class has no budget.
func (l *rateLimiter) take(sub string, class int, now time.Time) (remaining, retryAfter int, ok, limited bool) {
	rate := l.rates[class]
	if rate <= 0 {
		return 0, 0, true, false
	}
	key := strings.ToLower(sub)
	l.mu.Lock()
	defer l.mu.Unlock()
	bs := l.buckets[key]
	if bs == nil {
		bs = &[3]bucket{}
		l.buckets[key] = bs
	}
	bs[class], remaining, retryAfter, ok = takeToken(bs[class], rate, now)
	return remaining, retryAfter, ok, true
}

// rateLimit applies the subscription's budget to an ARM request: it sets
// x-ms-ratelimit-remaining-subscription-{reads|writes|deletes}, and answers
// 429 with Retry-After when the budget is spent. Requests outside a
// subscription (GET /subscriptions) are not counted.
func (s *Server) rateLimit(r *request) bool {
	if s.limiter == nil || len(r.segs) < 2 || !armid.IsGUID(r.segs[1]) || isInProcess(r.Request) {
		return true
	}
	class := requestClass(r.Method)
	remaining, retryAfter, ok, limited := s.limiter.take(r.segs[1], class, s.eng.Now())
	if !limited {
		return true
	}
	h := r.w.Header()
	h.Set("x-ms-ratelimit-remaining-subscription-"+classNames[class], strconv.Itoa(remaining))
	if ok {
		return true
	}
	h.Set("Retry-After", strconv.Itoa(retryAfter))
	s.writeError(r, errorf("SubscriptionRequestsThrottled", "",
		"Number of '%s' requests for subscription '%s' actor 'azemu' exceeded. Please try again after '%d' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling for additional information.",
		strings.TrimSuffix(classNames[class], "s"), r.segs[1], retryAfter))
	return false
}
