package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/jsonshape"
	"github.com/azemu/azemu/internal/store"
)

// Run runs the suite. open must return a new, empty store for each call; Run
// closes it when the subtest ends (and fails the subtest if Close fails), so
// open must not close it itself.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"ModelUnchanged", testModelUnchanged},
		{"Times", testTimes},
		{"CaseInsensitiveKeys", testCaseInsensitiveKeys},
		{"Conflict", testConflict},
		{"Delete", testDelete},
		{"SeqIncreasing", testSeqIncreasing},
		{"History", testHistory},
		{"HistoryEarlyStop", testHistoryEarlyStop},
		{"LoadInProgressOnly", testLoadInProgressOnly},
		{"LoadInBatches", testLoadInBatches},
		{"OperationNotFound", testOperationNotFound},
		{"Reset", testReset},
		{"CancelledContext", testCancelledContext},
		{"ConcurrentApply", testConcurrentApply},
		{"Settings", testSettings},
		{"Resources", testResources},
		{"Newest", testNewest},
		{"Compact", testCompact},
		{"CompactInChunks", testCompactInChunks},
		{"HistoryRows", testHistoryRows},
		{"Batch", testBatch},
		{"BatchConflict", testBatchConflict},
		{"Accounts", testAccounts},
		{"EventsFrom", testEventsFrom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, opened(t, open)) })
	}
}

// opened opens a store for one subtest, to be closed when it ends.
func opened[S store.Store](t *testing.T, open func(t *testing.T) S) S {
	s := open(t)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// Fixtures. Times carry nanoseconds so that a backend rounding to micro- or
// milliseconds fails.
var t0 = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)

const (
	subA = "0b5e1a52-7c1d-4c6e-9d8e-1f2a3b4c5d6e"
	subB = "a1b2c3d4-e5f6-4711-8899-aabbccddeeff"
)

func vmID(sub, group, name string) string {
	return "/subscriptions/" + sub + "/resourceGroups/" + group +
		"/providers/Microsoft.Compute/virtualMachines/" + name
}

func sub(id string) store.Subscription { return store.Subscription{ID: id, CreatedAt: t0} }

func group(sub, name string) store.ResourceGroup {
	return store.ResourceGroup{
		SubscriptionID: sub,
		Name:           name,
		Location:       "westeurope",
		Body:           json.RawMessage(`{"tags":{"team":"` + name + `"}}`),
		Version:        1,
		CreatedAt:      t0,
	}
}

func vm(sub, group, name string, version int64) store.VM {
	return store.VM{
		ID:             vmID(sub, group, name),
		SubscriptionID: sub,
		ResourceGroup:  group,
		Name:           name,
		Location:       "westeurope",
		Model:          jsonshape.Of([]byte(`{"properties":{"hardwareProfile":{"vmSize":"Standard_D2s_v5"}}}`)),
		State:          json.RawMessage(fmt.Sprintf(`{"power":"running","v":%d}`, version)),
		Version:        version,
		DueAt:          t0.Add(time.Duration(version) * time.Minute),
		CreatedAt:      t0,
		UpdatedAt:      t0.Add(time.Duration(version) * time.Second),
	}
}

func event(vmID string, at time.Time, opID string) store.Event {
	return store.Event{
		VMID:              vmID,
		At:                at,
		ProvisioningState: "Succeeded",
		ProvisioningCode:  "ProvisioningState/succeeded",
		PowerState:        "running",
		OperationID:       opID,
		OperationKind:     "start",
		Detail:            json.RawMessage(`{"size":"Standard_D2s_v5","os":"Linux"}`),
	}
}

func opID(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

func operation(id, status string) store.Operation {
	op := store.Operation{
		ID:             id,
		SubscriptionID: subA,
		Location:       "westeurope",
		Kind:           "start",
		TargetID:       vmID(subA, "rg", "vm"),
		Status:         status,
		StartTime:      t0,
	}
	switch status {
	case "InProgress":
	case "Succeeded":
		op.EndTime = t0.Add(time.Minute)
		op.Result = json.RawMessage(`{"value":[{"message":"ok"}]}`)
	default:
		op.EndTime = t0.Add(time.Minute)
		op.Error = json.RawMessage(`{"code":"OperationPreempted","message":"stopped"}`)
	}
	return op
}

// diff reports how got differs from want, field by field: times must be the
// same instant and in UTC, JSON documents the same bytes (nil and empty are
// not told apart), everything else equal. It returns "" when they match.
func diff(got, want any) string {
	var out []string
	diffValue(&out, "", reflect.ValueOf(got), reflect.ValueOf(want))
	return strings.Join(out, "\n")
}

var (
	timeType = reflect.TypeFor[time.Time]()
	jsonType = reflect.TypeFor[json.RawMessage]()
	docType  = reflect.TypeFor[jsonshape.Doc]()
)

func diffValue(out *[]string, path string, got, want reflect.Value) {
	switch {
	case got.Type() == timeType:
		g, w := got.Interface().(time.Time), want.Interface().(time.Time)
		switch {
		case g.IsZero() != w.IsZero(), !g.Equal(w):
			*out = append(*out, fmt.Sprintf("%s: got %v, want %v", path, g, w))
		case !g.IsZero() && g.Location() != time.UTC:
			*out = append(*out, fmt.Sprintf("%s: got location %v, want UTC", path, g.Location()))
		}
	case got.Type() == jsonType:
		if g, w := got.Bytes(), want.Bytes(); !bytes.Equal(g, w) {
			*out = append(*out, fmt.Sprintf("%s: got %s, want %s", path, g, w))
		}
	case got.Type() == docType:
		if g, w := got.Interface().(jsonshape.Doc).Bytes(), want.Interface().(jsonshape.Doc).Bytes(); !bytes.Equal(g, w) {
			*out = append(*out, fmt.Sprintf("%s: got %s, want %s", path, g, w))
		}
	case got.Kind() == reflect.Struct:
		for i := range got.NumField() {
			diffValue(out, path+"."+got.Type().Field(i).Name, got.Field(i), want.Field(i))
		}
	case got.Kind() == reflect.Slice:
		if got.Len() != want.Len() {
			*out = append(*out, fmt.Sprintf("%s: got %d elements, want %d", path, got.Len(), want.Len()))
			return
		}
		for i := range got.Len() {
			diffValue(out, fmt.Sprintf("%s[%d]", path, i), got.Index(i), want.Index(i))
		}
	default:
		if !reflect.DeepEqual(got.Interface(), want.Interface()) {
			*out = append(*out, fmt.Sprintf("%s: got %#v, want %#v", path, got.Interface(), want.Interface()))
		}
	}
}

func check(t *testing.T, what string, got, want any) {
	t.Helper()
	if d := diff(got, want); d != "" {
		t.Errorf("%s differs:\n%s", what, d)
	}
}

// sorted returns the snapshot in key order: the contract does not fix the
// order of Load's lists, so comparisons must not depend on it.
func sorted(s store.Snapshot) store.Snapshot {
	s.Seq = 0 // RunShared checks it
	sort.Slice(s.Subscriptions, func(i, j int) bool {
		return store.Key(s.Subscriptions[i].ID) < store.Key(s.Subscriptions[j].ID)
	})
	sort.Slice(s.Groups, func(i, j int) bool {
		a, b := s.Groups[i], s.Groups[j]
		return store.Key(a.SubscriptionID+"/"+a.Name) < store.Key(b.SubscriptionID+"/"+b.Name)
	})
	sort.Slice(s.VMs, func(i, j int) bool { return store.Key(s.VMs[i].ID) < store.Key(s.VMs[j].ID) })
	sort.Slice(s.Operations, func(i, j int) bool {
		return store.Key(s.Operations[i].ID) < store.Key(s.Operations[j].ID)
	})
	return s
}

func load(t *testing.T, s store.Store) store.Snapshot {
	t.Helper()
	snap, err := s.Load(context.Background())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return sorted(snap)
}

func apply(t *testing.T, s store.Store, c store.Change) {
	t.Helper()
	if err := s.Apply(context.Background(), c); err != nil {
		t.Fatalf("Apply: %v", err)
	}
}

// Far enough on each side to hold every fixture time.
var (
	farPast   = time.Date(1800, 1, 1, 0, 0, 0, 0, time.UTC)
	farFuture = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

func history(t *testing.T, s store.Store, vmID string, from, to time.Time) []store.Event {
	t.Helper()
	var got []store.Event
	if err := s.History(context.Background(), vmID, from, to, func(e store.Event) error {
		got = append(got, e)
		return nil
	}); err != nil {
		t.Fatalf("History: %v", err)
	}
	return got
}

func allHistory(t *testing.T, s store.Store) []store.Event {
	t.Helper()
	return history(t, s, "", farPast, farFuture)
}

func testRoundTrip(t *testing.T, s store.Store) {
	idle := vm(subA, "rg-one", "idle", 1)
	idle.DueAt = time.Time{}
	idle.State = nil
	done := operation(opID(2), "Succeeded")
	failed := operation(opID(3), "Failed")
	noDetail := event(idle.ID, t0.Add(time.Hour), "")
	noDetail.Detail = nil
	noDetail.PowerState = ""
	c := store.Change{
		Subscriptions: []store.Subscription{sub(subA), sub(subB)},
		Groups:        []store.ResourceGroup{group(subA, "rg-one"), group(subB, "RG-Two")},
		VMs:           []store.VM{vm(subA, "rg-one", "busy", 1), idle},
		Events:        []store.Event{event(vmID(subA, "rg-one", "busy"), t0, opID(1)), noDetail},
		Operations:    []store.Operation{operation(opID(1), "InProgress"), done, failed},
	}
	apply(t, s, c)

	check(t, "snapshot", load(t, s), sorted(store.Snapshot{
		Subscriptions: c.Subscriptions,
		Groups:        c.Groups,
		VMs:           c.VMs,
		Operations:    c.Operations[:1],
	}))
	for _, want := range c.Operations {
		got, err := s.Operation(context.Background(), want.ID)
		if err != nil {
			t.Fatalf("Operation(%s): %v", want.ID, err)
		}
		check(t, "operation "+want.ID, got, want)
	}
	// c.Events carries the Seq that Apply assigned (see SeqIncreasing).
	check(t, "history", allHistory(t, s), c.Events)

	// Updates replace every field of a group, VM and operation.
	g := group(subA, "rg-one")
	g.Location, g.Body, g.Version = "northeurope", json.RawMessage(`{"tags":{}}`), 2
	v := vm(subA, "rg-one", "busy", 2)
	v.Model, v.Location = jsonshape.Of([]byte(`{"properties":{}}`)), "northeurope"
	op := operation(opID(1), "Canceled")
	apply(t, s, store.Change{Groups: []store.ResourceGroup{g}, VMs: []store.VM{v}, Operations: []store.Operation{op}})
	snap := load(t, s)
	check(t, "groups after update", snap.Groups, []store.ResourceGroup{g, group(subB, "RG-Two")})
	check(t, "vms after update", snap.VMs, []store.VM{v, idle})
	check(t, "in-progress operations after update", snap.Operations, []store.Operation(nil))
	got, err := s.Operation(context.Background(), op.ID)
	if err != nil {
		t.Fatalf("Operation: %v", err)
	}
	check(t, "operation after update", got, op)

	// A subscription is inserted when missing and otherwise left alone.
	later := store.Subscription{ID: subA, CreatedAt: t0.Add(time.Hour)}
	apply(t, s, store.Change{Subscriptions: []store.Subscription{later}})
	check(t, "subscriptions", load(t, s).Subscriptions, []store.Subscription{sub(subA), sub(subB)})

	// An empty change is a no-op.
	apply(t, s, store.Change{})
}

// An update that says its model is unchanged carries none, and the store
// keeps the one it holds; within one Apply too, after an update that
// changed it. An update that carries a model replaces it.
func testModelUnchanged(t *testing.T, s store.Store) {
	first := vm(subA, "rg", "vm", 1)
	apply(t, s, store.Change{Subscriptions: []store.Subscription{sub(subA)}, VMs: []store.VM{first}})
	step := vm(subA, "rg", "vm", 2)
	step.Model, step.ModelUnchanged = jsonshape.Doc{}, true
	apply(t, s, store.Change{VMs: []store.VM{step}})
	want := step
	want.Model, want.ModelUnchanged = first.Model, false
	check(t, "vms after a step", load(t, s).VMs, []store.VM{want})

	put := vm(subA, "rg", "vm", 3)
	put.Model = jsonshape.Of([]byte(`{"properties":{"put":3}}`))
	again := vm(subA, "rg", "vm", 4)
	again.Model, again.ModelUnchanged = jsonshape.Doc{}, true
	if err := s.Apply(context.Background(), store.Change{VMs: []store.VM{put}}, store.Change{VMs: []store.VM{again}}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	want = again
	want.Model, want.ModelUnchanged = put.Model, false
	check(t, "vms after a put and a step in one Apply", load(t, s).VMs, []store.VM{want})
}

func testTimes(t *testing.T, s store.Store) {
	tests := []struct {
		name string
		at   time.Time
	}{
		{"nanoseconds", t0},
		{"unix epoch is not the zero time", time.Unix(0, 0).UTC()},
		{"before 1970", time.Date(1969, 7, 20, 20, 17, 40, 123456789, time.UTC)},
		{"other zone comes back as UTC", time.Date(2025, 6, 1, 12, 0, 0, 1, time.FixedZone("UTC+5:30", 5*3600+1800))},
		{"local zone", time.Date(2025, 6, 1, 12, 0, 0, 999999999, time.Local)},
		{"far future", time.Date(2199, 12, 31, 23, 59, 59, 999999999, time.UTC)},
		{"with monotonic reading", time.Now()},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sid := fmt.Sprintf("00000000-0000-0000-0000-%012d", i)
			v := vm(sid, "rg", "vm", 1)
			v.DueAt, v.CreatedAt, v.UpdatedAt = tt.at, tt.at, tt.at
			g := group(sid, "rg")
			g.CreatedAt = tt.at
			op := operation(opID(100+i), "InProgress")
			op.StartTime = tt.at
			done := operation(opID(200+i), "Succeeded")
			done.StartTime, done.EndTime = tt.at, tt.at
			e := event(v.ID, tt.at, op.ID)
			c := store.Change{
				Subscriptions: []store.Subscription{{ID: sid, CreatedAt: tt.at}},
				Groups:        []store.ResourceGroup{g},
				VMs:           []store.VM{v},
				Events:        []store.Event{e},
				Operations:    []store.Operation{op, done},
			}
			apply(t, s, c)

			snap := load(t, s)
			find := func(n int, match func(int) bool) int {
				for i := range n {
					if match(i) {
						return i
					}
				}
				t.Fatalf("not found in snapshot")
				return -1
			}
			check(t, "subscription", snap.Subscriptions[find(len(snap.Subscriptions), func(i int) bool { return snap.Subscriptions[i].ID == sid })], c.Subscriptions[0])
			check(t, "group", snap.Groups[find(len(snap.Groups), func(i int) bool { return snap.Groups[i].SubscriptionID == sid })], g)
			check(t, "vm", snap.VMs[find(len(snap.VMs), func(i int) bool { return snap.VMs[i].ID == v.ID })], v)
			check(t, "operation", snap.Operations[find(len(snap.Operations), func(i int) bool { return snap.Operations[i].ID == op.ID })], op)
			gotDone, err := s.Operation(context.Background(), done.ID)
			if err != nil {
				t.Fatalf("Operation: %v", err)
			}
			check(t, "finished operation", gotDone, done)
			// The window [at, at+1ns) holds exactly this event.
			check(t, "history", history(t, s, v.ID, tt.at, tt.at.Add(1)), c.Events)
		})
	}
}

func testCaseInsensitiveKeys(t *testing.T, s store.Store) {
	ctx := context.Background()
	v := vm(subA, "RG-Mixed", "VmOne", 1)
	apply(t, s, store.Change{
		Subscriptions: []store.Subscription{sub(subA)},
		Groups:        []store.ResourceGroup{group(subA, "RG-Mixed")},
		VMs:           []store.VM{v},
		Events:        []store.Event{event(v.ID, t0, "")},
		Operations:    []store.Operation{operation(opID(1), "InProgress")},
	})

	// The same keys in other casings reach the same rows.
	upper := vm(subA, "RG-Mixed", "VmOne", 2)
	upper.ID = strings.ToUpper(upper.ID)
	rg := group(strings.ToUpper(subA), "rg-mixed")
	rg.Version = 2
	op := operation(strings.ToUpper(opID(1)), "InProgress")
	op.Kind = "restart"
	apply(t, s, store.Change{
		Subscriptions: []store.Subscription{sub(strings.ToUpper(subA))},
		Groups:        []store.ResourceGroup{rg},
		VMs:           []store.VM{upper},
		Events:        []store.Event{event(strings.ToLower(v.ID), t0.Add(time.Second), "")},
		Operations:    []store.Operation{op},
	})
	snap := load(t, s)
	check(t, "subscriptions", snap.Subscriptions, []store.Subscription{sub(subA)})
	check(t, "groups", snap.Groups, []store.ResourceGroup{rg})
	check(t, "vms", snap.VMs, []store.VM{upper})
	check(t, "operations", snap.Operations, []store.Operation{op})

	for _, id := range []string{opID(1), strings.ToUpper(opID(1))} {
		got, err := s.Operation(ctx, id)
		if err != nil {
			t.Fatalf("Operation(%s): %v", id, err)
		}
		check(t, "operation "+id, got, op)
	}
	for _, id := range []string{v.ID, strings.ToUpper(v.ID), strings.ToLower(v.ID)} {
		if got := history(t, s, id, farPast, farFuture); len(got) != 2 {
			t.Errorf("History(%s): %d events, want 2", id, len(got))
		}
	}

	// A version 1 in another casing is a duplicate insert.
	dup := vm(subA, "RG-Mixed", "VmOne", 1)
	dup.ID = strings.ToLower(dup.ID)
	if err := s.Apply(ctx, store.Change{VMs: []store.VM{dup}}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate insert in another casing: got %v, want ErrConflict", err)
	}

	apply(t, s, store.Change{
		DeletedVMs:    []string{strings.ToLower(v.ID)},
		DeletedGroups: []store.GroupRef{{SubscriptionID: strings.ToUpper(subA), Name: "RG-MIXED"}},
	})
	snap = load(t, s)
	if len(snap.VMs) != 0 || len(snap.Groups) != 0 {
		t.Errorf("after deletes in other casings: %d VMs, %d groups, want none", len(snap.VMs), len(snap.Groups))
	}
}

func testConflict(t *testing.T, s store.Store) {
	// The cases share the store, each with its own VM at a known version.
	tests := []struct {
		name   string
		stored int64 // version in the store before the change, 0 for none
		write  int64 // version the failing change writes
	}{
		{"duplicate insert", 1, 1},
		{"stale update", 2, 2},
		{"older update", 3, 2},
		{"skipped version", 1, 3},
		{"update of a missing VM", 0, 2},
		{"zero version", 0, 0},
		{"negative version", 1, -1},
	}
	ctx := context.Background()
	apply(t, s, store.Change{
		Subscriptions: []store.Subscription{sub(subA)},
		Groups:        []store.ResourceGroup{group(subA, "rg")},
		VMs:           []store.VM{vm(subA, "rg", "bystander", 1)},
		Operations:    []store.Operation{operation(opID(1), "InProgress")},
	})
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := fmt.Sprintf("vm%d", i)
			for v := int64(1); v <= tt.stored; v++ {
				apply(t, s, store.Change{
					VMs:    []store.VM{vm(subA, "rg", name, v)},
					Events: []store.Event{event(vmID(subA, "rg", name), t0.Add(time.Duration(v)), "")},
				})
			}
			before := load(t, s)
			beforeHistory := allHistory(t, s)

			// Everything else in the change is valid, and the failing VM
			// comes after other writes of the same transaction.
			newOp := operation(opID(1000+i), "InProgress")
			finished := operation(opID(1), "Succeeded")
			c := store.Change{
				Subscriptions: []store.Subscription{sub(subB)},
				Groups:        []store.ResourceGroup{group(subB, "new-rg"), {SubscriptionID: subA, Name: "rg", Location: "eastus", Version: 2}},
				VMs:           []store.VM{vm(subB, "new-rg", "fresh", 1), vm(subA, "rg", name, tt.write), vm(subB, "new-rg", "after", 1)},
				DeletedVMs:    []string{vmID(subA, "rg", "bystander")},
				DeletedGroups: []store.GroupRef{{SubscriptionID: subA, Name: "rg"}},
				Events: []store.Event{
					event(vmID(subB, "new-rg", "fresh"), t0, newOp.ID),
					event(vmID(subA, "rg", name), t0, newOp.ID),
				},
				Operations: []store.Operation{newOp, finished},
			}
			if err := s.Apply(ctx, c); !errors.Is(err, store.ErrConflict) {
				t.Fatalf("Apply: got %v, want ErrConflict", err)
			}
			check(t, "snapshot after the failed change", load(t, s), before)
			check(t, "history after the failed change", allHistory(t, s), beforeHistory)
			if _, err := s.Operation(ctx, newOp.ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("operation of the failed change: got %v, want ErrNotFound", err)
			}
			got, err := s.Operation(ctx, finished.ID)
			if err != nil {
				t.Fatalf("Operation: %v", err)
			}
			check(t, "operation the failed change updated", got, operation(opID(1), "InProgress"))
		})
	}

	// The store goes on working after conflicts.
	apply(t, s, store.Change{VMs: []store.VM{vm(subA, "rg", "bystander", 2)}})
}

func testDelete(t *testing.T, s store.Store) {
	vms := []store.VM{vm(subA, "rg1", "a", 1), vm(subA, "rg1", "b", 1), vm(subA, "rg2", "c", 1)}
	apply(t, s, store.Change{
		Subscriptions: []store.Subscription{sub(subA)},
		Groups:        []store.ResourceGroup{group(subA, "rg1"), group(subA, "rg2"), group(subA, "rg3")},
		VMs:           vms,
		Events:        []store.Event{event(vms[0].ID, t0, "")},
	})

	apply(t, s, store.Change{DeletedVMs: []string{vms[0].ID}, DeletedGroups: []store.GroupRef{{SubscriptionID: subA, Name: "rg3"}}})
	snap := load(t, s)
	check(t, "vms", snap.VMs, vms[1:])
	check(t, "groups", snap.Groups, []store.ResourceGroup{group(subA, "rg1"), group(subA, "rg2")})

	// A VM and its group go in one change; the VMs are deleted first.
	apply(t, s, store.Change{DeletedVMs: []string{vms[2].ID}, DeletedGroups: []store.GroupRef{{SubscriptionID: subA, Name: "rg2"}}})
	snap = load(t, s)
	check(t, "vms", snap.VMs, vms[1:2])
	check(t, "groups", snap.Groups, []store.ResourceGroup{group(subA, "rg1")})

	// History is append-only: deleting a VM keeps its events.
	if got := history(t, s, vms[0].ID, farPast, farFuture); len(got) != 1 {
		t.Errorf("history of the deleted VM: %d events, want 1", len(got))
	}
	// A deleted VM's ID is free for a new version 1.
	again := vm(subA, "rg1", "a", 1)
	again.Location = "eastus"
	apply(t, s, store.Change{VMs: []store.VM{again}})
	check(t, "vms", load(t, s).VMs, []store.VM{again, vms[1]})
}

func testSeqIncreasing(t *testing.T, s store.Store) {
	id := vmID(subA, "rg", "vm")
	var changes []store.Change
	for _, n := range []int{2, 0, 1, 3} {
		var c store.Change
		for i := range n {
			c.Events = append(c.Events, event(id, t0.Add(time.Duration(i)*time.Second), ""))
		}
		changes = append(changes, c)
	}
	var seqs []int64
	for _, c := range changes {
		apply(t, s, c)
		// Apply writes Seq into the caller's events (the slice is shared).
		for _, e := range c.Events {
			seqs = append(seqs, e.Seq)
		}
	}
	for i, seq := range seqs {
		if seq <= 0 || (i > 0 && seq <= seqs[i-1]) {
			t.Fatalf("assigned Seqs %v: want positive and strictly increasing", seqs)
		}
	}
	var got []int64
	for _, e := range allHistory(t, s) {
		got = append(got, e.Seq)
	}
	if !reflect.DeepEqual(got, seqs) {
		t.Errorf("History Seqs %v, want the assigned %v", got, seqs)
	}
}

func testHistory(t *testing.T, s store.Store) {
	a, b := vmID(subA, "rg", "a"), vmID(subA, "rg", "b")
	minute := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }
	// Written out of time order, so that Seq order and At order differ.
	var events []store.Event
	for i, m := range []int{5, 1, 9, 3, 3, 0, 7, 2} {
		id := a
		if i%2 == 1 {
			id = b
		}
		events = append(events, event(id, minute(m), ""))
	}
	// Two Applies, so ordering holds across changes too.
	apply(t, s, store.Change{Events: events[:3]})
	apply(t, s, store.Change{Events: events[3:]})

	tests := []struct {
		name     string
		vmID     string
		from, to time.Time
	}{
		{"everything", "", farPast, farFuture},
		{"from is inclusive, to exclusive", "", minute(3), minute(7)},
		{"one nanosecond", "", minute(3), minute(3).Add(1)},
		{"just before", "", minute(3).Add(-1), minute(3)},
		{"empty window", "", minute(3), minute(3)},
		{"reversed window", "", minute(7), minute(3)},
		{"one VM", a, farPast, farFuture},
		{"one VM in another casing", strings.ToUpper(b), minute(1), minute(9)},
		{"unknown VM", vmID(subA, "rg", "nope"), farPast, farFuture},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []store.Event
			for _, e := range events { // events is in Seq order
				if (tt.vmID == "" || store.Key(e.VMID) == store.Key(tt.vmID)) &&
					!e.At.Before(tt.from) && e.At.Before(tt.to) {
					want = append(want, e)
				}
			}
			check(t, "history", history(t, s, tt.vmID, tt.from, tt.to), want)
		})
	}
}

func testHistoryEarlyStop(t *testing.T, s store.Store) {
	var c store.Change
	for i := range 10 {
		c.Events = append(c.Events, event(vmID(subA, "rg", "vm"), t0.Add(time.Duration(i)), ""))
	}
	apply(t, s, c)
	stop := errors.New("enough")
	calls := 0
	err := s.History(context.Background(), "", farPast, farFuture, func(store.Event) error {
		calls++
		if calls == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Errorf("History: got %v, want the callback's error", err)
	}
	if calls != 3 {
		t.Errorf("callback ran %d times, want 3", calls)
	}
	// Stopping early must release whatever the scan held.
	apply(t, s, store.Change{Events: []store.Event{event(vmID(subA, "rg", "vm"), t0, "")}})
	if got := allHistory(t, s); len(got) != 11 {
		t.Errorf("after an early stop: %d events, want 11", len(got))
	}
}

func testLoadInProgressOnly(t *testing.T, s store.Store) {
	statuses := []string{"InProgress", "Succeeded", "Failed", "Canceled", "InProgress"}
	var ops []store.Operation
	for i, st := range statuses {
		ops = append(ops, operation(opID(i), st))
	}
	apply(t, s, store.Change{Operations: ops})
	check(t, "in-progress operations", load(t, s).Operations, []store.Operation{ops[0], ops[4]})

	// Finishing one takes it out of Load but not out of Operation.
	ops[0] = operation(opID(0), "Succeeded")
	apply(t, s, store.Change{Operations: ops[:1]})
	check(t, "in-progress operations", load(t, s).Operations, []store.Operation{ops[4]})
	for _, want := range ops {
		got, err := s.Operation(context.Background(), want.ID)
		if err != nil {
			t.Fatalf("Operation(%s): %v", want.ID, err)
		}
		check(t, "operation "+want.ID, got, want)
	}
}

// testLoadInBatches holds a load in batches (store.LoadInBatches) to Load:
// the same resources and VMs, in batches of at most
// store.LoadBatch, the rest of the snapshot as Load's; an error of the
// caller's stops it and comes back as it was given.
func testLoadInBatches(t *testing.T, s store.Store) {
	ctx := context.Background()
	c := store.Change{Subscriptions: []store.Subscription{sub(subA)}, Groups: []store.ResourceGroup{group(subA, "rg")},
		Operations: []store.Operation{operation(opID(1), "InProgress")}, Settings: map[string]string{"x": "y"}}
	for i := range store.LoadBatch + 5 {
		c.VMs = append(c.VMs, vm(subA, "rg", fmt.Sprintf("vm%05d", i), 1))
	}
	for i := range 3 {
		name := fmt.Sprintf("disk%d", i)
		c.Resources = append(c.Resources, store.Resource{
			ID: "/subscriptions/" + subA + "/resourceGroups/rg/providers/Microsoft.Compute/disks/" + name, Type: "Microsoft.Compute/disks",
			SubscriptionID: subA, ResourceGroup: "rg", Name: name, Location: "westus",
			Body: json.RawMessage(`{"sizeGB":128}`), Version: 1, CreatedAt: t0, UpdatedAt: t0,
		})
	}
	apply(t, s, c)
	want, err := s.Load(ctx)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	var resources []store.Resource
	var vms []store.VM
	batches := 0
	snap, err := store.LoadInBatches(ctx, s, func(b []store.Resource) error {
		if len(vms) > 0 {
			t.Error("resources after VMs")
		}
		resources = append(resources, b...)
		return nil
	}, func(b []store.VM) error {
		if len(b) == 0 || len(b) > store.LoadBatch {
			t.Errorf("a batch of %d VMs", len(b))
		}
		batches++
		vms = append(vms, b...)
		return nil
	})
	if err != nil {
		t.Fatalf("LoadInBatches: %v", err)
	}
	if snap.VMs != nil || snap.Resources != nil {
		t.Errorf("the snapshot holds %d VMs and %d resources besides the batches", len(snap.VMs), len(snap.Resources))
	}
	if batches < 2 {
		t.Errorf("%d VMs in %d batch(es)", len(vms), batches)
	}
	// The contract does not fix the order of Load's lists (memstore's
	// changes from one Load to the next).
	snap.VMs, snap.Resources = vms, resources
	byID := func(a, b store.Resource) int { return strings.Compare(store.Key(a.ID), store.Key(b.ID)) }
	slices.SortFunc(snap.Resources, byID)
	slices.SortFunc(want.Resources, byID)
	check(t, "the snapshot", sorted(snap), sorted(want))

	stop := errors.New("the caller's own")
	calls := 0
	if _, err := store.LoadInBatches(ctx, s, func([]store.Resource) error { return nil }, func([]store.VM) error {
		calls++
		return stop
	}); err != stop {
		t.Fatalf("LoadInBatches with a failing caller: %v, want the caller's error as given", err)
	}
	if calls != 1 {
		t.Fatalf("the read went on after the caller's error: %d calls", calls)
	}
}

func testOperationNotFound(t *testing.T, s store.Store) {
	if _, err := s.Operation(context.Background(), opID(1)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Operation on an empty store: got %v, want ErrNotFound", err)
	}
	apply(t, s, store.Change{Operations: []store.Operation{operation(opID(1), "InProgress")}})
	if _, err := s.Operation(context.Background(), opID(2)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Operation of an unknown ID: got %v, want ErrNotFound", err)
	}
}

func fullChange() store.Change {
	v := vm(subA, "rg", "vm", 1)
	return store.Change{
		Subscriptions: []store.Subscription{sub(subA)},
		Groups:        []store.ResourceGroup{group(subA, "rg")},
		VMs:           []store.VM{v},
		Events:        []store.Event{event(v.ID, t0, opID(1))},
		Operations:    []store.Operation{operation(opID(1), "InProgress"), operation(opID(2), "Succeeded")},
	}
}

func testReset(t *testing.T, s store.Store) {
	ctx := context.Background()
	c := fullChange()
	apply(t, s, c)
	if err := s.Reset(ctx); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	check(t, "snapshot after Reset", load(t, s), store.Snapshot{})
	check(t, "history after Reset", allHistory(t, s), []store.Event(nil))
	for _, op := range c.Operations {
		if _, err := s.Operation(ctx, op.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Operation(%s) after Reset: got %v, want ErrNotFound", op.ID, err)
		}
	}
	// The same records can be written afresh, VM version 1 included.
	again := fullChange()
	apply(t, s, again)
	if again.Events[0].Seq <= 0 {
		t.Errorf("Seq after Reset: %d, want positive", again.Events[0].Seq)
	}
	check(t, "snapshot after rewrite", load(t, s), sorted(store.Snapshot{
		Subscriptions: again.Subscriptions,
		Groups:        again.Groups,
		VMs:           again.VMs,
		Operations:    again.Operations[:1],
	}))
	if err := s.Reset(ctx); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	if err := s.Reset(ctx); err != nil {
		t.Fatalf("Reset of an empty store: %v", err)
	}
}

func testCancelledContext(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := fullChange()
	if err := s.Apply(ctx, c); !errors.Is(err, context.Canceled) {
		t.Fatalf("Apply with a cancelled context: got %v, want context.Canceled", err)
	}
	check(t, "snapshot", load(t, s), store.Snapshot{})
	check(t, "history", allHistory(t, s), []store.Event(nil))
	if _, err := s.Operation(context.Background(), c.Operations[1].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Operation: got %v, want ErrNotFound", err)
	}
	// The store is still usable.
	apply(t, s, c)
}

func testConcurrentApply(t *testing.T, s store.Store) {
	const (
		writers = 8
		updates = 15
	)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			name := fmt.Sprintf("vm%d", w)
			for v := int64(1); v <= updates; v++ {
				op := operation(opID(w*1000+int(v)), "InProgress")
				e := event(vmID(subA, "rg", name), t0.Add(time.Duration(v)*time.Second), op.ID)
				e.Detail = json.RawMessage(fmt.Sprintf(`{"version":%d}`, v))
				c := store.Change{
					Subscriptions: []store.Subscription{sub(subA)},
					Groups:        []store.ResourceGroup{group(subA, "rg")},
					VMs:           []store.VM{vm(subA, "rg", name, v)},
					Events:        []store.Event{e},
					Operations:    []store.Operation{op},
				}
				if err := s.Apply(context.Background(), c); err != nil {
					errs <- fmt.Errorf("%s version %d: %w", name, v, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}

	snap := load(t, s)
	if len(snap.VMs) != writers {
		t.Fatalf("%d VMs, want %d", len(snap.VMs), writers)
	}
	for _, v := range snap.VMs {
		if v.Version != updates {
			t.Errorf("%s at version %d, want %d", v.Name, v.Version, updates)
		}
	}
	if len(snap.Operations) != writers*updates {
		t.Errorf("%d operations, want %d", len(snap.Operations), writers*updates)
	}
	all := allHistory(t, s)
	if len(all) != writers*updates {
		t.Fatalf("%d events, want %d", len(all), writers*updates)
	}
	for i := 1; i < len(all); i++ {
		if all[i].Seq <= all[i-1].Seq {
			t.Fatalf("Seq %d after %d", all[i].Seq, all[i-1].Seq)
		}
	}
	// Each VM's events are in the order its goroutine wrote them.
	for w := range writers {
		evs := history(t, s, vmID(subA, "rg", fmt.Sprintf("vm%d", w)), farPast, farFuture)
		for i, e := range evs {
			if want := fmt.Sprintf(`{"version":%d}`, i+1); string(e.Detail) != want {
				t.Errorf("vm%d event %d: detail %s, want %s", w, i, e.Detail, want)
				break
			}
		}
	}
}

// testSettings: settings are upserted by name, loaded back, and emptied by
// Reset; a failed change keeps none of its settings.
func testSettings(t *testing.T, s store.Store) {
	ctx := context.Background()
	apply(t, s, store.Change{Settings: map[string]string{"clock": "2026-01-01T00:00:00Z", "other": "x"}})
	apply(t, s, store.Change{Settings: map[string]string{"clock": "2026-01-01T00:01:30Z"}})
	check(t, "settings", load(t, s).Settings, map[string]string{"clock": "2026-01-01T00:01:30Z", "other": "x"})

	stale := vm(subA, "rg", "vm-settings", 2) // version 2 of a VM never written: a conflict
	err := s.Apply(ctx, store.Change{VMs: []store.VM{stale}, Settings: map[string]string{"clock": "lost"}})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Apply of a stale VM: got %v, want ErrConflict", err)
	}
	check(t, "settings after a failed change", load(t, s).Settings["clock"], "2026-01-01T00:01:30Z")

	if err := s.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if got := load(t, s).Settings; len(got) != 0 {
		t.Errorf("settings after Reset: %v", got)
	}
}

// testResources: resources round-trip, follow the version rule, are found
// case-insensitively for deletion, and go with Reset.
func testResources(t *testing.T, s store.Store) {
	ctx := context.Background()
	disk := store.Resource{
		ID: "/subscriptions/" + subA + "/resourceGroups/RG/providers/Microsoft.Compute/disks/Disk1", Type: "Microsoft.Compute/disks",
		SubscriptionID: subA, ResourceGroup: "RG", Name: "Disk1", Location: "westus",
		Body: json.RawMessage(`{"sku":"Premium_LRS","sizeGB":128}`), Version: 1, CreatedAt: t0, UpdatedAt: t0,
	}
	apply(t, s, store.Change{Resources: []store.Resource{disk}})
	check(t, "resources", load(t, s).Resources, []store.Resource{disk})

	if err := s.Apply(ctx, store.Change{Resources: []store.Resource{disk}}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second version 1: got %v, want ErrConflict", err)
	}
	next := disk
	next.Version, next.Body, next.UpdatedAt = 2, json.RawMessage(`{"sku":"Premium_LRS","sizeGB":256}`), t0.Add(time.Minute)
	apply(t, s, store.Change{Resources: []store.Resource{next}})
	check(t, "resources after update", load(t, s).Resources, []store.Resource{next})
	stale := next
	stale.Version = 2
	if err := s.Apply(ctx, store.Change{Resources: []store.Resource{stale}, Settings: map[string]string{"x": "y"}}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale version: got %v, want ErrConflict", err)
	}
	if _, ok := load(t, s).Settings["x"]; ok {
		t.Fatal("a failed change kept its settings")
	}

	apply(t, s, store.Change{DeletedResources: []string{strings.ToUpper(disk.ID)}})
	if got := load(t, s).Resources; len(got) != 0 {
		t.Fatalf("resources after delete: %v", got)
	}
	apply(t, s, store.Change{Resources: []store.Resource{disk}})
	if err := s.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if got := load(t, s).Resources; len(got) != 0 {
		t.Fatalf("resources after Reset: %v", got)
	}
}

// Newest is the latest instant of the history, events and operations alike,
// whichever comes last; VMs' due times (the future) do not count.
func testNewest(t *testing.T, s store.Store) {
	ctx := context.Background()
	newest := func() time.Time {
		t.Helper()
		got, err := s.Newest(ctx)
		if err != nil {
			t.Fatalf("Newest: %v", err)
		}
		return got
	}
	check(t, "newest of an empty store", newest(), time.Time{})
	v := vm(subA, "rg", "vm", 1)
	v.DueAt = t0.Add(24 * time.Hour)
	apply(t, s, store.Change{VMs: []store.VM{v}, Events: []store.Event{event(v.ID, t0.Add(time.Second), opID(1))}})
	check(t, "newest after an event", newest(), t0.Add(time.Second))
	// An operation that ended later (operation's end is t0+1m).
	apply(t, s, store.Change{Operations: []store.Operation{operation(opID(2), "Succeeded")}})
	check(t, "newest after an operation's end", newest(), t0.Add(time.Minute))
	started := operation(opID(3), "InProgress")
	started.StartTime = t0.Add(time.Hour)
	apply(t, s, store.Change{Operations: []store.Operation{started}})
	check(t, "newest after an operation's start", newest(), t0.Add(time.Hour))
	apply(t, s, store.Change{Events: []store.Event{event(v.ID, t0.Add(2*time.Hour), opID(3))}})
	check(t, "newest after a later event", newest(), t0.Add(2*time.Hour))
	if err := s.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	check(t, "newest after Reset", newest(), time.Time{})
}

// Compact deletes the events before the horizon, replaces the checkpoints,
// drops the finished operations that ended before its bound (never one in
// progress) and writes its settings, in one go; Reset forgets checkpoints.
func testCompact(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := vmID(subA, "rg", "a"), vmID(subA, "rg", "b")
	evs := []store.Event{event(a, t0, opID(1)), event(b, t0.Add(time.Minute), opID(1)),
		event(a, t0.Add(2*time.Hour), opID(2)), event(b, t0.Add(3*time.Hour), opID(3))}
	old, recent, running := operation(opID(1), "Succeeded"), operation(opID(2), "Failed"), operation(opID(3), "InProgress")
	recent.EndTime = t0.Add(2 * time.Hour)
	apply(t, s, store.Change{Events: evs, Operations: []store.Operation{old, recent, running}})
	checkpoints := func() []store.Checkpoint {
		t.Helper()
		var out []store.Checkpoint
		if err := s.Checkpoints(ctx, func(cp store.Checkpoint) error {
			out = append(out, cp)
			return nil
		}); err != nil {
			t.Fatalf("Checkpoints: %v", err)
		}
		return out
	}
	check(t, "checkpoints before any compaction", checkpoints(), []store.Checkpoint(nil))

	horizon := t0.Add(time.Hour)
	cp := func(id string, usage string) store.Checkpoint {
		e := event(id, horizon, opID(1))
		return store.Checkpoint{Event: e, Usage: json.RawMessage(usage)}
	}
	got, err := s.Compact(ctx, store.Compaction{Horizon: horizon, OperationsBefore: horizon,
		Checkpoints: []store.Checkpoint{cp(b, `{"b":1}`), cp(a, `{"a":1}`)}, Settings: map[string]string{"horizon": "1"}})
	if err != nil {
		t.Fatalf("Compact: %v", err)
	}
	check(t, "compacted", got, store.Compacted{Events: 2, Operations: 1})
	// The history starts with the checkpoints, in resource key order.
	check(t, "history after compaction", allHistory(t, s), append([]store.Event{cp(a, "").Event, cp(b, "").Event}, evs[2:]...))
	check(t, "one resource's history after compaction", history(t, s, b, farPast, farFuture), []store.Event{cp(b, "").Event, evs[3]})
	check(t, "history after the horizon", history(t, s, "", horizon.Add(time.Nanosecond), farFuture), evs[2:])
	check(t, "history before the horizon", history(t, s, "", farPast, horizon), []store.Event(nil))
	check(t, "checkpoints", checkpoints(), []store.Checkpoint{cp(a, `{"a":1}`), cp(b, `{"b":1}`)})
	if _, err := s.Operation(ctx, old.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an operation that ended before the bound: %v, want ErrNotFound", err)
	}
	for _, op := range []store.Operation{recent, running} {
		if _, err := s.Operation(ctx, op.ID); err != nil {
			t.Errorf("operation %s after compaction: %v", op.Status, err)
		}
	}
	check(t, "settings", load(t, s).Settings, map[string]string{"horizon": "1"})

	// A later compaction replaces the checkpoints; one without an
	// operations bound keeps every operation.
	later := t0.Add(4 * time.Hour)
	next := store.Checkpoint{Event: event(b, later, opID(3)), Usage: json.RawMessage(`{"b":2}`)}
	if got, err = s.Compact(ctx, store.Compaction{Horizon: later, Checkpoints: []store.Checkpoint{next}}); err != nil {
		t.Fatalf("Compact: %v", err)
	}
	check(t, "compacted again", got, store.Compacted{Events: 2})
	check(t, "checkpoints after a second compaction", checkpoints(), []store.Checkpoint{next})
	check(t, "history after a second compaction", allHistory(t, s), []store.Event{next.Event})
	if _, err := s.Operation(ctx, recent.ID); err != nil {
		t.Errorf("operation without a bound: %v", err)
	}
	if err := s.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	check(t, "checkpoints after Reset", checkpoints(), []store.Checkpoint(nil))
}

// A compaction written in chunks: a chunk of some resources deletes only
// their history before the horizon and their checkpoints, leaving the
// others' as they were (so each resource's history is whole at every
// step); the last chunk, of every resource, deletes what is left.
func testCompactInChunks(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b, gone := vmID(subA, "rg", "a"), vmID(subA, "rg", "b"), vmID(subA, "rg", "gone")
	evs := []store.Event{event(a, t0, opID(1)), event(b, t0.Add(time.Minute), opID(1)), event(gone, t0.Add(2*time.Minute), opID(1)),
		event(a, t0.Add(2*time.Hour), opID(2)), event(b, t0.Add(3*time.Hour), opID(3))}
	apply(t, s, store.Change{Events: evs})
	first := t0.Add(30 * time.Second)
	oldB := store.Checkpoint{Event: event(b, first, opID(1)), Usage: json.RawMessage(`{"b":0}`)}
	if _, err := s.Compact(ctx, store.Compaction{Horizon: first, Checkpoints: []store.Checkpoint{oldB}, Resources: []string{b}}); err != nil {
		t.Fatalf("Compact: %v", err)
	}
	horizon := t0.Add(time.Hour)
	cpA := store.Checkpoint{Event: event(a, horizon, opID(1)), Usage: json.RawMessage(`{"a":1}`)}
	got, err := s.Compact(ctx, store.Compaction{Horizon: horizon, Checkpoints: []store.Checkpoint{cpA}, Resources: []string{a, gone},
		Settings: map[string]string{"horizon": "1"}})
	if err != nil {
		t.Fatalf("Compact: %v", err)
	}
	check(t, "deleted by a chunk", got, store.Compacted{Events: 2})
	// b keeps its earlier checkpoint and its events after it.
	check(t, "history after a chunk", allHistory(t, s), []store.Event{cpA.Event, oldB.Event, evs[1], evs[3], evs[4]})
	check(t, "settings after a chunk", load(t, s).Settings, map[string]string{"horizon": "1"})

	cpB := store.Checkpoint{Event: event(b, horizon, opID(1)), Usage: json.RawMessage(`{"b":1}`)}
	if got, err = s.Compact(ctx, store.Compaction{Horizon: horizon, Checkpoints: []store.Checkpoint{cpB}, Resources: []string{b}}); err != nil {
		t.Fatalf("Compact: %v", err)
	}
	check(t, "deleted by the second chunk", got, store.Compacted{Events: 1})
	if got, err = s.Compact(ctx, store.Compaction{Horizon: horizon}); err != nil {
		t.Fatalf("Compact: %v", err)
	}
	check(t, "deleted by the last chunk", got, store.Compacted{})
	check(t, "history after the last chunk", allHistory(t, s), []store.Event{cpA.Event, cpB.Event, evs[3], evs[4]})
}

// testHistoryRows: every field of an event comes back as it was written,
// whatever the SQL backends keep once (IDs, state words, details) or
// pack (GUIDs): one key under two casings (a VM deleted and made again),
// details absent and alike, operation IDs in any form. A
// compaction drops what no event needs any longer, and later events of
// the same resources, states and details are written as before.
func testHistoryRows(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := vmID(subA, "rg", "a"), vmID(subA, "rg", "b")
	aAgain := strings.ToUpper(a)
	var evs []store.Event
	at := t0
	add := func(id, opID string, detail json.RawMessage, words ...string) {
		e := event(id, at, opID)
		e.Detail = detail
		if len(words) == 4 {
			e.ProvisioningState, e.ProvisioningCode, e.PowerState, e.OperationKind = words[0], words[1], words[2], words[3]
		}
		evs = append(evs, e)
		at = at.Add(time.Minute)
	}
	shared := json.RawMessage(`{"vmSize":"Standard_D2s_v5","location":"westeurope"}`)
	add(a, opID(1), shared, "Creating", "ProvisioningState/creating", "", "create")
	add(b, strings.ToUpper(opID(2)), shared, "Creating", "ProvisioningState/creating", "", "create")
	add(a, opID(1), shared)
	add(b, "", nil, "Succeeded", "ProvisioningState/succeeded", "", "")
	add(a, "not-a-guid", json.RawMessage(`{}`))
	add(b, "0b5e1a52-7c1d-4c6e-9d8e-1f2a3b4c5d6", json.RawMessage(`[]`))
	add(a, "0b5e1a52_7c1d_4c6e_9d8e_1f2a3b4c5d6e", json.RawMessage(`{"vmSize":"Standard_D2s_v5", "location":"westeurope"}`))
	add(a, opID(3), shared, "Deleted", "ProvisioningState/deleted", "", "delete")
	add(aAgain, opID(4), shared, "Creating", "ProvisioningState/creating", "", "create")
	add(aAgain, "g\u00e9n\u00e9ral", shared)
	for i := range evs {
		apply(t, s, store.Change{Events: evs[i : i+1]})
	}
	for i := range evs {
		evs[i].Seq = 0
	}
	seqless := func(in []store.Event) []store.Event {
		out := slices.Clone(in)
		for i := range out {
			out[i].Seq = 0
		}
		return out
	}
	check(t, "history", seqless(allHistory(t, s)), evs)
	var ofA []store.Event
	for _, e := range evs {
		if strings.EqualFold(e.VMID, a) {
			ofA = append(ofA, e)
		}
	}
	for _, id := range []string{a, aAgain, strings.ToLower(a)} {
		check(t, "history of "+id, seqless(history(t, s, id, farPast, farFuture)), ofA)
	}

	// Compacted up to the second create of a: a's earlier events and b's go.
	horizon := evs[8].At
	got, err := s.Compact(ctx, store.Compaction{Horizon: horizon})
	if err != nil {
		t.Fatalf("Compact: %v", err)
	}
	check(t, "compacted", got, store.Compacted{Events: 8})
	check(t, "history after compaction", seqless(allHistory(t, s)), evs[8:])
	// What the compaction dropped is written again when needed.
	more := slices.Clone(evs[:4])
	for i := range more {
		more[i].At = at.Add(time.Duration(i) * time.Minute)
	}
	apply(t, s, store.Change{Events: more})
	more = seqless(more)
	check(t, "history after new events", seqless(allHistory(t, s)), append(slices.Clone(evs[8:]), more...))
	check(t, "history of b after new events", seqless(history(t, s, b, farPast, farFuture)), []store.Event{more[1], more[3]})
}

// testBatch: the changes of one Apply commit in order, each over what the
// ones before it wrote: a row updated in two of them, deleted and made
// again, an operation started then ended. Their events take increasing
// Seqs in change order, written back into each change.
func testBatch(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := vm(subA, "rg", "a", 1), vm(subA, "rg", "b", 1)
	apply(t, s, store.Change{
		Subscriptions: []store.Subscription{sub(subA)},
		Groups:        []store.ResourceGroup{group(subA, "rg")},
		VMs:           []store.VM{a, b},
	})
	disk := store.Resource{ID: "/subscriptions/" + subA + "/resourceGroups/rg/providers/Microsoft.Compute/disks/d",
		Type: "Microsoft.Compute/disks", SubscriptionID: subA, ResourceGroup: "rg", Name: "d", Location: "westeurope",
		Body: json.RawMessage(`{"sku":"Premium_LRS"}`), Version: 1, CreatedAt: t0, UpdatedAt: t0}
	disk2 := disk
	disk2.Body, disk2.Version = json.RawMessage(`{"sku":"Standard_LRS"}`), 2
	recreated := vm(subA, "rg", "b", 1)
	recreated.Location = "eastus"
	started, ended := operation(opID(1), "InProgress"), operation(opID(1), "Succeeded")
	cs := []store.Change{
		{VMs: []store.VM{vm(subA, "rg", "a", 2)}, Resources: []store.Resource{disk},
			Events: []store.Event{event(a.ID, t0, started.ID)}, Operations: []store.Operation{started}},
		{}, // an empty change among them writes nothing
		{VMs: []store.VM{vm(subA, "rg", "a", 3)}, DeletedVMs: []string{b.ID},
			Events: []store.Event{event(a.ID, t0.Add(time.Second), started.ID), event(b.ID, t0.Add(time.Second), "")}},
		{VMs: []store.VM{recreated}, Resources: []store.Resource{disk2}, Operations: []store.Operation{ended},
			Events: []store.Event{event(b.ID, t0.Add(2*time.Second), ended.ID)}, Settings: map[string]string{"clock": "batch"}},
	}
	if err := s.Apply(ctx, cs...); err != nil {
		t.Fatalf("Apply of %d changes: %v", len(cs), err)
	}
	snap := load(t, s)
	check(t, "vms", snap.VMs, []store.VM{vm(subA, "rg", "a", 3), recreated})
	if len(snap.Resources) != 1 || snap.Resources[0].Version != 2 || string(snap.Resources[0].Body) != string(disk2.Body) {
		t.Errorf("resources: %+v, want the disk at version 2", snap.Resources)
	}
	if len(snap.Operations) != 0 {
		t.Errorf("operations in progress: %+v, want none (the last change ended it)", snap.Operations)
	}
	if got, err := s.Operation(ctx, started.ID); err != nil || got.Status != "Succeeded" {
		t.Errorf("operation: %+v, %v; want Succeeded", got, err)
	}
	check(t, "settings", snap.Settings, map[string]string{"clock": "batch"})
	var seqs []int64
	for _, c := range cs {
		for _, e := range c.Events {
			seqs = append(seqs, e.Seq)
		}
	}
	var got []int64
	for _, e := range allHistory(t, s) {
		got = append(got, e.Seq)
	}
	if len(seqs) != 4 || !reflect.DeepEqual(got, seqs) || !sort.SliceIsSorted(seqs, func(i, j int) bool { return seqs[i] < seqs[j] }) {
		t.Errorf("History Seqs %v, want the assigned %v, increasing in change order", got, seqs)
	}
	for _, n := range seqs {
		if n <= 0 {
			t.Errorf("assigned Seqs %v: want positive", seqs)
		}
	}
}

// testBatchConflict: one change of an Apply that fails fails them all,
// however many came before it; the events of none get a Seq.
func testBatchConflict(t *testing.T, s store.Store) {
	ctx := context.Background()
	apply(t, s, store.Change{
		Subscriptions: []store.Subscription{sub(subA)},
		Groups:        []store.ResourceGroup{group(subA, "rg")},
		VMs:           []store.VM{vm(subA, "rg", "a", 1), vm(subA, "rg", "b", 1)},
		Operations:    []store.Operation{operation(opID(1), "InProgress")},
	})
	before := load(t, s)
	beforeHistory := allHistory(t, s)
	tests := []struct {
		name string
		last store.Change // what fails, after two good changes
	}{
		{"a version written twice", store.Change{VMs: []store.VM{vm(subA, "rg", "a", 2)}}},
		{"a version skipping the earlier change's", store.Change{VMs: []store.VM{vm(subA, "rg", "a", 4)}}},
		{"an update of a VM an earlier change deleted", store.Change{VMs: []store.VM{vm(subA, "rg", "b", 2)}}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := []store.Change{
				{VMs: []store.VM{vm(subA, "rg", "a", 2)}, Events: []store.Event{event(vmID(subA, "rg", "a"), t0, "")},
					Operations: []store.Operation{operation(opID(1), "Succeeded"), operation(opID(100+i), "InProgress")}},
				{DeletedVMs: []string{vmID(subA, "rg", "b")}, VMs: []store.VM{vm(subA, "rg", "c", 1)},
					Settings: map[string]string{"clock": "lost"}, Events: []store.Event{event(vmID(subA, "rg", "b"), t0, "")}},
				tt.last,
			}
			if err := s.Apply(ctx, cs...); !errors.Is(err, store.ErrConflict) {
				t.Fatalf("Apply: got %v, want ErrConflict", err)
			}
			check(t, "snapshot after the failed batch", load(t, s), before)
			check(t, "history after the failed batch", allHistory(t, s), beforeHistory)
			for _, c := range cs {
				for _, e := range c.Events {
					if e.Seq != 0 {
						t.Errorf("an event of the failed batch got Seq %d", e.Seq)
					}
				}
			}
			if _, err := s.Operation(ctx, opID(100+i)); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("operation of the failed batch: got %v, want ErrNotFound", err)
			}
		})
	}
}

// accounts reads the saved accounts' parts.
func accounts(t *testing.T, s store.Store) [][]byte {
	t.Helper()
	var out [][]byte
	if err := s.Accounts(context.Background(), func(p []byte) error {
		out = append(out, p)
		return nil
	}); err != nil {
		t.Fatalf("Accounts: %v", err)
	}
	return out
}

// wholeSave is a save of parts numbered in order, replacing the set.
func wholeSave(parts [][]byte) store.AccountsSave {
	save := store.AccountsSave{Count: len(parts)}
	for i, p := range parts {
		save.Parts = append(save.Parts, store.AccountsPart{N: i, Body: p})
	}
	return save
}

// The saved accounts come back byte for byte and in order, are replaced
// whole by the next save, or changed part by part by a save that names
// the set it changes (and refused when that set is no longer saved), and
// are dropped by every part of a compaction and by a reset: they describe
// a history that is no more.
func testAccounts(t *testing.T, s store.Store) {
	ctx := context.Background()
	check(t, "accounts of a new store", accounts(t, s), [][]byte(nil))
	big := bytes.Repeat([]byte{0, 1, 2, 0xff, 'x'}, 300_000) // binary, and over a megabyte
	parts := [][]byte{[]byte("header"), big, {0}, []byte("last")}
	if err := s.SaveAccounts(ctx, store.AccountsSave{Base: []byte("header"), Count: 1,
		Parts: []store.AccountsPart{{N: 0, Body: []byte("header")}}}); !errors.Is(err, store.ErrAccountsMoved) {
		t.Errorf("a change to accounts never saved: %v, want ErrAccountsMoved", err)
	}
	check(t, "accounts after a refused change", accounts(t, s), [][]byte(nil))
	if err := s.SaveAccounts(ctx, wholeSave(parts)); err != nil {
		t.Fatalf("SaveAccounts: %v", err)
	}
	check(t, "saved accounts", accounts(t, s), parts)

	// A change of some parts keeps the others, and drops those past its
	// count.
	changed := store.AccountsSave{Base: []byte("header"), Count: 3,
		Parts: []store.AccountsPart{{N: 0, Body: []byte("header 2")}, {N: 2, Body: []byte("two")}}}
	if err := s.SaveAccounts(ctx, changed); err != nil {
		t.Fatalf("SaveAccounts of some parts: %v", err)
	}
	check(t, "accounts changed", accounts(t, s), [][]byte{[]byte("header 2"), big, []byte("two")})
	grown := store.AccountsSave{Base: []byte("header 2"), Count: 4,
		Parts: []store.AccountsPart{{N: 0, Body: []byte("header 3")}, {N: 3, Body: []byte("three")}}}
	if err := s.SaveAccounts(ctx, grown); err != nil {
		t.Fatalf("SaveAccounts of a new part: %v", err)
	}
	check(t, "accounts grown", accounts(t, s), [][]byte{[]byte("header 3"), big, []byte("two"), []byte("three")})
	// A change of a set that another save replaced writes nothing.
	if err := s.SaveAccounts(ctx, changed); !errors.Is(err, store.ErrAccountsMoved) {
		t.Errorf("a change to accounts saved since: %v, want ErrAccountsMoved", err)
	}
	check(t, "accounts after a refused change", accounts(t, s), [][]byte{[]byte("header 3"), big, []byte("two"), []byte("three")})

	if err := s.SaveAccounts(ctx, wholeSave([][]byte{[]byte("again")})); err != nil {
		t.Fatalf("SaveAccounts: %v", err)
	}
	check(t, "accounts saved again", accounts(t, s), [][]byte{[]byte("again")})

	// A caller's error stops the read and comes back as it was.
	stop := errors.New("enough")
	if err := s.Accounts(ctx, func([]byte) error { return stop }); err != stop {
		t.Errorf("Accounts stopped by its caller: %v, want the caller's error", err)
	}

	a := vmID(subA, "rg", "a")
	apply(t, s, store.Change{Events: []store.Event{event(a, t0, opID(1)), event(a, t0.Add(2*time.Hour), opID(2))}})
	horizon := t0.Add(time.Hour)
	compactions := []store.Compaction{
		{Horizon: horizon, Resources: []string{a}, Checkpoints: []store.Checkpoint{{Event: event(a, horizon, opID(1))}}},
		{Horizon: horizon},
	}
	for i, c := range compactions {
		if err := s.SaveAccounts(ctx, wholeSave(parts)); err != nil {
			t.Fatalf("SaveAccounts: %v", err)
		}
		if _, err := s.Compact(ctx, c); err != nil {
			t.Fatalf("Compact: %v", err)
		}
		check(t, fmt.Sprintf("accounts after compaction %d", i), accounts(t, s), [][]byte(nil))
	}
	if err := s.SaveAccounts(ctx, wholeSave(parts)); err != nil {
		t.Fatalf("SaveAccounts: %v", err)
	}
	if err := s.Reset(ctx); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	check(t, "accounts after reset", accounts(t, s), [][]byte(nil))
}

// EventsFrom reads the events from a Seq on, in order, without the
// checkpoints of a compaction, and stops when its caller says.
func testEventsFrom(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := vmID(subA, "rg", "a"), vmID(subB, "rg", "b")
	var evs []store.Event
	for i := range 6 {
		id := a
		if i%2 == 1 {
			id = b
		}
		evs = append(evs, event(id, t0.Add(time.Duration(i)*time.Hour), opID(i)))
	}
	apply(t, s, store.Change{Events: evs[:4]})
	apply(t, s, store.Change{Events: evs[4:]})
	from := func(seq int64) []store.Event {
		t.Helper()
		var out []store.Event
		if err := s.EventsFrom(ctx, seq, func(e store.Event) error {
			out = append(out, e)
			return nil
		}); err != nil {
			t.Fatalf("EventsFrom(%d): %v", seq, err)
		}
		return out
	}
	check(t, "events from the first", from(evs[0].Seq), evs)
	check(t, "events from 0", from(0), evs)
	check(t, "events from the third", from(evs[2].Seq), evs[2:])
	check(t, "events past the last", from(evs[5].Seq+1), []store.Event(nil))

	// A compaction's checkpoints are not events.
	horizon := t0.Add(150 * time.Minute)
	if _, err := s.Compact(ctx, store.Compaction{Horizon: horizon, Checkpoints: []store.Checkpoint{
		{Event: event(a, horizon, opID(2))}, {Event: event(b, horizon, opID(1))}}}); err != nil {
		t.Fatalf("Compact: %v", err)
	}
	check(t, "events from 0 after a compaction", from(0), evs[3:])
	check(t, "events from a compacted one", from(evs[1].Seq), evs[3:])

	stop := errors.New("enough")
	n := 0
	if err := s.EventsFrom(ctx, 0, func(store.Event) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("EventsFrom stopped by its caller: %v after %d events, want the caller's error after 1", err, n)
	}
}
