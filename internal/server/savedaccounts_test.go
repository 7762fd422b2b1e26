package server_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/server"
	"github.com/azemu/azemu/internal/store/sqlite"
)

// syncBuffer is a log a server writes to from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// A clean shutdown saves the dashboard's running costs in the store, and
// the next start reads them and the changes after them rather than the
// whole history, and shows the same costs.
func TestShutdownSavesTheRunningCosts(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	start := func(log io.Writer) *server.Server {
		t.Helper()
		srv, err := server.Start(ctx, server.Config{DataDir: dir, Listen: "127.0.0.1:0",
			ManualStart: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
			Logger:      slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelInfo}))})
		if err != nil {
			t.Fatal(err)
		}
		return srv
	}
	costs := func(srv *server.Server) string {
		t.Helper()
		res, err := httpsClient(t, srv).Get(srv.URL() + "/_dashboard/api/vms")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"vm1"`) {
			t.Fatalf("GET vms: HTTP %d %s", res.StatusCode, body)
		}
		return string(body)
	}

	var firstLog syncBuffer
	srv := start(&firstLog)
	client := httpsClient(t, srv)
	vm := "/subscriptions/" + sub + "/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"
	armPut(t, client, srv.URL()+"/subscriptions/"+sub+"/resourcegroups/rg?api-version=2021-04-01", `{"location":"eastus"}`)
	armPut(t, client, srv.URL()+vm+"?api-version=2025-04-01", `{"location":"eastus","properties":{
		"hardwareProfile":{"vmSize":"Standard_D2s_v3"},
		"storageProfile":{"imageReference":{"publisher":"Canonical","offer":"ubuntu-24_04-lts","sku":"server","version":"latest"}},
		"osProfile":{"computerName":"vm1","adminUsername":"azureuser","adminPassword":"Passw0rd!secret"},
		"networkProfile":{"networkInterfaces":[{"id":"/subscriptions/`+sub+`/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/vm1-nic"}]}}}`)
	before := costs(srv)
	if !strings.Contains(firstLog.String(), "reading the whole history") {
		t.Errorf("a first start did not say that it read the whole history:\n%s", firstLog.String())
	}
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	st, err := sqlite.Open(filepath.Join(dir, "azemu.db"))
	if err != nil {
		t.Fatal(err)
	}
	parts := 0
	err = st.Accounts(ctx, func([]byte) error { parts++; return nil })
	st.Close()
	if err != nil || parts == 0 {
		t.Fatalf("after a shutdown the store holds %d parts of saved accounts (%v)", parts, err)
	}

	var secondLog syncBuffer
	srv = start(&secondLog)
	defer srv.Shutdown(ctx)
	if after := costs(srv); after != before {
		t.Errorf("after a restart the dashboard shows\n%s\nwant what it showed before\n%s", after, before)
	}
	if log := secondLog.String(); strings.Contains(log, "reading the whole history") {
		t.Errorf("a start after a clean shutdown read the whole history:\n%s", log)
	}
}

// A shutdown whose context has ended (the requests in flight spent it)
// still saves the running costs: the save has a budget of its own.
func TestShutdownSavesTheRunningCostsPastItsDeadline(t *testing.T) {
	dir := t.TempDir()
	var log syncBuffer
	srv, err := server.Start(context.Background(), server.Config{DataDir: dir, Listen: "127.0.0.1:0",
		ManualStart: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Logger:      slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	if err != nil {
		t.Fatal(err)
	}
	client := httpsClient(t, srv)
	armPut(t, client, srv.URL()+"/subscriptions/"+sub+"/resourcegroups/rg?api-version=2021-04-01", `{"location":"eastus"}`)
	armPut(t, client, srv.URL()+"/subscriptions/"+sub+"/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1?api-version=2025-04-01",
		`{"location":"eastus","properties":{"hardwareProfile":{"vmSize":"Standard_D2s_v3"},
		"storageProfile":{"imageReference":{"publisher":"Canonical","offer":"ubuntu-24_04-lts","sku":"server","version":"latest"}},
		"osProfile":{"computerName":"vm1","adminUsername":"azureuser","adminPassword":"Passw0rd!secret"},
		"networkProfile":{"networkInterfaces":[{"id":"/subscriptions/`+sub+`/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/vm1-nic"}]}}}`)
	res, err := client.Get(srv.URL() + "/_dashboard/api/vms")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()

	ended, cancel := context.WithCancel(context.Background())
	cancel()
	srv.Shutdown(ended)
	if strings.Contains(log.String(), "saving the running accounts") {
		t.Errorf("a shutdown past its deadline did not save the running costs:\n%s", log.String())
	}
	st, err := sqlite.Open(filepath.Join(dir, "azemu.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	parts := 0
	if err := st.Accounts(context.Background(), func([]byte) error { parts++; return nil }); err != nil || parts == 0 {
		t.Fatalf("after the shutdown the store holds %d parts of saved accounts (%v)", parts, err)
	}
}
