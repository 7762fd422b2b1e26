package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/store"
	"github.com/azemu/azemu/internal/store/storetest"
)

// A vacuum of a current file applies no migration and keeps every row.
func TestVacuumFreshFile(t *testing.T) {
	s, path := openTemp(t)
	c := sample()
	if err := s.Apply(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	v, err := Vacuum(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if v.Migrations != nil || v.Before <= 0 || v.After <= 0 || v.After > v.Before {
		t.Errorf("vacuum of a fresh file: %+v", v)
	}
	if after, err := fileBytes(path); err != nil || after != v.After {
		t.Errorf("the file holds %d bytes (%v), the vacuum said %d", after, err, v.After)
	}
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkSample(t, s, c)
}

// A vacuum of a file of an old schema migrates it, and gives back the
// pages of the tables the migrations rewrote: the file ends smaller, and
// the history and operations read back as they were.
func TestVacuumMigratedFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "azemu.db")
	db := writeOldHistory(t, openAtVersion(t, path, 5))
	// Operations enough to fill pages, which 0011 rewrites.
	var ops []store.Operation
	for i := range 2000 {
		at := t0.Add(time.Duration(i) * time.Second)
		op := store.Operation{ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), SubscriptionID: sub, Location: "westus",
			Kind: "create", TargetID: vmID(fmt.Sprintf("vm%d", i)), Status: "Succeeded", StartTime: at, EndTime: at.Add(time.Minute),
			Result: json.RawMessage(`{"detail":"` + strings.Repeat("r", 200) + `"}`)}
		if _, err := db.Exec(`INSERT INTO operations (op_key, id, subscription_id, location, kind, target_id, status, start_time, end_time, error, result)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, store.Key(op.ID), op.ID, op.SubscriptionID, op.Location, op.Kind, op.TargetID, op.Status,
			op.StartTime.UnixNano(), op.EndTime.UnixNano(), nil, string(op.Result)); err != nil {
			t.Fatal(err)
		}
		ops = append(ops, op)
	}
	db.Close()

	v, err := Vacuum(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, m := range ms {
		if m.Version > 5 {
			want = append(want, m.Name)
		}
	}
	if !reflect.DeepEqual(v.Migrations, want) {
		t.Errorf("migrations applied: %v, want %v", v.Migrations, want)
	}
	if v.Free <= 0 || v.After >= v.Before {
		t.Errorf("vacuum of a migrated file: %+v, want free pages given back", v)
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := freePages(t, s.r); n != 0 {
		t.Errorf("%d free pages after the vacuum", n)
	}
	for _, i := range []int{0, 1234, 1999} {
		got, err := s.Operation(ctx, ops[i].ID)
		if err != nil || !reflect.DeepEqual(got, ops[i]) {
			t.Errorf("operation %d: %+v (%v), want %+v", i, got, err, ops[i])
		}
	}
	storetest.CheckMigratedHistory(t, s)
}
