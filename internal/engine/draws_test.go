package engine

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/clock"
	"github.com/azemu/azemu/internal/lifecycle"
	"github.com/azemu/azemu/internal/store/memstore"
)

// checkOrderedOperationIDs fails unless ids are lower-case version-7
// GUIDs that sort strictly in the order given, both as text (SQLite's
// op_key, PostgreSQL's) and as their 16 bytes (SQLite's events keep a GUID
// so), and returns their bytes.
func checkOrderedOperationIDs(t *testing.T, ids []string) [][]byte {
	t.Helper()
	raw := make([][]byte, len(ids))
	for i, id := range ids {
		if len(id) != 36 || id[8] != '-' || id[13] != '-' || id[18] != '-' || id[23] != '-' || id != strings.ToLower(id) {
			t.Fatalf("ID %d %q is not a lower-case GUID", i, id)
		}
		b, err := hex.DecodeString(strings.ReplaceAll(id, "-", ""))
		if err != nil {
			t.Fatalf("ID %d %q is not a GUID: %v", i, id, err)
		}
		if b[6]>>4 != 7 || b[8]>>6 != 2 {
			t.Fatalf("ID %d %q is not version 7 of the RFC 9562 variant", i, id)
		}
		raw[i] = b
		if i > 0 {
			if ids[i-1] >= id {
				t.Fatalf("ID %d %q does not sort after %q as text", i, id, ids[i-1])
			}
			if bytes.Compare(raw[i-1], b) >= 0 {
				t.Fatalf("ID %d %q does not sort after %q as bytes", i, id, ids[i-1])
			}
		}
	}
	return raw
}

// msOf reads the milliseconds an operation ID was made at.
func msOf(b []byte) int64 {
	var ms int64
	for _, c := range b[:6] {
		ms = ms<<8 | int64(c)
	}
	return ms
}

func TestOperationIDsSortInTheOrderMade(t *testing.T) {
	d := newDraws(7)
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var ids []string
	var want []int64 // the millisecond each ID should carry
	draw := func(when time.Time, n int, ms int64) {
		for range n {
			ids = append(ids, d.operationID(when))
			want = append(want, ms)
		}
	}
	// A burst at one instant of a standing clock.
	draw(at, 5000, at.UnixMilli())
	// The clock moves on by less than a millisecond, then by more.
	draw(at.Add(300*time.Microsecond), 3, at.UnixMilli())
	draw(at.Add(time.Millisecond), 3, at.UnixMilli()+1)
	draw(at.Add(time.Hour), 3, at.Add(time.Hour).UnixMilli())
	// A time before the last ID's (a step decided at its due time, a
	// clock set back) counts on from the last.
	draw(at, 3, at.Add(time.Hour).UnixMilli())
	// A counter run out borrows the next millisecond.
	d.opSeq = 1<<opSeqBits - 2
	draw(at.Add(time.Hour), 3, at.Add(time.Hour).UnixMilli()+1)
	want[len(want)-3] = at.Add(time.Hour).UnixMilli()
	raw := checkOrderedOperationIDs(t, ids)
	for i, b := range raw {
		if msOf(b) != want[i] {
			t.Fatalf("ID %d %q carries millisecond %d, want %d", i, ids[i], msOf(b), want[i])
		}
	}
	// The last 32 bits are random, not counted.
	if ids[0][28:] == ids[1][28:] && ids[1][28:] == ids[2][28:] {
		t.Fatalf("three IDs end alike: %q", ids[:3])
	}
}

func TestOperationIDsRepeatWithTheSeed(t *testing.T) {
	run := func(seed uint64) string {
		d := newDraws(seed)
		at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		var out []string
		for i := range 20 {
			out = append(out, d.operationID(at.Add(time.Duration(i/5)*time.Second)))
		}
		return strings.Join(out, "\n")
	}
	if a, b := run(1), run(1); a != b {
		t.Fatalf("seed 1 gave two runs:\n%s\n---\n%s", a, b)
	}
	if run(1) == run(2) {
		t.Fatal("seeds 1 and 2 gave the same IDs")
	}
}

// The operations an engine starts, seeded, on a manual clock standing
// still and then moved on, get IDs in the order it started them.
func TestEngineOperationIDsFollowTheirOrder(t *testing.T) {
	st := memstore.New()
	t.Cleanup(func() { st.Close() })
	eng, err := New(context.Background(), Config{Store: st, Manual: clock.NewManual(t0), Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := putGroup(ctx, eng, testSub, "rg", "westus"); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 20 {
		_, _, op, err := putVM(ctx, eng, testSub, "rg", fmt.Sprintf("vm%d", i), linuxVM)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, op.ID)
	}
	for _, req := range []lifecycle.Kind{lifecycle.PowerOff, lifecycle.Start} {
		if _, err := eng.Do(ctx, AdvanceClock{By: 10 * time.Minute}); err != nil {
			t.Fatal(err)
		}
		for i := range 20 {
			op, err := act(ctx, eng, testSub, "rg", fmt.Sprintf("vm%d", i), lifecycle.Request{Kind: req})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, op.ID)
		}
	}
	raw := checkOrderedOperationIDs(t, ids)
	if got, want := msOf(raw[0]), t0.UnixMilli(); got != want {
		t.Fatalf("the first operation carries millisecond %d, want the clock's %d", got, want)
	}
	if got, want := msOf(raw[len(raw)-1]), t0.Add(20*time.Minute).UnixMilli(); got != want {
		t.Fatalf("the last operation carries millisecond %d, want the clock's %d", got, want)
	}
	for _, id := range ids {
		op, err := eng.Operation(ctx, id)
		if err != nil || op.ID != id {
			t.Fatalf("operation %s: %+v, %v", id, op, err)
		}
	}
}
