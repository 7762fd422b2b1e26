package engine

import (
	"net/netip"

	"github.com/azemu/azemu/internal/armid"
)

// subnetAddrs is the engine's index of the private addresses a subnet's
// committed interfaces hold, and a run of them held end to end.
//
// An interface takes the lowest free address of its subnet. Looking for
// it address by address from the subnet's start cost as many lookups as
// the subnet had interfaces, so filling a subnet took time quadratic in
// its size. The run [from, to) is a stretch of addresses all held: a
// search that would start inside it starts at its end instead. Filling a
// subnet from its start, as clients and the seed do, keeps the run
// covering every address given, so each new interface finds its address
// at once.
type subnetAddrs struct {
	byAddr   map[string]string // address → key of the interface holding it
	from, to netip.Addr        // every address in [from, to) is held; empty when equal
}

func newSubnetAddrs() *subnetAddrs { return &subnetAddrs{byAddr: map[string]string{}} }

// hold records that the interface under key holds addr.
func (s *subnetAddrs) hold(addr, key string) {
	s.byAddr[addr] = key
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return // never from a decision; an odd stored row only misses the run
	}
	switch {
	case s.from.IsValid() && s.from != s.to && a.Next() == s.from:
		s.from = a
	case s.from.IsValid() && s.from != s.to && a == s.to:
		s.extend()
	case !s.from.IsValid() || s.from == s.to || a.Less(s.from):
		// A run that starts lower serves more searches: they start at
		// the subnet's first address.
		s.from, s.to = a, a
		s.extend()
	}
}

// extend moves the run's end past every address held after it.
func (s *subnetAddrs) extend() {
	for {
		if _, ok := s.byAddr[s.to.String()]; !ok {
			return
		}
		next := s.to.Next()
		if !next.IsValid() {
			return
		}
		s.to = next
	}
}

// release records that addr is held no more; the run keeps the part
// below it.
func (s *subnetAddrs) release(addr string) {
	delete(s.byAddr, addr)
	if a, err := netip.ParseAddr(addr); err == nil && s.from.IsValid() && !a.Less(s.from) && a.Less(s.to) {
		s.to = a
	}
}

// freeFrom is where a search for a free address at or after first may
// start: every address from first up to it is held.
func (s *subnetAddrs) freeFrom(first netip.Addr) netip.Addr {
	if s == nil || !s.from.IsValid() || first.Less(s.from) || !first.Less(s.to) {
		return first
	}
	return s.to
}

// nicHolds reports whether interface n (nil: none) holds address addr in
// the subnet with ID subnet.
func nicHolds(n *NetworkInterface, subnet, addr string) bool {
	if n == nil {
		return false
	}
	for _, c := range n.IPConfigs {
		if c.Address == addr && armid.Equal(c.Subnet, subnet) {
			return true
		}
	}
	return false
}
