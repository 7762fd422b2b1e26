package engine

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/armerror"
	"github.com/azemu/azemu/internal/lifecycle"
	"github.com/azemu/azemu/internal/store"
	"github.com/azemu/azemu/internal/store/memstore"
)

// A store with no room (memstore past its limit, as a full disk) refuses a
// change with InsufficientStorage, changes nothing, in the store or in
// memory, says so in its health, and recovers once there is room.
func TestFullStoreIsNamedAndRecovered(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	r.group("rg")
	r.createVM("rg", "a", true)
	r.advance(5 * time.Minute)
	before := r.history(vmID("rg", "a"))
	all := 0
	if err := r.eng.History(ctx, "", time.Time{}, t0.Add(1000*time.Hour), func(store.Event) error { all++; return nil }); err != nil {
		t.Fatal(err)
	}
	r.mem.(*memstore.Store).SetEventLimit(all)

	_, err := act(ctx, r.eng, testSub, "rg", "a", lifecycle.Request{Kind: lifecycle.Deallocate})
	var ee *Error
	if !errors.As(err, &ee) || ee.Code != armerror.CodeInsufficientStorage {
		t.Fatalf("a change to a full store: %v, want %s", err, armerror.CodeInsufficientStorage)
	}
	if st := r.state("rg", "a"); st.Provisioning != lifecycle.Succeeded || st.Power != lifecycle.Running {
		t.Errorf("the refused change shows in memory: %+v", st)
	}
	if got := r.history(vmID("rg", "a")); len(got) != len(before) {
		t.Errorf("the refused change shows in the history: %d events, want %d", len(got), len(before))
	}
	if h := r.eng.StoreHealth(); h.Writable || h.Problem != "diskFull" || h.Failures["diskFull"] != 1 {
		t.Errorf("health with a full store: %+v", h)
	}

	r.mem.(*memstore.Store).SetEventLimit(0)
	if _, err := act(ctx, r.eng, testSub, "rg", "a", lifecycle.Request{Kind: lifecycle.Deallocate}); err != nil {
		t.Fatalf("once there is room: %v", err)
	}
	if h := r.eng.StoreHealth(); !h.Writable || h.Problem != "" {
		t.Errorf("health once there is room: %+v", h)
	}
	r.advance(time.Minute)
	if st := r.state("rg", "a"); st.Power != lifecycle.Deallocated {
		t.Errorf("after the retried deallocation: %+v", st)
	}
}
