package billing

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// Property tests over random histories, from fixed seeds so they are
// deterministic.

var attrVariants = func() []Attrs {
	win := linuxD2
	win.OSType = "Windows"
	hyb := win
	hyb.LicenseType = "Windows_Server"
	spot := linuxD2
	spot.Priority = "Spot"
	winSpot := win
	winSpot.Priority = "Spot"
	low := linuxD2
	low.Priority = "Low"
	d4 := linuxD2
	d4.VMSize = "Standard_D4s_v3"
	noOS := linuxD2
	noOS.OSType = ""
	west := linuxD2
	west.Location = "westus2"
	return []Attrs{linuxD2, win, hyb, spot, winSpot, low, d4, noOS, west}
}()

var diskVariants = []struct {
	sku  string
	size int
}{{"Premium_LRS", 100}, {"Premium_LRS", 30}, {"StandardSSD_LRS", 128}, {"Standard_LRS", 20}, {"Premium_LRS", 1024}, {"Premium_ZRS", 128}}

// ipVariants are public IPs: priced and unpriced (IPv6, a Global address
// priced by a "Global" row), and one whose SKU no row knows.
var ipVariants = []Attrs{
	standardIP,
	{Location: "eastus", IPSKU: "Basic", IPAllocation: "Dynamic"},
	{Location: "eastus", IPSKU: "Basic", IPAllocation: "Static"},
	{Location: "eastus", IPSKU: "Standard", IPVersion: "IPv6"},
	{Location: "westus2", IPSKU: "Standard", IPTier: "Global"},
	{Location: "eastus", IPSKU: "Premium"},
	{Location: "eastus", IPSKU: "Basic", IPAllocation: "Dynamic", IPReleased: true},
}

// randomHistory gives a history of n resources over about span, in time
// order, with sub-second instants, ties, resizes, deletions and re-creations.
func randomHistory(r *rand.Rand, n int, start time.Time, span time.Duration) []Event {
	var evs []Event
	for i := range n {
		at := start.Add(time.Duration(r.Int64N(int64(span / 4))))
		if r.IntN(2) == 0 {
			id := vmID(fmt.Sprintf("vm%d", i))
			if r.IntN(3) == 0 {
				id = strings.ToUpper(id) // same resource, other casing, for some
			}
			for range 1 + r.IntN(12) {
				e := Event{ResourceID: id, At: at, Kind: VM}
				switch x := r.IntN(20); {
				case x == 0:
					e.Deleted = true
				case x < 4:
					e.PowerState = powerStateNames[r.IntN(int(numPowerStates))]
					e.Attrs = attrVariants[r.IntN(len(attrVariants))]
				default:
					e.PowerState = powerStateNames[r.IntN(int(numPowerStates))]
					if r.IntN(3) == 0 {
						e.Attrs = attrVariants[0]
					}
				}
				evs = append(evs, e)
				if r.IntN(5) > 0 {
					at = at.Add(time.Duration(r.Int64N(int64(span / 6))))
				}
			}
		} else {
			id, kind := diskID(fmt.Sprintf("disk%d", i)), Disk
			if r.IntN(3) == 0 {
				id, kind = ipID(fmt.Sprintf("ip%d", i)), PublicIP
			}
			for range 1 + r.IntN(4) {
				e := Event{ResourceID: id, At: at, Kind: kind}
				switch {
				case r.IntN(4) == 0:
					e.Deleted = true
				case kind == PublicIP:
					e.Attrs = ipVariants[r.IntN(len(ipVariants))]
				default:
					v := diskVariants[r.IntN(len(diskVariants))]
					e.Attrs = Attrs{Location: "eastus", DiskSKU: v.sku, DiskSizeGB: v.size}
				}
				evs = append(evs, e)
				at = at.Add(time.Duration(r.Int64N(int64(span / 3))))
			}
		}
	}
	slices.SortStableFunc(evs, func(a, b Event) int { return a.At.Compare(b.At) })
	return evs
}

type lineKey struct {
	id  string
	key MeterKey
}

type line struct {
	seconds int64
	byPS    map[string]int64
}

func lines(us []Usage) map[lineKey]line {
	out := map[lineKey]line{}
	for _, u := range us {
		k := lineKey{strings.ToLower(u.ResourceID), u.MeterKey}
		if _, dup := out[k]; dup {
			panic(fmt.Sprintf("two lines for %v", k))
		}
		out[k] = line{u.Seconds, u.ByPowerState}
	}
	return out
}

// add merges b into a (in place) and returns a.
func add(a, b map[lineKey]line) map[lineKey]line {
	for k, l := range b {
		s := a[k]
		s.seconds += l.seconds
		if l.byPS != nil && s.byPS == nil {
			s.byPS = map[string]int64{}
		}
		for ps, v := range l.byPS {
			s.byPS[ps] += v
		}
		a[k] = s
	}
	return a
}

// oracle meters by brute force: for every step of the window it replays the
// history to find each resource's state at that instant.
func oracle(evs []Event, from, to time.Time, g Granularity) map[lineKey]line {
	type st struct {
		live  bool
		kind  ResourceKind
		ps    string
		attrs Attrs
	}
	byRes := map[string][]Event{}
	for _, e := range evs {
		k := strings.ToLower(e.ResourceID)
		byRes[k] = append(byRes[k], e)
	}
	out := map[lineKey]line{}
	step := g.step()
	for id, es := range byRes {
		var s st
		next := 0
		for t := g.floor(from); t < g.floor(to); t += step {
			for next < len(es) && g.floor(es[next].At) <= t {
				e := es[next]
				if e.Deleted {
					s.live = false
				} else {
					if e.Attrs != (Attrs{}) || !s.live {
						s.attrs = e.Attrs
					}
					s.live, s.kind, s.ps = true, e.Kind, strings.ToLower(e.PowerState)
				}
				next++
			}
			if !s.live {
				continue
			}
			key, _ := KeyFor(s.kind, s.attrs)
			l := out[lineKey{id, key}]
			if s.kind == VM {
				if l.byPS == nil {
					l.byPS = map[string]int64{}
				}
				l.byPS[s.ps] += step
				if BilledPowerState(s.ps) {
					l.seconds += step
				}
			} else if !s.attrs.IPReleased {
				l.seconds += step
			}
			out[lineKey{id, key}] = l
		}
	}
	return out
}

func costs(t *testing.T, us []Usage, p *PriceSheet) map[lineKey]*big.Rat {
	out := map[lineKey]*big.Rat{}
	for _, li := range Rate(us, p) {
		k := lineKey{strings.ToLower(li.ResourceID), li.MeterKey}
		if li.Priced != (li.Cost != nil) {
			t.Fatalf("%v: priced %v with cost %v", k, li.Priced, li.Cost)
		}
		if li.Priced {
			out[k] = li.Cost
		}
	}
	return out
}

func sumCosts(a, b map[lineKey]*big.Rat) map[lineKey]*big.Rat {
	out := map[lineKey]*big.Rat{}
	for _, m := range []map[lineKey]*big.Rat{a, b} {
		for k, c := range m {
			if out[k] == nil {
				out[k] = new(big.Rat)
			}
			out[k].Add(out[k], c)
		}
	}
	return out
}

func equalCosts(a, b map[lineKey]*big.Rat) bool {
	if len(a) != len(b) {
		return false
	}
	for k, c := range a {
		if d := b[k]; d == nil || c.Cmp(d) != 0 {
			return false
		}
	}
	return true
}

// randInstant is an instant in [lo, lo+span) with nanoseconds.
func randInstant(r *rand.Rand, lo time.Time, span time.Duration) time.Time {
	return lo.Add(time.Duration(r.Int64N(int64(span))))
}

func TestPropertyWindowAdditivityAndOracle(t *testing.T) {
	p := mustSheet(t, testSheet)
	for _, g := range []Granularity{PerSecond, PerMinute} {
		for seed := range uint64(150) {
			r := rand.New(rand.NewPCG(seed, uint64(g)))
			span := 6 * time.Hour
			evs := randomHistory(r, 1+r.IntN(12), t0, span)
			a := randInstant(r, t0.Add(-time.Hour), 2*time.Hour)
			c := randInstant(r, a, span)
			b := randInstant(r, a, c.Sub(a)+1)

			whole := meter(t, a, c, g, evs...)
			left := meter(t, a, b, g, evs...)
			right := meter(t, b, c, g, evs...)
			lw := lines(whole)
			if got := add(add(map[lineKey]line{}, lines(left)), lines(right)); !reflect.DeepEqual(lw, got) {
				t.Fatalf("%v seed %d: [a,b)+[b,c) != [a,c):\nwhole %v\nsum   %v", g, seed, lw, got)
			}
			if want := oracle(evs, a, c, g); !reflect.DeepEqual(lw, want) {
				t.Fatalf("%v seed %d: meter disagrees with brute force:\nmeter  %v\noracle %v", g, seed, lw, want)
			}
			if !equalCosts(costs(t, whole, p), sumCosts(costs(t, left, p), costs(t, right, p))) {
				t.Fatalf("%v seed %d: costs are not additive", g, seed)
			}
			for _, u := range whole {
				var billed int64
				for ps, s := range u.ByPowerState {
					if BilledPowerState(ps) {
						billed += s
					}
				}
				if u.Kind == VM && billed != u.Seconds {
					t.Fatalf("%v seed %d: %s billed %d s but %v", g, seed, u.ResourceID, u.Seconds, u.ByPowerState)
				}
				if u.Seconds%g.step() != 0 {
					t.Fatalf("%v seed %d: %d s is not whole %v", g, seed, u.Seconds, g)
				}
			}
		}
	}
}

// Nothing accrues while a VM is deallocating, deallocated or without a power
// state, however the history goes.
func TestPropertyNothingAccruesUnallocated(t *testing.T) {
	unbilled := []string{"", "deallocating", "deallocated"}
	for seed := range uint64(200) {
		r := rand.New(rand.NewPCG(seed, 7))
		evs := randomHistory(r, 1+r.IntN(8), t0, 4*time.Hour)
		var vmOnly []Event
		for _, e := range evs {
			if e.Kind == VM {
				e.PowerState = unbilled[r.IntN(len(unbilled))]
				vmOnly = append(vmOnly, e)
			}
		}
		for _, u := range meter(t, t0.Add(-time.Hour), t0.Add(6*time.Hour), PerSecond, vmOnly...) {
			if u.Seconds != 0 || !u.Start.IsZero() || !u.End.IsZero() {
				t.Fatalf("seed %d: %s billed %d s while unallocated (%v)", seed, u.ResourceID, u.Seconds, u.ByPowerState)
			}
		}
	}
}

// Cost is monotonic in the window's end, line by line and in total.
func TestPropertyCostMonotonic(t *testing.T) {
	p := mustSheet(t, testSheet)
	for seed := range uint64(60) {
		r := rand.New(rand.NewPCG(seed, 11))
		evs := randomHistory(r, 1+r.IntN(10), t0, 5*time.Hour)
		from := t0.Add(-30 * time.Minute)
		var prev map[lineKey]*big.Rat
		prevTotal := new(big.Rat)
		for end := from; end.Before(t0.Add(6 * time.Hour)); end = end.Add(time.Duration(1 + r.Int64N(int64(20*time.Minute)))) {
			cur := costs(t, meter(t, from, end, PerSecond, evs...), p)
			total := new(big.Rat)
			for k, c := range cur {
				total.Add(total, c)
				if old := prev[k]; old != nil && c.Cmp(old) < 0 {
					t.Fatalf("seed %d: %v fell from %v to %v at %v", seed, k, old, c, end)
				}
			}
			for k := range prev {
				if cur[k] == nil {
					t.Fatalf("seed %d: %v disappeared at %v", seed, k, end)
				}
			}
			if total.Cmp(prevTotal) < 0 {
				t.Fatalf("seed %d: total fell from %v to %v", seed, prevTotal, total)
			}
			prev, prevTotal = cur, total
		}
	}
}
