package dashboard

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/azemu/azemu/internal/billing"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/enginetest"
)

// The ledger's accounts keep the engine's copies of their keys and IDs,
// whether read from the history at start or made by a change after: a
// fleet's worth of keys is held once, not once by the engine and again
// by the ledger. Found by key, the accounts are those of the engine's VMs
// and disks, under any spelling of a group's non-ASCII name.
func TestLedgerKeysShareTheEngines(t *testing.T) {
	prices, err := billing.ParsePriceSheet(strings.NewReader(`{"Items":[
 {"currencyCode":"USD","retailPrice":0.096,"armRegionName":"eastus","meterName":"D2s v3","skuName":"D2s v3","armSkuName":"Standard_D2s_v3","productName":"Virtual Machines DSv3 Series","serviceName":"Virtual Machines","unitOfMeasure":"1 Hour","type":"Consumption"},
 {"currencyCode":"USD","retailPrice":19.71,"armRegionName":"eastus","meterName":"P10 LRS Disk","skuName":"P10 LRS","productName":"Premium SSD Managed Disks","serviceName":"Storage","unitOfMeasure":"1/Month","type":"Consumption"}
]}`))
	if err != nil {
		t.Fatal(err)
	}
	const sub, rg = "00000000-0000-0000-0000-000000000001", "Rg-Ünïcode-İ"
	ctx := context.Background()
	er := enginetest.New(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), nil)
	eng := er.Engine
	if err := enginetest.PutGroup(ctx, eng, sub, rg, "eastus"); err != nil {
		t.Fatal(err)
	}
	put := func(name string) {
		t.Helper()
		if _, _, err := enginetest.PutVM(ctx, eng, sub, rg, name, json.RawMessage(`{}`), engine.VMSpec{Location: "eastus",
			VMSize: "Standard_D2s_v3", OSType: "Linux", Disks: []engine.DiskRef{{Name: name + "_OS", CreateOption: "FromImage",
				SizeGB: 128, OS: true, SKU: "Premium_LRS"}}}); err != nil {
			t.Fatal(err)
		}
	}
	put("Web-0") // read from the history
	l := newLedger(prices)
	l.keyOf = eng.KeyOf
	eng.OnChange(l.onChange)
	if err := l.seed(ctx, eng); err != nil {
		t.Fatal(err)
	}
	put("Web-1") // a change after start
	if _, err := eng.Do(ctx, engine.AdvanceClock{By: time.Hour}); err != nil {
		t.Fatal(err)
	}
	same := func(a, b string) bool { return a == b && unsafe.StringData(a) == unsafe.StringData(b) }
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, name := range []string{"Web-0", "Web-1"} {
		v, err := eng.GetVM(sub, "rg-üNïcOdE-İ", name)
		if err != nil {
			t.Fatal(err)
		}
		d, err := eng.GetDisk(sub, strings.ToUpper(rg), name+"_OS")
		if err != nil {
			t.Fatal(err)
		}
		vs, vok := l.slotOf[v.Key]
		ds, dok := l.slotOf[d.Key]
		if !vok || !dok || !l.accts[vs].open() || !l.accts[ds].open() {
			t.Fatalf("%s: no accounts of the VM and its disk", name)
		}
		va, da := &l.accts[vs], &l.accts[ds]
		if !same(va.key, v.Key) || !same(da.key, d.Key) || da.parent != vs {
			t.Errorf("%s: the accounts' keys are copies of the engine's", name)
		}
		if !same(da.id, d.ID) {
			t.Errorf("%s: the disk's account holds a copy of its ID", name)
		}
	}
}
