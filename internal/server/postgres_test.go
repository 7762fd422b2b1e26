package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/pgtest"
	"github.com/azemu/azemu/internal/server"
	"github.com/azemu/azemu/internal/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// Two servers on one PostgreSQL store serve one fleet: a write
// acknowledged by one is read through the other at once, a write through
// the other decides on it (the refusal and the preemption one server would
// give), the manual clock advanced through either moves both, and the
// faults one registers hold for both.
func TestReplicasServeOnePostgresStore(t *testing.T) {
	url := pgtest.Database(t)
	a := startServer(t, server.Config{Store: url})
	b := startServer(t, server.Config{Store: url})
	ctx := context.Background()
	clients := map[*server.Server]*http.Client{a: httpsClient(t, a), b: httpsClient(t, b)}
	do := func(srv *server.Server, method, path, body string) (int, map[string]any, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL()+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer test")
		req.Header.Set("Content-Type", "application/json")
		res, err := clients[srv].Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		data, _ := io.ReadAll(res.Body)
		var m map[string]any
		json.Unmarshal(data, &m)
		return res.StatusCode, m, string(data)
	}
	const sub = "00000000-0000-0000-0000-000000000001"
	vm := "/subscriptions/" + sub + "/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"
	const v = "?api-version=2025-04-01"
	armPut(t, clients[a], a.URL()+"/subscriptions/"+sub+"/resourcegroups/rg?api-version=2021-04-01", `{"location":"eastus"}`)
	armPut(t, clients[a], a.URL()+vm+v, `{"location":"eastus","properties":{
		"hardwareProfile":{"vmSize":"Standard_D2s_v3"},
		"storageProfile":{"imageReference":{"publisher":"Canonical","offer":"ubuntu-24_04-lts","sku":"server","version":"latest"}},
		"osProfile":{"computerName":"vm1","adminUsername":"azureuser","adminPassword":"Passw0rd!secret"},
		"networkProfile":{"networkInterfaces":[{"id":"/subscriptions/`+sub+`/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/vm1-nic"}]}}}`)

	// Read through b right after a acknowledged the create.
	code, gotB, body := do(b, http.MethodGet, vm+v, "")
	if code != http.StatusOK {
		t.Fatalf("GET through b of the VM a created: HTTP %d %s", code, body)
	}
	_, gotA, _ := do(a, http.MethodGet, vm+v, "")
	if gotA["etag"] != gotB["etag"] || gotA["etag"] == nil {
		t.Fatalf("etag through a %v, through b %v", gotA["etag"], gotB["etag"])
	}
	// b refuses a powerOff of the VM still being created, as a would.
	code, answer, body := do(b, http.MethodPost, vm+"/powerOff"+v, "")
	if e, _ := answer["error"].(map[string]any); code != http.StatusConflict || e["code"] != "OperationNotAllowed" {
		t.Fatalf("powerOff through b of a creating VM: HTTP %d %s", code, body)
	}
	// The clock advanced through b fires a's plan, once, and moves a's clock.
	if _, err := b.Engine().Do(ctx, engine.AdvanceClock{By: 5 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	_, view, _ := do(a, http.MethodGet, vm+"/instanceView"+v, "")
	if fmt.Sprint(view["statuses"]) == "" || !strings.Contains(fmt.Sprint(view["statuses"]), "PowerState/running") {
		t.Fatalf("instance view through a after b advanced the clock: %v", view["statuses"])
	}
	if !a.Engine().Now().Equal(b.Engine().Now()) {
		t.Fatalf("a's clock %s, b's %s", a.Engine().Now(), b.Engine().Now())
	}
	// powerOff through a, then deallocate through b: the deallocate
	// preempts the powerOff, as on one server.
	if code, _, body := do(a, http.MethodPost, vm+"/powerOff"+v, ""); code != http.StatusAccepted {
		t.Fatalf("powerOff through a: HTTP %d %s", code, body)
	}
	if code, _, body := do(b, http.MethodPost, vm+"/deallocate"+v, ""); code != http.StatusAccepted {
		t.Fatalf("deallocate through b: HTTP %d %s", code, body)
	}
	if _, err := a.Engine().Do(ctx, engine.AdvanceClock{By: 5 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	_, view, _ = do(b, http.MethodGet, vm+"/instanceView"+v, "")
	if !strings.Contains(fmt.Sprint(view["statuses"]), "PowerState/deallocated") {
		t.Fatalf("instance view through b: %v", view["statuses"])
	}
	var kinds []string
	err := b.Engine().History(ctx, vm, time.Time{}, b.Engine().Now().Add(time.Second), func(ev store.Event) error {
		kinds = append(kinds, ev.OperationKind+":"+ev.ProvisioningCode+":"+ev.PowerState)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Each step once, the powerOff cut short by the deallocate.
	want := "[create:ProvisioningState/creating: create:ProvisioningState/creating:starting " +
		"create:ProvisioningState/creating/osProvisioningInProgress:running create:ProvisioningState/creating/osProvisioningComplete:running " +
		"create:ProvisioningState/succeeded:running powerOff:ProvisioningState/updating:stopping " +
		"deallocate:ProvisioningState/updating:deallocating deallocate:ProvisioningState/succeeded:deallocated]"
	if fmt.Sprint(kinds) != want {
		t.Errorf("history %v\nwant    %s", kinds, want)
	}

	// Faults registered through one hold for the other.
	if _, err := a.Engine().Do(ctx, engine.AddFault{Fault: engine.Fault{Kind: "throttle", Operation: "*"}}); err != nil {
		t.Fatal(err)
	}
	if err := b.Engine().Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := b.Engine().Faults(); len(got) != 1 || got[0].Kind != "throttle" {
		t.Fatalf("faults through b: %+v", got)
	}
}
