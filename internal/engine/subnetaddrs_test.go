package engine

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

// The run of held addresses never covers a free one, whatever the order
// addresses are held and let go in; and a subnet filled from its start
// keeps it covering every address given, so that the next search starts
// past them.
func TestSubnetAddrsRunCoversOnlyHeldAddresses(t *testing.T) {
	base := netip.MustParseAddr("10.0.0.4")
	addr := func(i int) netip.Addr {
		a := base
		for range i {
			a = a.Next()
		}
		return a
	}
	lowestFree := func(s *subnetAddrs, first netip.Addr) netip.Addr {
		a := first
		for ; ; a = a.Next() {
			if _, ok := s.byAddr[a.String()]; !ok {
				return a
			}
		}
	}
	check := func(t *testing.T, s *subnetAddrs) {
		t.Helper()
		for a := s.from; a.IsValid() && a.Less(s.to); a = a.Next() {
			if _, ok := s.byAddr[a.String()]; !ok {
				t.Fatalf("the run [%s, %s) covers %s, which is free", s.from, s.to, a)
			}
		}
		for i := range 40 {
			first := addr(i)
			if got, want := s.freeFrom(first), lowestFree(s, first); want.Less(got) || got.Less(first) {
				t.Fatalf("freeFrom(%s) = %s: the lowest free is %s", first, got, want)
			}
		}
	}

	t.Run("filled from its start", func(t *testing.T) {
		s := newSubnetAddrs()
		for i := range 1000 {
			s.hold(addr(i).String(), "k")
		}
		check(t, s)
		if got := s.freeFrom(base); got != addr(1000) {
			t.Errorf("after 1,000 addresses held from the start, a search starts at %s, want %s", got, addr(1000))
		}
		s.release(addr(500).String())
		check(t, s)
		if got := s.freeFrom(base); got != addr(500) {
			t.Errorf("after .500 is let go, a search starts at %s, want %s", got, addr(500))
		}
		s.hold(addr(500).String(), "k")
		if got := s.freeFrom(base); got != addr(1000) {
			t.Errorf("after .500 is held again, a search starts at %s, want %s", got, addr(1000))
		}
	})

	for seed := range uint64(50) {
		rng := rand.New(rand.NewPCG(seed, 1))
		s := newSubnetAddrs()
		for range 400 {
			a := addr(rng.IntN(30)).String()
			if rng.IntN(3) == 0 {
				s.release(a)
			} else {
				s.hold(a, "k")
			}
			check(t, s)
		}
	}
}
