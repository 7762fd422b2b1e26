package dashboard

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/azemu/azemu/internal/billing"
)

// SaveAccountsNow saves the ledger's accounts as its saver does, once it
// has read the history.
func SaveAccountsNow(ctx context.Context, h *Handler) error {
	if err := h.ledger.wait(ctx); err != nil {
		return err
	}
	return h.ledger.save(ctx, h.eng, true, false)
}

// LedgerAccounts describes every account of the ledger and what it costs
// at now, and whose disks and public IPs are whose, in order; fromSaved
// says whether the ledger started from saved accounts.
func LedgerAccounts(ctx context.Context, h *Handler, now time.Time) (dump string, fromSaved bool, err error) {
	l := h.ledger
	if err := l.wait(ctx); err != nil {
		return "", false, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.describe(now), l.fromSaved, nil
}

// describe describes every account of the ledger (its lock held) and what
// it costs at now, and whose disks and public IPs are whose, in order.
func (l *ledger) describe(now time.Time) string {
	amount := func(a billing.Amount) string {
		cost := "nil"
		if a.Cost != nil {
			cost = a.Cost.RatString()
		}
		return fmt.Sprintf("%s %s mixed=%v unpriced=%v", cost, a.Currency, a.Mixed, a.Unpriced)
	}
	var lines []string
	keyOf := func(s slot) string {
		if s == noSlot {
			return ""
		}
		return l.accts[s].key
	}
	for i := range l.accts {
		a := &l.accts[i]
		if a.open() {
			soFar, perHour := a.At(now)
			lines = append(lines, fmt.Sprintf("%s id=%q parent=%q %v %q %+v billed=%v so far %s, per hour %s",
				a.key, a.id, keyOf(a.parent), a.Kind(), a.PowerState(), a.Attrs(), a.Billed(), amount(soFar), amount(perHour)))
		}
		for _, kind := range []billing.ResourceKind{billing.Disk, billing.PublicIP} {
			var keys []string
			for c := a.child; c != noSlot; c = l.accts[c].next {
				if l.accts[c].Kind() == kind {
					keys = append(keys, l.accts[c].key)
				}
			}
			if len(keys) > 0 {
				lines = append(lines, fmt.Sprintf("children of %s: %s", a.key, strings.Join(keys, " ")))
			}
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
