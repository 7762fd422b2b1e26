package nic

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/azemu/azemu/internal/jsonwire"
	"github.com/azemu/azemu/internal/kinds/resource"
)

// A fleet whose VMs were made as `az vm create` makes them has an
// interface a VM, and every start reads each one's document: it is read
// by hand when it has the shape json.Marshal gives it (RowOf), and with
// encoding/json otherwise, and either way kept compact, as a disk's is.

// DecodeInterned is Decode, reading the document by hand when it has
// json.Marshal's shape. Either way it interns the words a fleet repeats
// (location, group, configurations' names, subnets, allocation, version,
// pools, delete option) in words (nil: none), keeps the configurations at
// their size, and points the strings a configuration repeats of its spec
// at one copy.
func DecodeInterned(id string, row resource.Row, version int64, words *jsonwire.Interner) (resource.State, error) {
	n := new(NIC)
	if !n.read(row.Body, words) {
		*n = NIC{}
		if err := json.Unmarshal(row.Body, n); err != nil {
			return nil, fmt.Errorf("%s: %w", id, err)
		}
		n.intern(words)
	}
	n.compact()
	n.Meta = row.Meta(id, version)
	return n, nil
}

// read reads data into n by hand, and reports whether it had the shape
// json.Marshal writes; when it did not, n is left half read.
func (n *NIC) read(data []byte, words *jsonwire.Interner) bool {
	d := jsonwire.NewDecoder(data, words)
	d.Open().Str("resourceGuid", &n.ResourceGUID).Time("timeCreated", &n.TimeCreated)
	if d.Member("spec") {
		n.Spec.ReadJSON(d)
	}
	jsonwire.ReadArray(d, "ipConfigurations", &n.IPConfigs, (*IPConfig).readJSON)
	d.Str("virtualMachine", &n.VirtualMachine).Bool("primary", &n.Primary).Word("deleteOption", &n.DeleteOption)
	d.Str("macAddress", &n.MACAddress).Close()
	return d.OK()
}

// readJSON reads c as json.Unmarshal does.
func (c *IPConfig) readJSON(d *jsonwire.Decoder) {
	c.readMembers(d.Open())
	d.Str("address", &c.Address).Close()
}

// intern points the words n repeats at words' copies, as read does.
func (n *NIC) intern(words *jsonwire.Interner) {
	if words == nil {
		return
	}
	word := func(s *string) {
		if *s != "" {
			*s = words.String(*s)
		}
	}
	word(&n.Spec.Location)
	word(&n.Spec.NSG)
	word(&n.DeleteOption)
	configWords := func(c *IPConfigSpec) {
		word(&c.Name)
		word(&c.Subnet)
		word(&c.Allocation)
		word(&c.Version)
		for i := range c.Pools {
			word(&c.Pools[i])
		}
	}
	for i := range n.Spec.IPConfigs {
		configWords(&n.Spec.IPConfigs[i])
	}
	for i := range n.IPConfigs {
		configWords(&n.IPConfigs[i].IPConfigSpec)
	}
}

// compact keeps n's slices at their size, and points the strings each
// configuration holds as its spec does (its public IP, its asked and held
// private address, its pools) at one copy. Strings are immutable: this
// changes no value, only the memory n holds.
func (n *NIC) compact() {
	n.Spec.IPConfigs = fit(n.Spec.IPConfigs)
	n.IPConfigs = fit(n.IPConfigs)
	for i := range n.Spec.IPConfigs {
		n.Spec.IPConfigs[i].Pools = fit(n.Spec.IPConfigs[i].Pools)
	}
	for i := range n.IPConfigs {
		c := &n.IPConfigs[i]
		c.Pools = fit(c.Pools)
		share(&c.Address, c.PrivateIP)
		if i >= len(n.Spec.IPConfigs) {
			continue
		}
		spec := &n.Spec.IPConfigs[i]
		share(&c.PublicIP, spec.PublicIP)
		share(&c.PrivateIP, spec.PrivateIP)
		share(&c.Address, spec.PrivateIP)
		if len(c.Pools) == len(spec.Pools) {
			for j := range c.Pools {
				share(&c.Pools[j], spec.Pools[j])
			}
		}
	}
}

// fit is s at its size: a copy when it has room for more (an empty one
// holds no array).
func fit[T any](s []T) []T {
	switch {
	case cap(s) == len(s):
		return s
	case len(s) == 0:
		return []T{}
	}
	return slices.Clone(s)
}

// share points *s at other's copy when equal.
func share(s *string, other string) {
	if *s == other {
		*s = other
	}
}
