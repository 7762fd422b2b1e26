package dashboard

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/azemu/azemu/internal/billing"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/store"
)

// When the ledger saves its accounts, besides a clean shutdown: after
// saveEvery events, or saveInterval after a change, whichever comes first.
// A start then reads the saved accounts and at most about that many events,
// however long the history; a save costs a pass over the accounts, off the
// commit path.
const (
	defaultSaveEvery    = 50_000
	defaultSaveInterval = 5 * time.Minute
)

// Why saved accounts are not used; the ledger reads the whole history then.
var (
	errNoSaved      = errors.New("no running accounts were saved since the last compaction or reset")
	errOtherPrices  = errors.New("the saved running accounts were rated by another price sheet")
	errCompacted    = errors.New("the history was compacted after the running accounts were saved")
	errHistoryMoved = errors.New("the history no longer holds the last event the saved running accounts include")
)

// trusts checks a saved header against the ledger's price sheet and the
// history's horizon now.
func (l *ledger) trusts(h savedHeader, horizon time.Time) error {
	switch {
	case h.Prices != l.prices.Fingerprint():
		return errOtherPrices
	case h.Horizon != unixNanoOrZero(horizon):
		return errCompacted
	}
	return nil
}

func unixNanoOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// seedFromSaved reads the saved accounts, then the events after them. It
// fails when there are none, or none it can trust; having applied some of
// them, perhaps: the caller clears the ledger and reads the history.
func (l *ledger) seedFromSaved(ctx context.Context, eng *engine.Engine) error {
	rd := &savedReader{
		account: func(a savedAccount) error {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.restoreAccount(a)
			return nil
		},
		children: func(c savedChildren) error {
			l.mu.Lock()
			defer l.mu.Unlock()
			return l.restoreChildren(c)
		},
	}
	err := eng.SavedAccounts(ctx, func(part []byte) error {
		first := rd.header == nil
		if err := rd.part(part); err != nil || !first {
			return err
		}
		return l.trusts(*rd.header, eng.Horizon())
	})
	switch {
	case err != nil:
		return err
	case rd.header == nil:
		return errNoSaved
	}
	if err := rd.done(); err != nil {
		return err
	}
	last := rd.header.Last
	found := false
	err = eng.EventsFrom(ctx, last.Seq, func(ev store.Event) error {
		l.mu.Lock()
		defer l.mu.Unlock()
		if found {
			l.apply(ev)
			return nil
		}
		if ev.Seq != last.Seq || ev.VMID != last.ResourceID || ev.At.UnixNano() != last.At ||
			ev.ProvisioningState != last.ProvisioningState || ev.PowerState != last.PowerState || ev.OperationID != last.OperationID {
			return errHistoryMoved
		}
		found, l.last = true, last
		return nil
	})
	if err == nil && !found {
		err = errHistoryMoved
	}
	return err
}

// restoreAccount makes a saved account again.
func (l *ledger) restoreAccount(s savedAccount) {
	// The engine's copies of the key and ID, when it holds them.
	key, id := s.Key, s.ID
	if k, same := l.keyOf(cmp.Or(s.ID, s.Key)); k == s.Key {
		key = k
		if same == s.ID {
			id = same
		}
	}
	a := &account{Running: billing.RestoreRunning(s.Running, l.rates), key: key, id: id, opening: s.Opening}
	l.accts[key] = a
	l.restored = append(l.restored, a)
}

// restoreChildren gives a VM its disks or public IPs again, in their order.
func (l *ledger) restoreChildren(c savedChildren) error {
	if c.Kind != billing.Disk && c.Kind != billing.PublicIP {
		return fmt.Errorf("%w: children of kind %v", errSavedForm, c.Kind)
	}
	parent := l.parentKey(c.Parent)
	of := l.children(c.Kind)
	for _, i := range c.Children {
		a := l.restored[i]
		if a.parent != "" || a.Kind != c.Kind {
			return fmt.Errorf("%w: a child listed twice, or of another kind", errSavedForm)
		}
		a.parent = parent
		of[parent] = append(of[parent], a.key)
	}
	return nil
}

// savedState is what a save writes, as taken from the ledger.
type savedState struct {
	header   savedHeader
	accounts []savedAccount
	children []savedChildren
}

// snapshot takes the ledger's accounts as plain data, sorted by key, when
// it can vouch for them: it has read the history, and it knows the last
// event they include. Unless force is set, it takes none when nothing
// changed since the last save (unsaved), nor the horizon (savedHorizon).
func (l *ledger) snapshot(horizon time.Time, force bool, savedHorizon int64) (savedState, bool) {
	l.mu.Lock()
	if !l.seeded || l.unnumbered || l.last.Seq == 0 || (!force && l.unsaved == 0 && unixNanoOrZero(horizon) == savedHorizon) {
		l.mu.Unlock()
		return savedState{}, false
	}
	st := savedState{header: savedHeader{Prices: l.prices.Fingerprint(), Horizon: unixNanoOrZero(horizon), Last: l.last,
		Accounts: len(l.accts)}}
	st.accounts = make([]savedAccount, 0, len(l.accts))
	for key, a := range l.accts {
		// The opening balance is never changed once set: it may be shared.
		st.accounts = append(st.accounts, savedAccount{Key: key, ID: a.id, Running: a.State(), Opening: a.opening})
	}
	type childList struct {
		kind   billing.ResourceKind
		parent string
		keys   []string
	}
	var lists []childList
	for _, kind := range []billing.ResourceKind{billing.Disk, billing.PublicIP} {
		for parent, keys := range l.children(kind) {
			lists = append(lists, childList{kind, parent, slices.Clone(keys)})
		}
	}
	l.unsaved = 0
	l.mu.Unlock()

	slices.SortFunc(st.accounts, func(a, b savedAccount) int { return cmp.Compare(a.Key, b.Key) })
	slices.SortFunc(lists, func(a, b childList) int {
		return cmp.Or(cmp.Compare(a.kind, b.kind), cmp.Compare(a.parent, b.parent))
	})
	index := make(map[string]int, len(st.accounts))
	for i, a := range st.accounts {
		index[a.Key] = i
	}
	for _, c := range lists {
		saved := savedChildren{Kind: c.kind, Parent: c.parent, Children: make([]int, len(c.keys))}
		for i, k := range c.keys {
			saved.Children[i] = index[k]
		}
		st.children = append(st.children, saved)
	}
	return st, true
}

// save writes the accounts (see snapshot); final: the last save, at a
// clean shutdown, after which none is made.
func (l *ledger) save(ctx context.Context, eng *engine.Engine, force, final bool) error {
	l.saveMu.Lock()
	defer l.saveMu.Unlock()
	if l.stopped {
		return nil
	}
	l.stopped = final
	horizon := eng.Horizon() // before the accounts: a compaction after it makes them untrusted
	st, ok := l.snapshot(horizon, force, l.savedHorizon)
	if !ok {
		return nil
	}
	if err := eng.SaveAccounts(ctx, encodeSaved(st.header, st.accounts, st.children)); err != nil {
		l.mu.Lock()
		l.unsaved++ // try again
		l.mu.Unlock()
		return fmt.Errorf("dashboard: saving the running accounts: %w", err)
	}
	l.savedHorizon = st.header.Horizon
	return nil
}

// keepSaving saves the accounts every so often while they change, until
// ctx ends: every interval, and when saveEvery events have come (wake).
func (l *ledger) keepSaving(ctx context.Context, eng *engine.Engine, interval time.Duration, log func(error)) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-l.wake:
		}
		// A failure loses nothing: the history holds every change, and
		// the next start reads more of it.
		if err := l.save(ctx, eng, false, false); err != nil && ctx.Err() == nil {
			log(err)
		}
	}
}
