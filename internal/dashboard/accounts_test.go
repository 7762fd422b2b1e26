package dashboard_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/dashboard"
)

// The running accounts that a process without a dashboard (a bulk load)
// keeps and saves are trusted by the next start, which reads them rather
// than the history, and they are exactly those the whole history gives:
// kept from an empty store, from the saved accounts of a fleet served
// before, and from the history of a fleet that has none.
func TestKeptAccountsStartExact(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// fleet makes VMs, one with a public IP, in a group of its own.
	fleet := func(r *rig, rg string) {
		r.group(subA, rg, "eastus")
		r.publicNIC(subA, rg, "web", "eastus")
		for _, name := range []string{"web", "db"} {
			r.vm(subA, rg, name, "eastus")
		}
		r.advance(80 * time.Second)
		r.act(vmID(subA, rg, "db"), "deallocate")
		r.advance(time.Hour + 7*time.Second)
	}
	for _, tt := range []struct {
		name string
		// before makes the fleet the accounts are then kept of; save:
		// a dashboard saved its accounts after; hide: KeepAccounts
		// finds none saved.
		before     func(r *rig)
		save, hide bool
	}{
		{name: "an empty store"},
		{name: "a fleet with saved accounts", before: func(r *rig) { fleet(r, "old") }, save: true},
		{name: "a fleet whose saved accounts are not found", before: func(r *rig) { fleet(r, "old") }, save: true, hide: true},
		{name: "a fleet without saved accounts", before: func(r *rig) { fleet(r, "old") }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, saved := savedRig(t)
			if tt.before != nil {
				tt.before(r)
			}
			if tt.save {
				if err := dashboard.SaveAccountsNow(ctx, r.dash); err != nil {
					t.Fatal(err)
				}
			}
			saved.hide.Store(tt.hide)
			kept, err := dashboard.KeepAccounts(ctx, r.eng, testPrices(t), slog.New(slog.DiscardHandler))
			saved.hide.Store(false)
			if err != nil {
				t.Fatal(err)
			}
			fleet(r, "new")
			r.act(vmID(subA, "new", "web"), "powerOff")
			r.advance(3*time.Minute + 11*time.Second)
			if err := kept.Save(ctx); err != nil {
				t.Fatal(err)
			}
			restart := func(hide bool) (dump string, fromSaved bool) {
				t.Helper()
				dump, fromSaved, err := restartLedger(t, r, saved, hide, nil)
				if err != nil {
					t.Fatal(err)
				}
				return dump, fromSaved
			}
			withSaved, fromSaved := restart(false)
			if !fromSaved {
				t.Error("the start after the accounts were kept and saved read the whole history")
			}
			whole, fromSaved := restart(true)
			if fromSaved {
				t.Fatal("a store without saved accounts gave some")
			}
			if withSaved != whole {
				t.Errorf("the ledger started from the kept accounts has\n%s\nwant what the whole history gives\n%s", withSaved, whole)
			}
			if !strings.Contains(whole, "Disk") || !strings.Contains(whole, "PublicIP") || !strings.Contains(whole, "children of") ||
				!strings.Contains(whole, "/new/") || (tt.before != nil && !strings.Contains(whole, "/old/")) {
				t.Fatalf("nothing to compare:\n%s", whole)
			}
		})
	}
}

// Accounts that cannot be read are not kept: KeepAccounts says why, and
// there is nothing to save.
func TestKeepAccountsOfAnUnreadableHistory(t *testing.T) {
	t.Parallel()
	er, gated := gatedEngine(t)
	gated.hold(errors.New("the disk is gone"))()
	kept, err := dashboard.KeepAccounts(context.Background(), er.Engine, testPrices(t), slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "the disk is gone") || kept != nil {
		t.Errorf("KeepAccounts of an unreadable history = %v, %v", kept, err)
	}
}
