package dashboard

import (
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"testing"

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

func savedFixture(n int) (savedHeader, []savedAccount, []savedChildren) {
	h := savedHeader{Prices: [32]byte{1, 2, 3, 31: 9}, Horizon: 1_700_000_000_123_456_789,
		Last: savedEvent{Seq: 4242, ResourceID: "/subscriptions/s/resourceGroups/RG/providers/Microsoft.Compute/virtualMachines/Web",
			At: 1_700_000_500_000_000_001, ProvisioningState: "Succeeded", PowerState: "PowerState/running", OperationID: "op"},
		Accounts: n}
	var accts []savedAccount
	var disks savedChildren
	for i := range n {
		a := savedAccount{Key: fmt.Sprintf("/subscriptions/s/resourcegroups/rg/providers/microsoft.compute/disks/d%06d", i),
			ID: fmt.Sprintf("/subscriptions/s/resourceGroups/RG/providers/Microsoft.Compute/disks/D%06d", i),
			Running: billing.RunningState{Kind: billing.Disk, PowerState: []string{"", "running", "deallocated"}[i%3],
				Since: int64(1_700_000_000 + i), Seconds: int64(i * 7), Unpriced: i%5 == 0, Attrs: filledAttrs(i % 4)}}
		if i%3 == 0 {
			a.Running.Earlier = billing.Amount{Cost: big.NewRat(int64(i)+1, 7), Currency: "USD", Mixed: i%2 == 0, Unpriced: true}
		}
		if i%4 == 1 {
			a.Opening = billing.Amount{Cost: big.NewRat(-3, int64(i)+2), Currency: "EUR", Unpriced: i%8 == 1}
		}
		if i%2 == 0 {
			disks.Children = append(disks.Children, i)
		}
		accts = append(accts, a)
	}
	vm := savedAccount{Key: "/subscriptions/s/resourcegroups/rg/providers/microsoft.compute/virtualmachines/web",
		Running: billing.RunningState{Kind: billing.VM, PowerState: "running", Attrs: filledAttrs(9)}}
	accts = append(accts, vm)
	h.Accounts++
	disks.Kind, disks.Parent = billing.Disk, vm.Key
	return h, accts, []savedChildren{disks, {Kind: billing.PublicIP, Parent: "/gone", Children: []int{0}}}
}

// readSaved reads parts back.
func readSaved(parts [][]byte) (savedHeader, []savedAccount, []savedChildren, error) {
	var accts []savedAccount
	var children []savedChildren
	rd := &savedReader{
		account:  func(a savedAccount) error { accts = append(accts, a); return nil },
		children: func(c savedChildren) error { children = append(children, c); return nil },
	}
	for _, p := range parts {
		if err := rd.part(p); err != nil {
			return savedHeader{}, nil, nil, err
		}
	}
	if err := rd.done(); err != nil {
		return savedHeader{}, nil, nil, err
	}
	return *rd.header, accts, children, nil
}

// What is saved reads back as it was, in several parts when large.
func TestSavedAccountsRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 40_000} {
		h, accts, children := savedFixture(n)
		parts := encodeSaved(h, accts, children)
		if n == 40_000 && len(parts) < 3 {
			t.Errorf("%d accounts in %d parts: the parts are not bounded", n, len(parts))
		}
		for _, p := range parts {
			if len(p) > savedPartSize+1024 {
				t.Errorf("a part of %d bytes", len(p))
			}
		}
		gotH, gotAccts, gotChildren, err := readSaved(parts)
		if err != nil {
			t.Fatalf("%d accounts: %v", n, err)
		}
		if !reflect.DeepEqual(gotH, h) {
			t.Errorf("header %+v, want %+v", gotH, h)
		}
		if !reflect.DeepEqual(gotAccts, accts) {
			t.Errorf("%d accounts do not read back as they were", n)
			for i := range min(len(gotAccts), len(accts)) {
				if !reflect.DeepEqual(gotAccts[i], accts[i]) {
					t.Fatalf("account %d: %+v, want %+v", i, gotAccts[i], accts[i])
				}
			}
		}
		if !reflect.DeepEqual(gotChildren, children) {
			t.Errorf("children %v, want %v", gotChildren, children)
		}
	}
}

// A damaged or foreign saved form is refused with errSavedForm, never
// read as something else, whatever byte is cut or changed.
func TestSavedAccountsDamaged(t *testing.T) {
	h, accts, children := savedFixture(30)
	parts := encodeSaved(h, accts, children)
	if len(parts) != 2 {
		t.Fatalf("%d parts, want a header and one part", len(parts))
	}
	refused := func(what string, parts [][]byte) {
		t.Helper()
		if _, _, _, err := readSaved(parts); !errors.Is(err, errSavedForm) {
			t.Errorf("%s: %v, want errSavedForm", what, err)
		}
	}
	for _, cut := range []int{0, 1, len(parts[1]) / 2, len(parts[1]) - 1} {
		refused(fmt.Sprintf("the accounts cut at %d", cut), [][]byte{parts[0], parts[1][:cut]})
	}
	for _, cut := range []int{0, 5, len(parts[0]) - 1} {
		refused(fmt.Sprintf("the header cut at %d", cut), [][]byte{parts[0][:cut], parts[1]})
	}
	refused("no accounts", parts[:1])
	refused("accounts twice", [][]byte{parts[0], parts[1], parts[1]})
	newer := append([]byte(nil), parts[0]...)
	newer[len(savedMagic)+1] = savedFormat + 1 // the version follows the magic's length and text
	refused("another version", [][]byte{newer, parts[1]})
	refused("nothing saved but a header of nothing", [][]byte{{}})
}

// FuzzSavedReader feeds the reader anything: it refuses or reads, and
// never panics nor reads more accounts than the header announced.
func FuzzSavedReader(f *testing.F) {
	h, accts, children := savedFixture(5)
	parts := encodeSaved(h, accts, children)
	f.Add(parts[0], parts[1])
	f.Fuzz(func(t *testing.T, header, body []byte) {
		n := 0
		rd := &savedReader{
			account:  func(savedAccount) error { n++; return nil },
			children: func(savedChildren) error { return nil },
		}
		if rd.part(header) != nil {
			return
		}
		if err := rd.part(body); err == nil && n > rd.header.Accounts {
			t.Fatalf("read %d accounts of %d", n, rd.header.Accounts)
		}
	})
}
