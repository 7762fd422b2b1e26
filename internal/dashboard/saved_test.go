package dashboard

import (
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/billing"
)

// filledAttrs sets every field of billing.Attrs, each to a value of its
// own, so that a field the saved form forgets fails the round trip.
func filledAttrs(n int) billing.Attrs {
	var a billing.Attrs
	v := reflect.ValueOf(&a).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString(fmt.Sprintf("%s-%d", v.Type().Field(i).Name, n))
		case reflect.Int:
			f.SetInt(int64(100*n + i))
		case reflect.Bool:
			f.SetBool(true)
		default:
			panic("billing.Attrs has a field of kind " + f.Kind().String() + " that this test does not fill")
		}
	}
	return a
}

// savedFixture is a header and n disks' slots (every seventh free), a VM
// that lists the even ones, and a slot of a VM that has no account but
// lists disk 1, as a ledger rated by rates keeps them.
func savedFixture(n int, rates *billing.Rates) (savedHeader, []*billing.Tariff, []account) {
	h := savedHeader{Prices: [32]byte{1, 2, 3, 31: 9}, Horizon: 1_700_000_000_123_456_789,
		Last: savedEvent{Seq: 4242, ResourceID: "/subscriptions/s/resourceGroups/RG/providers/Microsoft.Compute/virtualMachines/Web",
			At: 1_700_000_500_000_000_001, ProvisioningState: "Succeeded", PowerState: "PowerState/running", OperationID: "op"}}
	var tariffs []*billing.Tariff
	number := func(t *billing.Tariff) *billing.Tariff {
		if !slices.Contains(tariffs, t) {
			tariffs = append(tariffs, t)
		}
		return t
	}
	slots := make([]account, n+2)
	for i := range slots {
		slots[i] = freeSlot
	}
	vm, gone := slot(n), slot(n+1)
	var last, lastGone = noSlot, noSlot
	for i := range n {
		if i%7 == 3 && i != 1 {
			continue // free
		}
		st := billing.RunningState{Tariff: number(rates.Tariff(billing.Disk, filledAttrs(i%4), []string{"", "running", "deallocated"}[i%3])),
			Since: int64(1_700_000_000 + i), Seconds: int64(i * 7), Unpriced: i%5 == 0}
		if i%3 == 0 {
			st.Earlier = billing.Amount{Cost: big.NewRat(int64(i)+1, 7), Currency: "USD", Mixed: i%2 == 0, Unpriced: true}
		}
		a := account{Running: billing.RestoreRunning(st, rates), key: fmt.Sprintf("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/d%06d", i),
			id: fmt.Sprintf("/subscriptions/s/resourceGroups/RG/providers/Microsoft.Compute/disks/D%06d", i), parent: noSlot, child: noSlot, next: noSlot}
		if i%3 == 1 {
			a.key = armid.FoldAll(a.key) // as saved before keys were canonical
		}
		if i%5 == 2 {
			a.id += "-renamed" // not the key's ID
		}
		if i%4 == 1 {
			a.opening = &billing.Amount{Cost: big.NewRat(-3, int64(i)+2), Currency: "EUR", Unpriced: i%8 == 1}
		}
		switch {
		case i == 1:
			a.parent = gone
			lastGone = slot(i)
		case i%2 == 0:
			a.parent = vm
			if last == noSlot {
				slots[vm].child = slot(i)
			} else {
				slots[last].next = slot(i)
			}
			last = slot(i)
		}
		slots[i] = a
	}
	slots[vm] = account{Running: billing.RestoreRunning(billing.RunningState{Tariff: number(rates.Tariff(billing.VM, filledAttrs(9), "running"))}, rates),
		key: "/subscriptions/s/resourcegroups/rg/providers/microsoft.compute/virtualmachines/web", parent: noSlot, child: slots[vm].child, next: noSlot}
	slots[gone] = account{key: "/gone", parent: noSlot, child: lastGone, next: noSlot}
	h.Slots = len(slots)
	return h, tariffs, slots
}

// encodeFixture writes a fixture's parts.
func encodeFixture(h savedHeader, tariffs []*billing.Tariff, slots []account) [][]byte {
	no := map[*billing.Tariff]int{}
	for i, t := range tariffs {
		no[t] = i
	}
	parts := [][]byte{encodeHeader(h, tariffs)}
	for lo := 0; lo < len(slots); lo += savedPartSlots {
		parts = append(parts, encodePart(lo, slots[lo:min(lo+savedPartSlots, len(slots))], no))
	}
	return parts
}

// describe tells a slot's every field, its tariff by what it prices.
func describe(a account) string {
	d := fmt.Sprintf("key=%q id=%q links=%d,%d,%d", a.key, a.id, a.parent, a.child, a.next)
	if a.opening != nil {
		d += fmt.Sprintf(" opening=%v", *a.opening)
	}
	if a.open() {
		st := a.State()
		t := st.Tariff
		st.Tariff = nil
		d += fmt.Sprintf(" %v %+v %q %+v", t.Kind(), t.Attrs(), t.PowerState(), st)
	}
	return d
}

// readSaved reads parts back, rated by rates.
func readSaved(parts [][]byte, rates *billing.Rates) (savedHeader, []*billing.Tariff, []account, error) {
	var slots []account
	var tariffs []*billing.Tariff
	rd := &savedReader{
		rates:   rates,
		keyOf:   foldedKey,
		tariffs: func(t []*billing.Tariff) error { tariffs = t; return nil },
		slot:    func(a account) error { slots = append(slots, a); return nil },
	}
	for _, p := range parts {
		if err := rd.part(p); err != nil {
			return savedHeader{}, nil, nil, err
		}
	}
	if err := rd.done(); err != nil {
		return savedHeader{}, nil, nil, err
	}
	return *rd.header, tariffs, slots, nil
}

// fixtureSheet is read once: reading the embedded sheet takes a while.
var fixtureSheet = sync.OnceValue(billing.DefaultPriceSheet)

func fixtureRates() *billing.Rates { return billing.NewRates(fixtureSheet()) }

// What is saved reads back as it was, in several parts when large, with
// tariffs of the reader's rates in the order they were numbered.
func TestSavedAccountsRoundTrip(t *testing.T) {
	for _, n := range []int{0, 2, 40_000} {
		h, tariffs, slots := savedFixture(n, fixtureRates())
		parts := encodeFixture(h, tariffs, slots)
		if n == 40_000 && len(parts) < 3 {
			t.Errorf("%d slots in %d parts: the parts are not bounded", n, len(parts))
		}
		rates := fixtureRates() // another ledger's
		gotH, gotTariffs, gotSlots, err := readSaved(parts, rates)
		if err != nil {
			t.Fatalf("%d accounts: %v", n, err)
		}
		if !reflect.DeepEqual(gotH, h) {
			t.Errorf("header %+v, want %+v", gotH, h)
		}
		if len(gotTariffs) != len(tariffs) {
			t.Fatalf("%d tariffs, want %d", len(gotTariffs), len(tariffs))
		}
		for i, tf := range tariffs {
			if gotTariffs[i] != rates.Tariff(tf.Kind(), tf.Attrs(), tf.PowerState()) {
				t.Errorf("tariff %d is not the reader's of %v %+v %q", i, tf.Kind(), tf.Attrs(), tf.PowerState())
			}
		}
		if len(gotSlots) != len(slots) {
			t.Fatalf("%d slots, want %d", len(gotSlots), len(slots))
		}
		for i := range slots {
			// A key saved lower case throughout, as before keys were
			// canonical, reads back canonical.
			want := slots[i]
			want.key = armid.Fold(want.key)
			if got, want := describe(gotSlots[i]), describe(want); got != want {
				t.Fatalf("slot %d: %s, want %s", i, got, want)
			}
		}
	}
}

// A damaged or foreign saved form is refused with errSavedForm, never
// read as something else, whatever byte is cut or changed.
func TestSavedAccountsDamaged(t *testing.T) {
	h, tariffs, slots := savedFixture(30, fixtureRates())
	parts := encodeFixture(h, tariffs, slots)
	if len(parts) != 2 {
		t.Fatalf("%d parts, want a header and one part", len(parts))
	}
	refused := func(what string, parts [][]byte) {
		t.Helper()
		if _, _, _, err := readSaved(parts, fixtureRates()); !errors.Is(err, errSavedForm) {
			t.Errorf("%s: %v, want errSavedForm", what, err)
		}
	}
	for _, cut := range []int{0, 1, len(parts[1]) / 2, len(parts[1]) - 1} {
		refused(fmt.Sprintf("the slots cut at %d", cut), [][]byte{parts[0], parts[1][:cut]})
	}
	for _, cut := range []int{0, 5, len(parts[0]) - 1} {
		refused(fmt.Sprintf("the header cut at %d", cut), [][]byte{parts[0][:cut], parts[1]})
	}
	refused("no slots", parts[:1])
	refused("slots twice", [][]byte{parts[0], parts[1], parts[1]})
	refused("slots with bytes after them", [][]byte{parts[0], append(slices.Clone(parts[1]), recordFree)})
	newer := append([]byte(nil), parts[0]...)
	newer[len(savedMagic)+1] = savedFormat + 1 // the version follows the magic's length and text
	refused("another version", [][]byte{newer, parts[1]})
	refused("nothing saved but a header of nothing", [][]byte{{}})
}

// A ledger refuses saved slots whose links make no lists.
func TestSavedLinksChecked(t *testing.T) {
	for _, c := range []struct {
		what   string
		damage func(slots []account)
	}{
		{"a child its parent does not list", func(s []account) { s[5].parent = 0 }},
		{"a child listed twice", func(s []account) { s[4].next = 2 }},
		{"a list through a free slot", func(s []account) { s[2].next = 3 }},
		{"a slot of nothing", func(s []account) { s[len(s)-1].child = noSlot; s[1].parent = noSlot }},
	} {
		h, tariffs, slots := savedFixture(30, fixtureRates())
		c.damage(slots)
		l := newLedger(billing.DefaultPriceSheet())
		_, _, got, err := readSaved(encodeFixture(h, tariffs, slots), l.rates)
		if err != nil {
			t.Fatalf("%s: %v", c.what, err)
		}
		for _, a := range got {
			if err = l.restoreSlot(a); err != nil {
				break
			}
		}
		if err == nil {
			err = l.checkLinks()
		}
		if !errors.Is(err, errSavedForm) {
			t.Errorf("%s: %v, want errSavedForm", c.what, err)
		}
	}
}

// FuzzSavedReader feeds the reader anything: it refuses or reads, and
// never panics nor reads more slots than the header announced.
func FuzzSavedReader(f *testing.F) {
	h, tariffs, slots := savedFixture(5, fixtureRates())
	parts := encodeFixture(h, tariffs, slots)
	f.Add(parts[0], parts[1])
	rates := fixtureRates()
	f.Fuzz(func(t *testing.T, header, body []byte) {
		n := 0
		rd := &savedReader{
			rates:   rates,
			keyOf:   foldedKey,
			tariffs: func([]*billing.Tariff) error { return nil },
			slot:    func(account) error { n++; return nil },
		}
		if rd.part(header) != nil {
			return
		}
		if err := rd.part(body); err == nil && n > rd.header.Slots {
			t.Fatalf("read %d slots of %d", n, rd.header.Slots)
		}
	})
}

// FuzzSavedText writes a key or ID after another and reads it back as it
// was, hexadecimal runs and all; and reads anything without a panic.
func FuzzSavedText(f *testing.F) {
	f.Add("/subscriptions/s/resourceGroups/RG/providers/Microsoft.Compute/disks/vm-1_OsDisk_1_2f6c4d61359542b89602ab59e6aa3d35",
		"/subscriptions/s/resourceGroups/RG/providers/Microsoft.Compute/disks/vm-2_OsDisk_1_5b7e1c20cb104391a8d87a509d251974", []byte{3, 1, 'a', 1, 0xff})
	f.Add("", "d000123", []byte{})
	f.Add("abc", "abcDEF0", []byte{0, 0, 2, 0x12})
	f.Fuzz(func(t *testing.T, prev, s string, raw []byte) {
		var w wire
		w.text(prev, s)
		var scratch []byte
		r := &reader{buf: w.buf}
		if got := r.text(prev, &scratch); r.err != nil || got != s || len(r.buf) != 0 {
			t.Fatalf("after %q, %q read back as %q (%v, %d bytes left)", prev, s, got, r.err, len(r.buf))
		}
		r = &reader{buf: raw}
		if got := r.text(prev, &scratch); r.err != nil && got != "" {
			t.Fatalf("a damaged text read as %q", got)
		}
	})
}
