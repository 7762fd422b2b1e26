package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/clock"
	"github.com/azemu/azemu/internal/lifecycle"
	"github.com/azemu/azemu/internal/store/memstore"
)

// seededRun drives a fixed script on a fresh engine with the given seed and
// returns everything random it saw: operation IDs, vmIds, disks' unique IDs
// and which starts a half-probability fault failed.
func seededRun(t *testing.T, seed uint64) string {
	t.Helper()
	st := memstore.New()
	t.Cleanup(func() { st.Close() })
	eng, err := New(context.Background(), Config{Store: st, Manual: clock.NewManual(t0), Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := putGroup(ctx, eng, testSub, "rg", "westus"); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Do(ctx, AddFault{Fault: Fault{Kind: FaultError, Operation: "start", Error: "AllocationFailed", Probability: 0.5}}); err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := range 8 {
		name := fmt.Sprintf("vm%d", i)
		v, _, op, err := putVM(ctx, eng, testSub, "rg", name, func(*VM) (json.RawMessage, VMSpec, error) {
			return json.RawMessage(`{}`), VMSpec{Location: "westus", VMSize: "Standard_D2s_v3", OSType: "Linux",
				Disks: []DiskRef{{Name: name + "_os", CreateOption: "FromImage", SizeGB: 30, OS: true}}}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		d, err := eng.GetDisk(testSub, "rg", name+"_os")
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, op.ID, v.VMID, d.UniqueID)
	}
	if _, err := eng.Do(ctx, AdvanceClock{By: 10 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	for i := range 8 {
		name := fmt.Sprintf("vm%d", i)
		if _, err := act(ctx, eng, testSub, "rg", name, lifecycle.Request{Kind: lifecycle.Deallocate}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := eng.Do(ctx, AdvanceClock{By: 10 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	for i := range 8 {
		op, err := act(ctx, eng, testSub, "rg", fmt.Sprintf("vm%d", i), lifecycle.Request{Kind: lifecycle.Start})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, op.ID)
	}
	if _, err := eng.Do(ctx, AdvanceClock{By: 10 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	for i := range 8 {
		v, err := eng.GetVM(testSub, "rg", fmt.Sprintf("vm%d", i))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v.Machine.State.ProvisioningCode())
	}
	out = append(out, eng.NewID())
	return strings.Join(out, "\n")
}

// A seed makes a run repeat exactly: every ID and every fault roll.
func TestSeedRepeatsARun(t *testing.T) {
	a, b := seededRun(t, 42), seededRun(t, 42)
	if a != b {
		t.Fatalf("two runs with seed 42 differ:\n%s\n---\n%s", a, b)
	}
	if !strings.Contains(a, "ProvisioningState/failed/AllocationFailed") || !strings.Contains(a, "ProvisioningState/succeeded") {
		t.Fatalf("a fault of probability 0.5 over 8 starts should both fire and not:\n%s", a)
	}
	if c := seededRun(t, 43); c == a {
		t.Fatal("seeds 42 and 43 gave the same run")
	}
}
