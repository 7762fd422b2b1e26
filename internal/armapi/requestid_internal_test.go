package armapi

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/azemu/azemu/internal/clock"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/store/memstore"
)

var guidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestGUIDString(t *testing.T) {
	for _, tc := range []struct {
		hi, lo uint64
		want   string
	}{
		{0, 0, "00000000-0000-4000-8000-000000000000"},
		{^uint64(0), ^uint64(0), "ffffffff-ffff-4fff-bfff-ffffffffffff"},
		{0x0123456789abcdef, 0xfedcba9876543210, "01234567-89ab-4def-bedc-ba9876543210"},
	} {
		if got := guidString(tc.hi, tc.lo); got != tc.want {
			t.Errorf("guidString(%#x, %#x) = %s, want %s", tc.hi, tc.lo, got, tc.want)
		}
	}
}

func TestRequestIDsAreUniqueGUIDs(t *testing.T) {
	const n = 200_000
	for _, seed := range []uint64{0, 1, 42} {
		g := newRequestIDs(seed)
		seen := make(map[string]bool, n)
		for range n {
			id := g.next()
			if !guidV4.MatchString(id) {
				t.Fatalf("seed %d: %q is not a lower-case version-4 GUID", seed, id)
			}
			if seen[id] {
				t.Fatalf("seed %d: %s handed out twice in %d", seed, id, len(seen))
			}
			seen[id] = true
		}
	}
	draw := func(seed uint64) []string {
		g := newRequestIDs(seed)
		out := make([]string, 100)
		for i := range out {
			out[i] = g.next()
		}
		return out
	}
	if !slices.Equal(draw(7), draw(7)) {
		t.Error("a seed does not repeat its request IDs")
	}
	if slices.Equal(draw(7), draw(8)) || slices.Equal(draw(0), draw(0)) {
		t.Error("two seeds, or two unseeded servers, hand out the same request IDs")
	}
}

// TestSeededRequestIDsLeaveTheEnginesIDs checks that request IDs are not
// drawn from the engine's seeded source: the GETs a seeded client sends
// between two creates do not change the IDs the second one gets, and the
// request IDs themselves repeat run after run.
func TestSeededRequestIDsLeaveTheEnginesIDs(t *testing.T) {
	run := func(gets int) (vmID string, rids []string) {
		eng, err := engine.New(context.Background(), engine.Config{Store: memstore.New(), Manual: clock.NewManual(clock.DefaultManualStart),
			Logger: slog.New(slog.DiscardHandler), Seed: 11})
		if err != nil {
			t.Fatal(err)
		}
		defer eng.Close()
		h := New(Config{Engine: eng, Logger: slog.New(slog.DiscardHandler), Seed: 11}).Handler()
		do := func(method, path, body string) *httptest.ResponseRecorder {
			req := httptest.NewRequest(method, path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer x")
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code >= 300 {
				t.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
			}
			rids = append(rids, rec.Header().Get("x-ms-request-id"))
			return rec
		}
		const sub = "00000000-0000-0000-0000-0000000000c1"
		do(http.MethodPut, "/subscriptions/"+sub+"/resourcegroups/rg?api-version=2021-04-01", `{"location":"westus"}`)
		for range gets {
			do(http.MethodGet, "/subscriptions/"+sub+"/resourcegroups/rg?api-version=2021-04-01", "")
		}
		vm := "/subscriptions/" + sub + "/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1?api-version=2025-04-01"
		rec := do(http.MethodPut, vm, `{"location":"westus","properties":{"hardwareProfile":{"vmSize":"Standard_D2s_v3"},`+
			`"storageProfile":{"imageReference":{"publisher":"Canonical","offer":"ubuntu-24_04-lts","sku":"server","version":"latest"}},`+
			`"osProfile":{"computerName":"vm1","adminUsername":"azureuser","adminPassword":"Passw0rd!bench"},`+
			`"networkProfile":{"networkInterfaces":[{"id":"/subscriptions/`+sub+`/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/nic1"}]}}}`)
		var got struct {
			Properties struct {
				VMID string `json:"vmId"`
			} `json:"properties"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || got.Properties.VMID == "" {
			t.Fatalf("no vmId in %s (%v)", rec.Body, err)
		}
		return got.Properties.VMID, rids
	}
	quiet, quietIDs := run(0)
	busy, busyIDs := run(5)
	if quiet != busy {
		t.Errorf("five GETs moved the seeded vmId from %s to %s", quiet, busy)
	}
	_, again := run(5)
	if !slices.Equal(busyIDs, again) {
		t.Errorf("a seeded run's request IDs do not repeat:\n%v\n%v", busyIDs, again)
	}
	if quietIDs[0] != busyIDs[0] {
		t.Errorf("the first request ID differs between two seeded runs: %s, %s", quietIDs[0], busyIDs[0])
	}
}

// BenchmarkRequestID is what every request pays for its ID: drawn from the
// operating system (as before), from the runtime's generator (unseeded),
// and from a seeded stream.
func BenchmarkRequestID(b *testing.B) {
	b.Run("crypto-rand", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				var buf [16]byte
				if _, err := crand.Read(buf[:]); err != nil {
					b.Fatal(err)
				}
				_ = guidString(binary.BigEndian.Uint64(buf[:8]), binary.BigEndian.Uint64(buf[8:]))
			}
		})
	})
	for _, seed := range []uint64{0, 1} {
		b.Run(fmt.Sprintf("seed=%d", seed), func(b *testing.B) {
			g := newRequestIDs(seed)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					_ = g.next()
				}
			})
		})
	}
}
