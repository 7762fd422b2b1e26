package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/jsonshape"
	"github.com/azemu/azemu/internal/store"
)

func TestChunks(t *testing.T) {
	tests := []struct {
		n    int
		want []int
	}{
		{0, nil},
		{1, []int{1}},
		{3, []int{2, 1}},
		{32, []int{32}},
		{63, []int{32, 16, 8, 4, 2, 1}},
		{64, []int{64}},
		{65, []int{64, 1}},
		{200, []int{64, 64, 64, 8}},
	}
	for _, tt := range tests {
		got := chunks(tt.n)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("chunks(%d) = %v, want %v", tt.n, got, tt.want)
		}
		sum := 0
		for _, size := range got {
			sum += size
			for _, m := range []multiRow{operationRows} {
				if rows := strings.Count(m.sql(size), "(?"); rows != size {
					t.Errorf("the statement for %d rows holds %d", size, rows)
				}
			}
		}
		if sum != tt.n {
			t.Errorf("chunks(%d) sum to %d", tt.n, sum)
		}
	}
}

// One Apply of more events and operations than one statement holds, in a
// number no statement is made for: every event is numbered in the order
// the changes gave it, and each operation ends as the last change that
// wrote it left it, whether the statement that wrote it before was the
// same one or another.
func TestApplyManyRows(t *testing.T) {
	s, _ := openTemp(t)
	defer s.Close()
	ctx := context.Background()
	c0 := sample()
	if err := s.Apply(ctx, c0); err != nil {
		t.Fatal(err)
	}
	const n = 101
	op := func(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", 1000+i) }
	var cs []store.Change
	for i := range n {
		at := t0.Add(time.Duration(i+1) * time.Second)
		c := store.Change{Events: []store.Event{
			{VMID: vmID("vm"), At: at, ProvisioningState: "Updating", ProvisioningCode: "ProvisioningState/updating",
				PowerState: "starting", OperationID: op(i), OperationKind: "start", Detail: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))},
			{VMID: vmID(fmt.Sprintf("vm%d", i%7)), At: at, ProvisioningState: "Succeeded", ProvisioningCode: "ProvisioningState/succeeded",
				PowerState: "running", OperationID: op(i), OperationKind: "start"},
		}}
		// Change i starts operation i and ends the one change i-1 started.
		c.Operations = append(c.Operations, store.Operation{ID: op(i), SubscriptionID: sub, Location: "westus", Kind: "start",
			TargetID: vmID("vm"), Status: "InProgress", StartTime: at})
		if i > 0 {
			c.Operations = append(c.Operations, store.Operation{ID: op(i - 1), SubscriptionID: sub, Location: "westus", Kind: "start",
				TargetID: vmID("vm"), Status: "Succeeded", StartTime: at.Add(-time.Second), EndTime: at,
				Result: json.RawMessage(fmt.Sprintf(`{"ended":%d}`, i-1))})
		}
		cs = append(cs, c)
	}
	if err := s.Apply(ctx, cs...); err != nil {
		t.Fatal(err)
	}
	var want []store.Event
	for _, c := range cs {
		want = append(want, c.Events...)
	}
	if !slices.IsSortedFunc(want, func(a, b store.Event) int { return int(a.Seq - b.Seq) }) || want[0].Seq <= c0.Events[0].Seq ||
		len(slices.CompactFunc(slices.Clone(want), func(a, b store.Event) bool { return a.Seq == b.Seq })) != len(want) {
		t.Fatalf("assigned Seqs not increasing in the changes' order: first %d, last %d", want[0].Seq, want[len(want)-1].Seq)
	}
	var got []store.Event
	if err := s.History(ctx, "", t0.Add(time.Second), t0.Add(time.Hour), func(e store.Event) error {
		got = append(got, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("History holds %d events, want the %d applied, with their Seqs, in order", len(got), len(want))
	}
	for i := range n {
		o, err := s.Operation(ctx, op(i))
		if err != nil {
			t.Fatal(err)
		}
		wantStatus, wantResult := "Succeeded", fmt.Sprintf(`{"ended":%d}`, i)
		if i == n-1 {
			wantStatus, wantResult = "InProgress", ""
		}
		if o.Status != wantStatus || string(o.Result) != wantResult {
			t.Errorf("operation %d: %s %s, want %s %s", i, o.Status, o.Result, wantStatus, wantResult)
		}
	}
	snap, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Operations) != 2 { // the sample's and the last change's
		t.Errorf("%d operations in progress, want 2", len(snap.Operations))
	}
}

// A VM row that says its model is unchanged leaves the stored model
// alone: the statement that would compare it is not run at all.
func TestModelUnchangedIsNotWritten(t *testing.T) {
	s, _ := openTemp(t)
	defer s.Close()
	ctx := context.Background()
	c := sample()
	if err := s.Apply(ctx, c); err != nil {
		t.Fatal(err)
	}
	v := c.VMs[0]
	v.Version, v.Model, v.ModelUnchanged = 2, jsonshape.Of([]byte(`{"not":"written"}`)), true
	if err := s.Apply(ctx, store.Change{VMs: []store.VM{v}}); err != nil {
		t.Fatal(err)
	}
	v.Version, v.Model, v.ModelUnchanged = 3, jsonshape.Of([]byte(`{"written":true}`)), false
	snap, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := snap.VMs[0].Model.String(); got != c.VMs[0].Model.String() || snap.VMs[0].Version != 2 {
		t.Errorf("after an update with ModelUnchanged: model %s version %d, want %s version 2", got, snap.VMs[0].Version, c.VMs[0].Model)
	}
	if err := s.Apply(ctx, store.Change{VMs: []store.VM{v}}); err != nil {
		t.Fatal(err)
	}
	if snap, err = s.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if got := snap.VMs[0].Model.String(); got != `{"written":true}` {
		t.Errorf("after an update of the model: %s", got)
	}
}
