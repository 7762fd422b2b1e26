package dashboard_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/billing"
	"github.com/azemu/azemu/internal/dashboard"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/enginetest"
	"github.com/azemu/azemu/internal/store"
)

// savedSwitch is a store whose saved accounts can be hidden, as from a
// store that never had any, and whose saving can fail.
type savedSwitch struct {
	store.Store
	hide    atomic.Bool
	failing atomic.Bool
}

func (s *savedSwitch) Accounts(ctx context.Context, fn func([]byte) error) error {
	if s.hide.Load() {
		return nil
	}
	return s.Store.Accounts(ctx, fn)
}

func (s *savedSwitch) SaveAccounts(ctx context.Context, save store.AccountsSave) error {
	if s.failing.Load() {
		return errors.New("the disk is gone")
	}
	return s.Store.SaveAccounts(ctx, save)
}

// onlyTheTestSaves: a start that read the whole history saves at once,
// which would race with what a test does next.
func onlyTheTestSaves(c *dashboard.Config) { c.SaveInterval = -1 }

// savedRig is a rig whose store's saved accounts can be hidden or fail to
// be saved, and whose dashboard saves only when the test says.
func savedRig(t *testing.T) (*rig, *savedSwitch) {
	t.Helper()
	var saved *savedSwitch
	er := enginetest.New(t, t0, func(c *engine.Config) {
		saved = &savedSwitch{Store: c.Store}
		c.Store = saved
	})
	return rigOn(t, er.Engine, er.Clock, onlyTheTestSaves), saved
}

// restartLedger starts a dashboard on r's engine, as a restart does, with
// the saved accounts or (hide) without them, rating by prices (nil: the
// rig's), and describes its ledger a while after now.
func restartLedger(t *testing.T, r *rig, saved *savedSwitch, hide bool, prices *billing.PriceSheet) (dump string, fromSaved bool, err error) {
	t.Helper()
	saved.hide.Store(hide)
	defer saved.hide.Store(false)
	d := rigOn(t, r.eng, r.clk, func(c *dashboard.Config) {
		onlyTheTestSaves(c)
		if prices != nil {
			c.Prices = prices
		}
	})
	return dashboard.LedgerAccounts(context.Background(), d.dash, r.eng.Now().Add(17*time.Minute+3*time.Second))
}

// A ledger that starts from saved accounts and the events after them has
// every account a ledger that read the whole history has, to the last
// fraction of a cent, and the same disks and public IPs under each VM:
// after churn, after changes committed since the save that no save
// followed (as after a crash), after a compaction (which drops the saved
// accounts; a save after it is trusted again), after a reset, and with a
// price sheet other than the one they were rated by (which it does not
// trust).
func TestSavedAccountsStartExact(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, saved := savedRig(t)
	restart := func(what string, hide bool, prices *billing.PriceSheet) (dump string, fromSaved bool) {
		t.Helper()
		dump, fromSaved, err := restartLedger(t, r, saved, hide, prices)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return dump, fromSaved
	}
	// same restarts with the saved accounts and without, and compares.
	same := func(what string, wantSaved bool, prices *billing.PriceSheet) {
		t.Helper()
		withSaved, fromSaved := restart(what, false, prices)
		if fromSaved != wantSaved {
			t.Errorf("%s: started from the saved accounts: %v, want %v", what, fromSaved, wantSaved)
		}
		whole, fromSaved := restart(what, true, prices)
		if fromSaved {
			t.Fatalf("%s: a store without saved accounts gave some", what)
		}
		if withSaved != whole {
			t.Errorf("%s: the ledger started from saved accounts has\n%s\nwant what the whole history gives\n%s", what, withSaved, whole)
		}
		if !strings.Contains(whole, "Disk") || !strings.Contains(whole, "PublicIP") || !strings.Contains(whole, "children of") {
			t.Fatalf("%s: nothing to compare:\n%s", what, whole)
		}
	}
	save := func() {
		t.Helper()
		if err := dashboard.SaveAccountsNow(ctx, r.dash); err != nil {
			t.Fatal(err)
		}
	}

	churn := func(round int) {
		t.Helper()
		web, db := vmID(subA, "rg", "web"), vmID(subA, "rg", "db")
		r.advance(7*time.Minute + time.Duration(round)*13*time.Second)
		r.act(web, "powerOff")
		r.advance(time.Hour + 321*time.Millisecond)
		r.act(db, "deallocate")
		r.advance(40 * time.Minute)
		r.act(web, "start")
		r.act(db, "start")
		r.advance(3*time.Hour + 17*time.Second)
		r.must(http.StatusOK, http.MethodPatch, db, map[string]any{"properties": map[string]any{
			"hardwareProfile": map[string]any{"vmSize": []string{"Standard_D4s_v3", "Standard_D2s_v3"}[round%2]}}}, nil)
		r.advance(2 * time.Hour)
	}
	setUp := func() {
		t.Helper()
		r.group(subA, "rg", "eastus")
		r.publicNIC(subA, "rg", "web", "eastus")
		for _, name := range []string{"web", "db", "gone"} {
			r.vm(subA, "rg", name, "eastus")
		}
		r.advance(80 * time.Second)
	}
	setUp()
	churn(0)
	r.act(vmID(subA, "rg", "gone"), "delete")
	churn(1)
	save()
	same("after churn", true, nil)

	// Changes committed after the save, with no save after them.
	churn(2)
	same("after changes since the save", true, nil)

	// Another price sheet: the saved accounts are not trusted.
	other, err := billing.ParsePriceSheet(strings.NewReader(strings.Replace(
		`{"Items":[{"currencyCode":"USD","retailPrice":0.5,"armRegionName":"eastus","armSkuName":"Standard_D2s_v3","meterName":"D2s v3","productName":"Virtual Machines DSv3 Series","serviceName":"Virtual Machines","unitOfMeasure":"1 Hour","type":"Consumption"},
		 {"currencyCode":"USD","retailPrice":0.005,"armRegionName":"eastus","meterName":"Standard IPv4 Static Public IP","skuName":"Standard","productName":"IP Addresses","serviceName":"Virtual Network","unitOfMeasure":"1 Hour","type":"Consumption"}]}`,
		"\n", "", -1)))
	if err != nil {
		t.Fatal(err)
	}
	same("with another price sheet", false, other)

	// A compaction drops the saved accounts; a save after it, by a ledger
	// that lived through it, is trusted and agrees with the compacted
	// history.
	if _, err := r.eng.Do(ctx, engine.CompactHistory{Horizon: r.eng.Now().Add(-5 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	same("after a compaction", false, nil)
	churn(3)
	save()
	same("saved after a compaction", true, nil)
	churn(4)
	same("after changes since a save after a compaction", true, nil)

	// A save that fails fails nothing else, and loses nothing.
	saved.failing.Store(true)
	if err := dashboard.SaveAccountsNow(ctx, r.dash); err == nil || !strings.Contains(err.Error(), "the disk is gone") {
		t.Errorf("a failed save: %v", err)
	}
	saved.failing.Store(false)
	churn(5)
	same("after a failed save", true, nil)

	// A reset forgets every account; what comes after starts afresh.
	if _, err := r.eng.Do(ctx, engine.ResetFleet{}); err != nil {
		t.Fatal(err)
	}
	if dump, _, err := dashboard.LedgerAccounts(ctx, r.dash, r.eng.Now()); err != nil || dump != "" {
		t.Errorf("the ledger after a reset: %v\n%s", err, dump)
	}
	setUp()
	churn(6)
	save()
	churn(7)
	same("after a reset", true, nil)
}
