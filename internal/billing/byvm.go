package billing

import (
	"encoding/json"
	"math/big"
	"strings"
)

// VMBill is one VM's line of a bill: its compute over the window (all its
// meters, if it was resized) and the disks and public IPs that name it as
// their parent.
type VMBill struct {
	ResourceID string
	Attrs      Attrs    // of its last meter
	MeterKey   MeterKey // its last meter
	Sizes      []string // every size it ran as, in meter order
	Hours      Hours
	Compute    Amount
	Disks      Amount
	Network    Amount // its public IPs
	Total      Amount
}

// Bill is a window's line items summed the way a bill shows them: per VM
// with its disks and public IPs, then the disks and IPs no VM of the window
// owns, then totals.
type Bill struct {
	VMs     []VMBill
	Orphans []LineItem // disks and public IPs without a VM among the items
	Compute Amount     // every VM's compute
	Disks   Amount     // every disk, owned or not
	Network Amount     // every public IP, owned or not
	Total   Amount
}

// BillByVM sums rated line items by VM, in the items' order.
func BillByVM(items []LineItem) Bill {
	var b Bill
	byID := map[string]int{}
	for _, li := range items {
		if li.Kind != VM {
			continue
		}
		key := strings.ToLower(li.ResourceID)
		i, ok := byID[key]
		if !ok {
			i = len(b.VMs)
			byID[key] = i
			b.VMs = append(b.VMs, VMBill{ResourceID: li.ResourceID})
		}
		v := &b.VMs[i]
		v.Attrs, v.MeterKey = li.Attrs, li.MeterKey
		if li.Attrs.VMSize != "" && !contains(v.Sizes, li.Attrs.VMSize) {
			v.Sizes = append(v.Sizes, li.Attrs.VMSize)
		}
		v.Hours.AddPowerStates(li.ByPowerState)
		v.Compute.AddItem(li)
	}
	for _, li := range items {
		if li.Kind == VM {
			continue
		}
		if i, ok := byID[strings.ToLower(li.Attrs.ParentID)]; ok && li.Attrs.ParentID != "" {
			b.VMs[i].part(li.Kind).AddItem(li)
			continue
		}
		b.Orphans = append(b.Orphans, li)
	}
	for i := range b.VMs {
		v := &b.VMs[i]
		v.Total.Merge(v.Compute)
		v.Total.Merge(v.Disks)
		v.Total.Merge(v.Network)
		b.Compute.Merge(v.Compute)
		b.Disks.Merge(v.Disks)
		b.Network.Merge(v.Network)
	}
	for _, li := range b.Orphans {
		if li.Kind == PublicIP {
			b.Network.AddItem(li)
		} else {
			b.Disks.AddItem(li)
		}
	}
	b.Total.Merge(b.Compute)
	b.Total.Merge(b.Disks)
	b.Total.Merge(b.Network)
	return b
}

// part gives the amount of the VM's bill a resource of kind k adds to.
func (v *VMBill) part(k ResourceKind) *Amount {
	if k == PublicIP {
		return &v.Network
	}
	return &v.Disks
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// amountJSON is how an Amount travels: the priced sum as an exact decimal
// number (null when nothing priced was added) and the flags that qualify it.
type amountJSON struct {
	Cost     *Number `json:"cost"`
	Currency string  `json:"currency,omitempty"`
	Mixed    bool    `json:"mixed,omitempty"`
	Unpriced bool    `json:"unpriced,omitempty"`
}

// MarshalJSON writes {"cost": n, "currency": ..., "unpriced": ...}.
func (a Amount) MarshalJSON() ([]byte, error) {
	out := amountJSON{Currency: a.Currency, Mixed: a.Mixed, Unpriced: a.Unpriced}
	if a.Cost != nil {
		n := NumberOf(a.Cost)
		out.Cost = &n
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads what MarshalJSON writes, exactly.
func (a *Amount) UnmarshalJSON(b []byte) error {
	var in amountJSON
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*a = Amount{Currency: in.Currency, Mixed: in.Mixed, Unpriced: in.Unpriced}
	if in.Cost != nil {
		a.Cost = new(big.Rat).Set(in.Cost.Rat())
	}
	return nil
}
