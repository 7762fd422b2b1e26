package dashboard

import (
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

// maxPresizedSlots bounds the slots a start makes room for before it
// reads them: those of a few million resources.
const maxPresizedSlots = 1 << 22

// seedFromSaved reads the saved accounts, then the events after them. It
// fails when there are none, or none it can trust; having applied some of
// them, perhaps: the caller clears the ledger and reads the history.
func (l *ledger) seedFromSaved(ctx context.Context, eng *engine.Engine) error {
	numbered := false // the tariffs are numbered as saved
	var rd *savedReader
	rd = &savedReader{
		rates: l.rates,
		keyOf: l.keyOf,
		tariffs: func(table []*billing.Tariff) error {
			l.mu.Lock()
			defer l.mu.Unlock()
			// The table and map are made once at their size, up to
			// a bound a damaged header cannot make large.
			n := min(rd.header.Slots, maxPresizedSlots)
			l.accts = slices.Grow(l.accts, n)
			if len(l.slotOf) == 0 {
				l.slotOf = make(map[string]slot, n)
			}
			for _, t := range table {
				l.numberTariff(t)
			}
			numbered = len(l.tariffs) == len(table)
			return nil
		},
		slot: func(a account) error {
			l.mu.Lock()
			defer l.mu.Unlock()
			return l.restoreSlot(a)
		},
	}
	var base []byte
	err := eng.SavedAccounts(ctx, func(part []byte) error {
		first := rd.header == nil
		if err := rd.part(part); err != nil || !first {
			return err
		}
		base = slices.Clone(part)
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
	l.mu.Lock()
	err = l.checkLinks()
	l.mu.Unlock()
	if err != nil {
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
	if err == nil && numbered {
		// The saved set is what the ledger has, and its tariffs are
		// numbered alike: a save may change it part by part.
		l.saveMu.Lock()
		l.base, l.savedHorizon = base, rd.header.Horizon
		l.saveMu.Unlock()
	}
	return err
}

// restoreSlot puts a saved slot next in the table (its key and ID the
// engine's copies, savedReader.engineCopies).
func (l *ledger) restoreSlot(a account) error {
	s := slot(len(l.accts))
	if a.key == "" {
		l.accts = append(l.accts, freeSlot)
		l.free = append(l.free, s)
		return nil
	}
	if _, dup := l.slotOf[a.key]; dup {
		return fmt.Errorf("%w: a key twice", errSavedForm)
	}
	l.slotOf[a.key] = s
	l.accts = append(l.accts, a)
	return nil
}

// checkLinks checks that the restored slots' links make lists: each VM's
// children are accounts that name it as their parent, each listed once,
// and every account with a parent is listed; a slot without an account
// has children.
func (l *ledger) checkLinks() error {
	listed := make([]bool, len(l.accts))
	withParent, children := 0, 0
	for p := range l.accts {
		a := &l.accts[p]
		if a.key == "" {
			continue
		}
		if a.parent != noSlot {
			withParent++
		}
		if !a.open() && a.child == noSlot {
			return fmt.Errorf("%w: a slot with neither an account nor children", errSavedForm)
		}
		for c := a.child; c != noSlot; c = l.accts[c].next {
			ch := &l.accts[c]
			if listed[c] || !ch.open() || ch.parent != slot(p) {
				return fmt.Errorf("%w: a damaged list of children", errSavedForm)
			}
			listed[c] = true
			children++
		}
	}
	if children != withParent {
		return fmt.Errorf("%w: a child missing from its parent's list", errSavedForm)
	}
	return nil
}

// saveView is, while a save runs, what it saves: the accounts as they
// were when it began. A change to a slot of a part not yet written copies
// the part first (touch), so the save writes one moment's accounts while
// changes go on, holding the ledger's lock only part by part.
type saveView struct {
	header    savedHeader
	parts     []viewPart
	whole     bool // every part is written; else only those that changed
	abandoned bool // the accounts were cleared: there is nothing to save
}

type viewPart struct {
	copied  []account // the part as it was, when changed since
	written bool      // or not to be written: unchanged since the last save
}

// touch is called before a change to slot s: it marks the slot's part
// changed, and while a save runs, it keeps the part as it was unless the
// save wrote it already.
func (l *ledger) touch(s slot) {
	p := int(s) / savedPartSlots
	if p >= len(l.dirty) {
		l.dirty = append(l.dirty, make([]bool, p+1-len(l.dirty))...)
	}
	l.dirty[p] = true
	v := l.view
	if v == nil || int(s) >= v.header.Slots {
		return
	}
	vp := &v.parts[p]
	if vp.written || vp.copied != nil {
		return
	}
	vp.copied = slices.Clone(l.part(p, v.header.Slots))
}

// part is the live slots of part p of a table of slots.
func (l *ledger) part(p, slots int) []account {
	lo := p * savedPartSlots
	return l.accts[lo:min(lo+savedPartSlots, slots)]
}

// beginSave starts a save when the ledger can vouch for its accounts: it
// has read the history, and it knows the last event they include. Unless
// force is set, it starts none when nothing changed since the last save
// (unsaved), nor the horizon (savedHorizon). Unless whole is set (or a
// reset came), the save writes only the parts changed since the last.
func (l *ledger) beginSave(horizon time.Time, force bool, savedHorizon int64, whole bool) (*saveView, []byte, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.seeded || l.unnumbered || l.last.Seq == 0 || (!force && l.unsaved == 0 && unixNanoOrZero(horizon) == savedHorizon) {
		return nil, nil, false
	}
	v := &saveView{header: savedHeader{Prices: l.prices.Fingerprint(), Horizon: unixNanoOrZero(horizon), Last: l.last,
		Slots: len(l.accts)}, whole: whole || l.reset}
	l.reset = false
	v.parts = make([]viewPart, (v.header.Slots+savedPartSlots-1)/savedPartSlots)
	for p := range v.parts {
		if changed := p < len(l.dirty) && l.dirty[p]; !changed && !v.whole {
			v.parts[p].written = true // as saved
			continue
		}
		if p < len(l.dirty) {
			l.dirty[p] = false
		}
	}
	l.view, l.unsaved = v, 0
	return v, encodeHeader(v.header, l.tariffs), true
}

// unsave marks the parts a save was to write changed again: it failed.
func (l *ledger) unsave(v *saveView, written []store.AccountsPart) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.unsaved++ // try again
	if v.abandoned || l.reset {
		return // the next save writes them whole
	}
	for _, p := range written[1:] {
		if p.N-1 < len(l.dirty) {
			l.dirty[p.N-1] = true
		}
	}
}

// savePart writes part p of the view, from its copy or the live slots.
func (l *ledger) savePart(v *saveView, p int) ([]byte, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if v.abandoned {
		return nil, false
	}
	slots := v.parts[p].copied
	if slots == nil {
		slots = l.part(p, v.header.Slots)
	}
	v.parts[p] = viewPart{written: true}
	return encodePart(p*savedPartSlots, slots, l.tariffNo), true
}

// accountsStore is where the ledger saves its accounts (the engine).
type accountsStore interface {
	Horizon() time.Time
	SaveAccounts(ctx context.Context, save store.AccountsSave) error
}

// save writes the accounts (see beginSave); final: the last save, at a
// clean shutdown, after which none is made. It writes only the parts
// changed since the last save, over the saved set it knows; the whole set
// when it knows none, or the horizon moved (a compaction dropped it), or
// another writer replaced it.
func (l *ledger) save(ctx context.Context, st accountsStore, force, final bool) error {
	l.saveMu.Lock()
	defer l.saveMu.Unlock()
	if l.stopped {
		return nil
	}
	l.stopped = final
	horizon := st.Horizon() // before the accounts: a compaction after it makes them untrusted
	for {
		base := l.base
		if unixNanoOrZero(horizon) != l.savedHorizon {
			base = nil
		}
		v, header, ok := l.beginSave(horizon, force, l.savedHorizon, base == nil)
		if !ok {
			return nil
		}
		if v.whole {
			base = nil
		}
		parts := []store.AccountsPart{{N: 0, Body: header}}
		for p := range v.parts {
			if v.parts[p].written {
				continue
			}
			part, ok := l.savePart(v, p)
			if !ok {
				return nil // a reset: what the view held is gone
			}
			parts = append(parts, store.AccountsPart{N: p + 1, Body: part})
		}
		l.mu.Lock()
		if l.view == v {
			l.view = nil
		}
		l.mu.Unlock()
		err := st.SaveAccounts(ctx, store.AccountsSave{Parts: parts, Count: len(v.parts) + 1, Base: base})
		if err != nil {
			// The store kept what it had: the base still, unless
			// another writer replaced it (or this save was written
			// after all), which the next save finds out.
			l.unsave(v, parts)
			if errors.Is(err, store.ErrAccountsMoved) && base != nil {
				l.base, force = nil, true
				continue // save them whole
			}
			return fmt.Errorf("dashboard: saving the running accounts: %w", err)
		}
		l.savedHorizon, l.base = v.header.Horizon, header
		return nil
	}
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
