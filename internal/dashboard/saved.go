package dashboard

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"

	"github.com/azemu/azemu/internal/billing"
)

// The ledger's running accounts are saved (store.SaveAccounts) so that a
// start reads them and the events after them instead of the whole history.
// This file is their form, plain data in and out: parts of a compact
// binary encoding. The first part is a header: what the accounts are valid
// for, and the tables of pricing attributes and power states the accounts
// refer to by number (a fleet has many accounts and few of either). The
// other parts hold accounts, sorted by key, each key written as the length
// it shares with the one before and the rest; the last parts hold which
// disks and public IPs belong to which VM, in the ledger's order.

// savedFormat is the version of the form; a saved set of another version is
// not read. Any change to what is written is a new version.
const savedFormat = 1

// savedMagic starts the header.
const savedMagic = "azemu ledger accounts"

// savedPartSize is about how many bytes a part holds: large enough that a
// fleet's accounts take few rows, small enough that reading one holds
// little memory.
const savedPartSize = 1 << 20

// savedHeader says what a saved set of accounts is valid for.
type savedHeader struct {
	Prices  [sha256.Size]byte // the fingerprint of the sheet that rated them
	Horizon int64             // the history's horizon (Unix nanoseconds, 0 when none)
	// Last is the last event the accounts include: the history's events
	// after it are what they lack. It is named by its Seq and recognised by
	// the rest, so that a history that lost it (a compaction, a reset) is
	// not taken for the one the accounts were made from.
	Last savedEvent
	// Accounts is how many accounts follow.
	Accounts int
}

// savedEvent names an event of the history.
type savedEvent struct {
	Seq               int64
	ResourceID        string
	At                int64 // Unix nanoseconds
	ProvisioningState string
	PowerState        string
	OperationID       string
}

// savedAccount is one account as saved.
type savedAccount struct {
	Key     string
	ID      string // a disk's or public IP's ID as last written; "" for a VM
	Running billing.RunningState
	Opening billing.Amount
}

// savedChildren are the disks or public IPs of one VM, in order, by their
// account's number (its place in the saved order).
type savedChildren struct {
	Kind     billing.ResourceKind // Disk or PublicIP
	Parent   string               // the VM's key
	Children []int
}

// encodeSaved writes a header, accounts sorted by key and children lists
// in parts of about savedPartSize bytes.
func encodeSaved(h savedHeader, accts []savedAccount, children []savedChildren) [][]byte {
	// The tables of attributes and power states.
	type pricingOf struct {
		kind  billing.ResourceKind
		attrs billing.Attrs
	}
	pricings, states := map[pricingOf]int{}, map[string]int{}
	var pricingList []pricingOf
	var stateList []string
	for _, a := range accts {
		p := pricingOf{a.Running.Kind, a.Running.Attrs}
		if _, ok := pricings[p]; !ok {
			pricings[p] = len(pricingList)
			pricingList = append(pricingList, p)
		}
		if _, ok := states[a.Running.PowerState]; !ok {
			states[a.Running.PowerState] = len(stateList)
			stateList = append(stateList, a.Running.PowerState)
		}
	}
	var w wire
	w.str(savedMagic)
	w.uint(savedFormat)
	w.buf = append(w.buf, h.Prices[:]...)
	w.int(h.Horizon)
	w.int(h.Last.Seq)
	w.str(h.Last.ResourceID)
	w.int(h.Last.At)
	w.str(h.Last.ProvisioningState)
	w.str(h.Last.PowerState)
	w.str(h.Last.OperationID)
	w.uint(uint64(len(accts)))
	w.uint(uint64(len(pricingList)))
	for _, p := range pricingList {
		w.uint(uint64(p.kind))
		w.attrs(p.attrs)
	}
	w.uint(uint64(len(stateList)))
	for _, s := range stateList {
		w.str(s)
	}
	parts := [][]byte{w.buf}

	w = wire{}
	var prevKey, prevID string
	flush := func() {
		if len(w.buf) > 0 {
			parts = append(parts, w.buf)
		}
		w, prevKey, prevID = wire{}, "", ""
	}
	for _, a := range accts {
		if len(w.buf) >= savedPartSize {
			flush()
		}
		w.buf = append(w.buf, 'a')
		w.shared(prevKey, a.Key)
		w.shared(prevID, a.ID)
		prevKey, prevID = a.Key, a.ID
		r := a.Running
		w.uint(uint64(pricings[pricingOf{r.Kind, r.Attrs}]))
		w.uint(uint64(states[r.PowerState]))
		w.int(r.Since)
		w.int(r.Seconds)
		w.bool(r.Unpriced)
		w.amount(r.Earlier)
		w.amount(a.Opening)
	}
	for _, c := range children {
		if len(w.buf) >= savedPartSize {
			flush()
		}
		w.buf = append(w.buf, 'c')
		w.uint(uint64(c.Kind))
		w.str(c.Parent)
		w.uint(uint64(len(c.Children)))
		for _, i := range c.Children {
			w.uint(uint64(i))
		}
	}
	flush()
	return parts
}

// errSavedForm is a saved set that is not of this form: another version,
// or damaged.
var errSavedForm = errors.New("not a saved set of accounts of this version")

// savedReader reads the parts encodeSaved wrote, one at a time, handing
// each account and children list on as it meets it.
type savedReader struct {
	account  func(savedAccount) error
	children func(savedChildren) error

	header   *savedHeader // nil before the first part
	pricings []billing.RunningState
	states   []string
	accounts int // read so far
}

// part reads the next part: the header (call header then to check it), or
// accounts and children lists.
func (s *savedReader) part(b []byte) error {
	r := &reader{buf: b}
	if s.header == nil {
		h, err := s.readHeader(r)
		if err != nil {
			return err
		}
		s.header = &h
		return nil
	}
	var prevKey, prevID string
	for len(r.buf) > 0 && r.err == nil {
		switch tag := r.byte(); tag {
		case 'a':
			if s.accounts >= s.header.Accounts {
				return fmt.Errorf("%w: more accounts than the header says", errSavedForm)
			}
			var a savedAccount
			a.Key, a.ID = r.shared(prevKey), r.shared(prevID)
			prevKey, prevID = a.Key, a.ID
			p, st := r.uint(), r.uint()
			if r.err == nil && (p >= uint64(len(s.pricings)) || st >= uint64(len(s.states))) {
				return fmt.Errorf("%w: an account refers to no pricing or state", errSavedForm)
			}
			if r.err != nil {
				break
			}
			a.Running = s.pricings[p]
			a.Running.PowerState = s.states[st]
			a.Running.Since, a.Running.Seconds, a.Running.Unpriced = r.int(), r.int(), r.bool()
			a.Running.Earlier, a.Opening = r.amount(), r.amount()
			if r.err != nil {
				break
			}
			s.accounts++
			if err := s.account(a); err != nil {
				return err
			}
		case 'c':
			c := savedChildren{Kind: billing.ResourceKind(r.uint()), Parent: r.str()}
			n := r.uint()
			if r.err != nil || n > uint64(s.accounts) {
				return fmt.Errorf("%w: a damaged list of children", errSavedForm)
			}
			if n > 0 {
				c.Children = make([]int, n)
			}
			for i := range c.Children {
				c.Children[i] = int(r.uint())
				if c.Children[i] >= s.accounts {
					return fmt.Errorf("%w: a child that is no account", errSavedForm)
				}
			}
			if r.err != nil {
				break
			}
			if err := s.children(c); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%w: a record of kind %q", errSavedForm, tag)
		}
	}
	if r.err != nil {
		return fmt.Errorf("%w: %v", errSavedForm, r.err)
	}
	return nil
}

func (s *savedReader) readHeader(r *reader) (savedHeader, error) {
	var h savedHeader
	if r.str() != savedMagic || r.err != nil {
		return h, errSavedForm
	}
	if v := r.uint(); v != savedFormat {
		return h, fmt.Errorf("%w: version %d, not %d", errSavedForm, v, savedFormat)
	}
	copy(h.Prices[:], r.take(sha256.Size))
	h.Horizon, h.Last.Seq, h.Last.ResourceID, h.Last.At = r.int(), r.int(), r.str(), r.int()
	h.Last.ProvisioningState, h.Last.PowerState, h.Last.OperationID = r.str(), r.str(), r.str()
	h.Accounts = int(r.uint())
	n := r.uint()
	for i := uint64(0); i < n && r.err == nil; i++ {
		s.pricings = append(s.pricings, billing.RunningState{Kind: billing.ResourceKind(r.uint()), Attrs: r.attrs()})
	}
	n = r.uint()
	for i := uint64(0); i < n && r.err == nil; i++ {
		s.states = append(s.states, r.str())
	}
	if r.err == nil && len(r.buf) > 0 {
		r.err = errors.New("bytes after the header")
	}
	if r.err != nil {
		return h, fmt.Errorf("%w: %v", errSavedForm, r.err)
	}
	return h, nil
}

// done checks that every account the header announced was read.
func (s *savedReader) done() error {
	if s.header == nil || s.accounts != s.header.Accounts {
		return fmt.Errorf("%w: accounts are missing", errSavedForm)
	}
	return nil
}

// wire appends the encoding's values.
type wire struct{ buf []byte }

func (w *wire) uint(v uint64) { w.buf = binary.AppendUvarint(w.buf, v) }
func (w *wire) int(v int64)   { w.buf = binary.AppendVarint(w.buf, v) }
func (w *wire) str(s string) {
	w.uint(uint64(len(s)))
	w.buf = append(w.buf, s...)
}
func (w *wire) bool(b bool) {
	if b {
		w.buf = append(w.buf, 1)
	} else {
		w.buf = append(w.buf, 0)
	}
}

// shared writes s as the length it shares with prev and the rest.
func (w *wire) shared(prev, s string) {
	n := 0
	for n < len(prev) && n < len(s) && prev[n] == s[n] {
		n++
	}
	w.uint(uint64(n))
	w.str(s[n:])
}

// rat writes an exact rational, or nil.
func (w *wire) rat(r *big.Rat) {
	if r == nil {
		w.buf = append(w.buf, 0)
		return
	}
	w.buf = append(w.buf, 1)
	text, _ := r.MarshalText() // a Rat's text never fails
	w.str(string(text))
}

func (w *wire) amount(a billing.Amount) {
	w.rat(a.Cost)
	w.str(a.Currency)
	w.bool(a.Mixed)
	w.bool(a.Unpriced)
}

func (w *wire) attrs(a billing.Attrs) {
	for _, s := range []string{a.Location, a.VMSize, a.OSType, a.LicenseType, a.Priority, a.DiskSKU,
		a.IPSKU, a.IPTier, a.IPAllocation, a.IPVersion, a.ResourceGroup, a.SubscriptionID, a.ParentID} {
		w.str(s)
	}
	w.int(int64(a.DiskSizeGB))
	w.bool(a.IPReleased)
}

// reader reads what wire wrote; its first error sticks, and every read
// after it gives zero values.
type reader struct {
	buf []byte
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("a damaged %s", what)
	}
	r.buf = nil
}

func (r *reader) uint() uint64 { return varint(r, binary.Uvarint) }
func (r *reader) int() int64   { return varint(r, binary.Varint) }

// varint reads a number with read (binary.Uvarint or binary.Varint).
func varint[T uint64 | int64](r *reader, read func([]byte) (T, int)) T {
	v, n := read(r.buf)
	if n <= 0 {
		r.fail("number")
		return 0
	}
	r.buf = r.buf[n:]
	return v
}

func (r *reader) take(n int) []byte {
	if n < 0 || n > len(r.buf) {
		r.fail("text")
		return nil
	}
	b := r.buf[:n]
	r.buf = r.buf[n:]
	return b
}

func (r *reader) byte() byte {
	if b := r.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *reader) str() string {
	n := r.uint()
	if n > uint64(len(r.buf)) {
		r.fail("text")
		return ""
	}
	return string(r.take(int(n)))
}

func (r *reader) bool() bool {
	switch r.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	r.fail("flag")
	return false
}

func (r *reader) shared(prev string) string {
	n := r.uint()
	if n > uint64(len(prev)) {
		r.fail("key")
		return ""
	}
	rest := r.str()
	if n == 0 {
		return rest
	}
	return prev[:n] + rest
}

func (r *reader) rat() *big.Rat {
	if !r.bool() {
		return nil
	}
	v, ok := new(big.Rat).SetString(r.str())
	if !ok {
		r.fail("amount")
		return nil
	}
	return v
}

func (r *reader) amount() billing.Amount {
	return billing.Amount{Cost: r.rat(), Currency: r.str(), Mixed: r.bool(), Unpriced: r.bool()}
}

func (r *reader) attrs() billing.Attrs {
	var a billing.Attrs
	for _, s := range []*string{&a.Location, &a.VMSize, &a.OSType, &a.LicenseType, &a.Priority, &a.DiskSKU,
		&a.IPSKU, &a.IPTier, &a.IPAllocation, &a.IPVersion, &a.ResourceGroup, &a.SubscriptionID, &a.ParentID} {
		*s = r.str()
	}
	a.DiskSizeGB = int(r.int())
	a.IPReleased = r.bool()
	return a
}
