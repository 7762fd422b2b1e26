package armapi

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/lifecycle"
)

func checkComputeTime(t *testing.T, at time.Time) {
	t.Helper()
	want := at.UTC().AppendFormat(nil, lifecycle.TimeLayout)
	if got := appendComputeTime(nil, at); !bytes.Equal(got, want) {
		t.Fatalf("%v: %s, want %s", at, got, want)
	}
}

func TestAppendComputeTimeMatchesAppendFormat(t *testing.T) {
	east := time.FixedZone("east", 5*3600+1800)
	for _, at := range []time.Time{
		{}, time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC), time.Date(2026, 12, 31, 23, 59, 59, 999999999, east),
		time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 99, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-5, 3, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 1, 1, 0, 30, 0, 0, east), // the day before in UTC
		// The date's edges: leap days of years by 4, 100 and 400, a
		// year's first and last days, and before 1970 and year 1.
		time.Date(2000, 2, 29, 12, 0, 0, 0, time.UTC), time.Date(1900, 2, 28, 23, 59, 59, 0, time.UTC), time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), time.Date(2023, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(0, 2, 29, 0, 0, 0, 0, time.UTC), time.Date(1600, 3, 1, 0, 0, 0, 0, time.UTC),
	} {
		checkComputeTime(t, at)
	}
}

func FuzzAppendComputeTime(f *testing.F) {
	f.Add(int64(1767225600), int64(123456789), int32(0))
	f.Fuzz(func(t *testing.T, sec, nsec int64, offset int32) {
		checkComputeTime(t, time.Unix(sec, nsec).In(time.FixedZone("z", int(offset%(18*3600)))))
	})
}

// stateVM is a VM in a state drawn from pick and from the fuzzer's
// strings: every facet's values, odd ones too, with and without times.
func stateVM(rng *rand.Rand, odd string) *engine.VM {
	provs := []lifecycle.Provisioning{lifecycle.Creating, lifecycle.Updating, lifecycle.Succeeded, lifecycle.Failed, lifecycle.Deleting, lifecycle.Migrating, "", lifecycle.Provisioning(odd)}
	oses := []lifecycle.OSProvisioning{"", lifecycle.OSProvisioningInProgress, lifecycle.OSProvisioningComplete, lifecycle.OSProvisioning(odd)}
	powers := []lifecycle.Power{"", lifecycle.Starting, lifecycle.Running, lifecycle.Stopping, lifecycle.Stopped, lifecycle.Deallocating, lifecycle.Deallocated, lifecycle.Power(odd)}
	times := []time.Time{{}, time.Date(2026, 1, 2, 3, 5, 0, 0, time.UTC), time.Date(2026, 7, 8, 9, 10, 11, 123456789, time.FixedZone("x", -7*3600)),
		time.Date(2001, 2, 3, 4, 5, 6, 7890100, time.UTC)} // the fragments' own mark
	st := lifecycle.State{Provisioning: provs[rng.IntN(len(provs))], OS: oses[rng.IntN(len(oses))], Power: powers[rng.IntN(len(powers))],
		Generalized: rng.IntN(4) == 0, Hibernated: rng.IntN(4) == 0, ProvisionedAt: times[rng.IntN(len(times))]}
	if rng.IntN(6) == 0 {
		st.Failure = &lifecycle.Failure{Code: odd, Message: "no <room> & " + odd}
	}
	specs := renderSpecs()
	spec := specs[rng.IntN(len(specs))]
	if rng.IntN(3) == 0 {
		spec.ComputerName, spec.OSName = odd, odd
		spec.Disks = append(spec.Disks, engine.DiskRef{Name: odd})
	}
	v := testVM(renderModels[rng.IntN(len(renderModels))], st, spec)
	v.TimeCreated = times[rng.IntN(len(times))]
	return v
}

// checkStateView compares a VM's instance view written from its state
// with instanceView's, and every answer with the reference's.
func checkStateView(t *testing.T, s *Server, v *engine.VM) {
	t.Helper()
	iv := instanceView(v)
	want := appendInstanceView(nil, &iv)
	// Twice: the fragments made, then kept.
	for range 2 {
		if got := appendStateInstanceView(nil, v); !bytes.Equal(got, want) {
			t.Fatalf("state %+v, spec %+v:\n got %s\nwant %s", v.Machine.State, v.Spec, got, want)
		}
	}
	checkVMRendering(t, s, v, nil)
}

func TestStateInstanceViewMatchesInstanceView(t *testing.T) {
	s := New(Config{Engine: nil})
	rng := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		checkStateView(t, s, stateVM(rng, "Odd <&> \u2028 \xff"))
	}
	// Every answer of each, and their list pages, written by the
	// reference (encodeJSON) too.
	vms := make([]*engine.VM, 0, 200)
	for range cap(vms) {
		v := stateVM(rng, "x")
		v.ID += string(rune('a' + len(vms)%26))
		vms = append(vms, v)
	}
	checkListPages(t, listServer(t), vms, "", func(int) bool { return false })
}

func FuzzStateInstanceView(f *testing.F) {
	f.Add(uint64(1), "Succeeded")
	f.Add(uint64(2), "<&>\u2028")
	s := New(Config{Engine: nil})
	f.Fuzz(func(t *testing.T, seed uint64, odd string) {
		rng := rand.New(rand.NewPCG(seed, seed>>9))
		checkStateView(t, s, stateVM(rng, odd))
	})
}

func BenchmarkAppendComputeTime(b *testing.B) {
	at := time.Date(2026, 7, 8, 9, 10, 11, 123456789, time.UTC)
	buf := make([]byte, 0, 64)
	for b.Loop() {
		buf = appendComputeTime(buf[:0], at)
	}
}
