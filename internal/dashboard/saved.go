package dashboard

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/billing"
)

// The ledger's running accounts are saved (store.SaveAccounts) so that a
// start reads them and the events after them instead of the whole history.
// This file is their form: parts of a compact binary encoding. The first
// part is a header: what the accounts are valid for, how many slots they
// fill, and the table of tariffs (kind, pricing attributes and power
// state) the accounts refer to by number (a fleet has many accounts and
// few tariffs). Each other part holds the slots of a range of
// savedPartSlots, in order: each an account, a VM's slot that only lists
// its disks and public IPs, or a free slot; each key and ID written as
// the length it shares with the one before and the rest, each link
// between a VM and its children as a slot number.

// savedFormat is the version of the form; a saved set of another version is
// not read. Any change to what is written is a new version.
const savedFormat = 3

// savedMagic starts the header.
const savedMagic = "azemu ledger accounts"

// savedPartSlots is how many slots a part holds: tens of kilobytes, so
// that a part is written or read under a short lock and a fleet's accounts
// take a few hundred rows at most.
const savedPartSlots = 4096

// savedHeader says what a saved set of accounts is valid for.
type savedHeader struct {
	Prices  [sha256.Size]byte // the fingerprint of the sheet that rated them
	Horizon int64             // the history's horizon (Unix nanoseconds, 0 when none)
	// Last is the last event the accounts include: the history's events
	// after it are what they lack. It is named by its Seq and recognised by
	// the rest, so that a history that lost it (a compaction, a reset) is
	// not taken for the one the accounts were made from.
	Last savedEvent
	// Slots is how many slots follow, in parts of savedPartSlots.
	Slots int
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

// A slot's record starts with a number of flags: its kind, and what it
// holds besides. Those most slots have are in the first seven bits, so
// that the flags of most slots take one byte.
const (
	recordFree     = 0
	recordChildren = 1 // a VM with no account, only disks or public IPs
	recordAccount  = 2
	recordKinds    = 3 // the mask of the kind

	flagKeyOfID = 1 << (iota - 2) // the key is the ID's (armid.Fold), and is not written
	flagID                        // the account has an ID
	flagParent                    // links: each written when there is one
	flagChild
	flagNext
	flagUnpriced
	flagEarlier
	flagOpening

	allFlags = flagOpening<<1 - 1 // the kind and every flag
)

// encodeHeader writes the header, and the tariffs numbered in their order.
func encodeHeader(h savedHeader, tariffs []*billing.Tariff) []byte {
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
	w.uint(uint64(h.Slots))
	w.uint(uint64(len(tariffs)))
	for _, t := range tariffs {
		w.uint(uint64(t.Kind()))
		w.attrs(t.Attrs())
		w.str(t.PowerState())
	}
	return w.buf
}

// isFoldOf reports whether key is armid.Fold(id), without making it on
// the heap (a save asks for every disk).
func isFoldOf(key, id string) bool {
	var buf [256]byte
	return string(armid.AppendFold(buf[:0], id)) == key
}

// encodePart writes the slots from first on, their accounts' tariffs by
// tariffNo. Each key and ID is written as the length it shares with the
// one of its kind before and the rest, each time as the difference from
// the one before, each link as the difference from its own slot.
func encodePart(first int, slots []account, tariffNo map[*billing.Tariff]int) []byte {
	var w wire
	w.uint(uint64(first))
	w.uint(uint64(len(slots)))
	var prevKey, prevID string
	var prevSince int64
	for i := range slots {
		a := &slots[i]
		flags := uint64(recordFree)
		var st billing.RunningState
		switch {
		case a.key == "":
			w.uint(flags)
			continue
		case !a.open():
			flags = recordChildren
		default:
			flags = recordAccount
			if a.id != "" {
				flags |= flagID
				if isFoldOf(a.key, a.id) {
					flags |= flagKeyOfID
				}
			}
			st = a.State()
			if st.Unpriced {
				flags |= flagUnpriced
			}
			if st.Earlier != (billing.Amount{}) {
				flags |= flagEarlier
			}
			if a.opening != nil {
				flags |= flagOpening
			}
		}
		for _, l := range []struct {
			s    slot
			flag uint64
		}{{a.parent, flagParent}, {a.child, flagChild}, {a.next, flagNext}} {
			if l.s != noSlot {
				flags |= l.flag
			}
		}
		w.uint(flags)
		if flags&flagKeyOfID == 0 {
			w.text(prevKey, a.key)
			prevKey = a.key
		}
		if flags&flagID != 0 {
			w.text(prevID, a.id)
			prevID = a.id
		}
		if flags&recordKinds == recordAccount {
			w.uint(uint64(tariffNo[st.Tariff]))
			w.int(st.Since - prevSince)
			prevSince = st.Since
			w.int(st.Seconds)
			if flags&flagEarlier != 0 {
				w.amount(st.Earlier)
			}
			if a.opening != nil {
				w.amount(*a.opening)
			}
		}
		self := slot(first + i)
		for _, l := range []slot{a.parent, a.child, a.next} {
			if l != noSlot {
				w.int(int64(l) - int64(self))
			}
		}
	}
	return w.buf
}

// errSavedForm is a saved set that is not of this form: another version,
// or damaged.
var errSavedForm = errors.New("not a saved set of accounts of this version")

// savedReader reads the parts encodeHeader and encodePart wrote, one at a
// time, handing each slot on as it meets it, its account rated by rates.
// It checks each record alone; the ledger checks that the links between
// them make sense once all are read.
type savedReader struct {
	rates *billing.Rates
	// keyOf gives an ID's key and the ID as the engine holds them
	// (ledger.keyOf): a slot's key and ID are the engine's copies when
	// it has them.
	keyOf   func(id string) (key, sameID string)
	tariffs func([]*billing.Tariff) error // the header's, in their order
	slot    func(account) error           // in slot order; a free slot has no key

	header  *savedHeader // nil before the first part
	table   []*billing.Tariff
	read    int    // slots read so far
	scratch []byte // where a key or ID is put together
}

// part reads the next part: the header, or slots.
func (s *savedReader) part(b []byte) error {
	r := &reader{buf: b}
	if s.header == nil {
		h, err := s.readHeader(r)
		if err != nil {
			return err
		}
		s.header = &h
		return s.tariffs(s.table)
	}
	first, n := r.uint(), r.uint()
	if r.err != nil || first != uint64(s.read) || n == 0 || n > savedPartSlots || n > uint64(s.header.Slots-s.read) {
		return fmt.Errorf("%w: a part out of its place", errSavedForm)
	}
	var prevKey, prevID string
	var prevSince int64
	for range n {
		self := s.read
		a := account{parent: noSlot, child: noSlot, next: noSlot}
		flags := r.uint()
		kind := flags & recordKinds
		switch {
		case r.err != nil:
		case flags&^allFlags != 0 || kind == recordKinds:
			r.fail("slot")
		case kind == recordFree:
			if flags != recordFree {
				r.fail("slot")
			}
		case kind == recordChildren && flags&^(recordKinds|flagParent|flagChild|flagNext) != 0:
			r.fail("slot")
		case flags&flagKeyOfID != 0 && flags&flagID == 0:
			r.fail("slot")
		}
		if flags&flagKeyOfID == 0 && kind != recordFree {
			a.key = r.text(prevKey, &s.scratch)
			prevKey = a.key
		}
		if flags&flagID != 0 {
			a.id = r.text(prevID, &s.scratch)
			prevID = a.id
		}
		if r.err == nil && kind != recordFree {
			if flags&flagKeyOfID != 0 {
				a.key, a.id = s.keyOf(a.id)
			} else {
				// Forms saved before keys were canonical wrote them
				// lower case throughout: Fold makes them the keys of
				// now.
				a.key, a.id = s.engineCopies(armid.Fold(a.key), a.id)
			}
		}
		if kind == recordAccount {
			t := r.uint()
			if r.err == nil && t >= uint64(len(s.table)) {
				return fmt.Errorf("%w: an account refers to no tariff", errSavedForm)
			}
			st := billing.RunningState{Since: prevSince + r.int(), Seconds: r.int()}
			prevSince = st.Since
			st.Unpriced = flags&flagUnpriced != 0
			if flags&flagEarlier != 0 {
				if st.Earlier = r.amount(); st.Earlier == (billing.Amount{}) {
					r.fail("amount")
				}
			}
			if flags&flagOpening != 0 {
				o := r.amount()
				a.opening = &o
			}
			if r.err == nil {
				st.Tariff = s.table[t]
				a.Running = billing.RestoreRunning(st, s.rates)
			}
		}
		if r.err == nil && kind != recordFree && a.key == "" {
			r.fail("key")
		}
		if flags&flagParent != 0 {
			a.parent = r.link(self, s.header.Slots)
		}
		if flags&flagChild != 0 {
			a.child = r.link(self, s.header.Slots)
		}
		if flags&flagNext != 0 {
			a.next = r.link(self, s.header.Slots)
		}
		if r.err != nil {
			break
		}
		s.read++
		if err := s.slot(a); err != nil {
			return err
		}
	}
	if r.err == nil && len(r.buf) > 0 {
		r.err = errors.New("bytes after the slots")
	}
	if r.err != nil {
		return fmt.Errorf("%w: %v", errSavedForm, r.err)
	}
	return nil
}

// engineCopies gives a written key, and the ID, as the engine's copies
// when it holds the resource by them.
func (s *savedReader) engineCopies(key, id string) (string, string) {
	k, same := s.keyOf(cmp.Or(id, key))
	if k != key {
		return key, id
	}
	if same == id {
		id = same
	}
	return k, id
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
	slots := r.uint()
	if slots > math.MaxInt32 {
		r.fail("count")
	}
	h.Slots = int(slots)
	n := r.uint()
	for i := uint64(0); i < n && r.err == nil; i++ {
		kind, attrs, power := billing.ResourceKind(r.uint()), r.attrs(), r.str()
		if r.err == nil {
			s.table = append(s.table, s.rates.Tariff(kind, attrs, power))
		}
	}
	if r.err == nil && len(r.buf) > 0 {
		r.err = errors.New("bytes after the header")
	}
	if r.err != nil {
		return h, fmt.Errorf("%w: %v", errSavedForm, r.err)
	}
	return h, nil
}

// done checks that every slot the header announced was read.
func (s *savedReader) done() error {
	if s.header == nil || s.read != s.header.Slots {
		return fmt.Errorf("%w: slots are missing", errSavedForm)
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

// text writes s as the length it shares with prev, then the rest: as
// text, and the rest's longest even run of lowercase hexadecimal digits at
// its end (the random part of many Azure names) as bytes, two digits a
// byte.
func (w *wire) text(prev, s string) {
	n := 0
	for n < len(prev) && n < len(s) && prev[n] == s[n] {
		n++
	}
	rest := s[n:]
	h := len(rest)
	for h > 0 && isLowerHex(rest[h-1]) {
		h--
	}
	h += (len(rest) - h) % 2 // an even run
	w.uint(uint64(n))
	w.str(rest[:h])
	w.uint(uint64(len(rest)-h) / 2)
	for i := h; i < len(rest); i += 2 {
		w.buf = append(w.buf, hexValue(rest[i])<<4|hexValue(rest[i+1]))
	}
}

func isLowerHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' }

func hexValue(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c - 'a' + 10
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

// text reads what wire.text wrote after prev, put together in scratch.
func (r *reader) text(prev string, scratch *[]byte) string {
	n := r.uint()
	if n > uint64(len(prev)) {
		r.fail("key")
		return ""
	}
	lit := r.uint()
	if lit > uint64(len(r.buf)) {
		r.fail("key")
		return ""
	}
	b := append(append((*scratch)[:0], prev[:n]...), r.take(int(lit))...)
	pairs := r.uint()
	if pairs > uint64(len(r.buf)) {
		r.fail("key")
		return ""
	}
	const digits = "0123456789abcdef"
	for _, c := range r.take(int(pairs)) {
		b = append(b, digits[c>>4], digits[c&15])
	}
	*scratch = b
	if r.err != nil {
		return ""
	}
	return string(b)
}

// link reads a link wire wrote from slot self: a slot below slots.
func (r *reader) link(self, slots int) slot {
	v := int64(self) + r.int()
	if v < 0 || v >= int64(slots) {
		r.fail("link")
		return noSlot
	}
	return slot(v)
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
