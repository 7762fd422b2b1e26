package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/server"
	"github.com/azemu/azemu/internal/store"
	"github.com/azemu/azemu/internal/store/sqlite"
)

func TestParseSeed(t *testing.T) {
	c, err := parseSeed([]string{"--vms", "25", "--data-dir", "/d", "--seed", "9", "--clock-start", "2026-03-01T00:00:00Z"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.vms != 25 || c.store != "/d/azemu.db" || c.seed != 9 || !c.clockStart.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) ||
		c.concurrency != 64 || c.batch != 5000 || c.groupSize != 1000 {
		t.Fatalf("config = %+v", c)
	}
	for _, bad := range [][]string{
		{"--vms", "0"}, {"--vms", "x"}, {"--concurrency", "-1"}, {"--batch", "0"}, {"--group-size", "0"}, {"--group-size", "65532"},
		{"--seed", "0"}, {"--clock-start", "yesterday"}, {"--subscription", "not-a-guid"}, {"extra"},
	} {
		if _, err := parseSeed(bad, io.Discard); err == nil {
			t.Errorf("parseSeed(%q) took it", bad)
		}
	}
}

func TestSeedStartEndsBeforeNow(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	c := seedConfig{vms: 12001, batch: 5000}
	start := seedStart(now, c)
	// Three batches, each advancing the clock by the two waits.
	if end := start.Add(3 * (seedCreateWait + seedActionWait)); end.After(now) {
		t.Fatalf("a seed from %s ends at %s, after now (%s)", start, end, now)
	}
}

func TestSeedMixRepeatsAndVaries(t *testing.T) {
	a, b := seedVMAt(5, 1234, 100), seedVMAt(5, 1234, 100)
	if a != b {
		t.Fatalf("the same VM of the same seed differs: %+v, %+v", a, b)
	}
	if a.group != "seed-rg-00012" || a.name != "seed-vm-0001234" {
		t.Fatalf("names = %s, %s", a.group, a.name)
	}
	seen := map[string]bool{}
	for i := range 2000 {
		v := seedVMAt(5, i, 100)
		seen["power "+v.power], seen["size "+v.size], seen["region "+v.region] = true, true, true
		seen["windows "+map[bool]string{true: "yes", false: "no"}[v.windows]] = true
		if w := seedVMAt(5, i-i%100, 100); w.region != v.region {
			t.Fatalf("VM %d is in %s, its group's first VM in %s", i, v.region, w.region)
		}
	}
	for _, want := range []string{"power running", "power stopped", "power deallocated", "windows yes", "windows no",
		"size Standard_B2s", "size Standard_F4s_v2", "region eastus", "region australiaeast"} {
		if !seen[want] {
			t.Errorf("2,000 VMs of a seed have no %s", want)
		}
	}
}

// seedServer starts a server on dir, as serve would on a seeded data dir.
func seedServer(t *testing.T, dir string, start time.Time, seed uint64) (*server.Server, *http.Client) {
	t.Helper()
	return seedServerLogging(t, dir, start, seed, nil)
}

// seedServerLogging is seedServer, logging to log (nil: nowhere).
func seedServerLogging(t *testing.T, dir string, start time.Time, seed uint64, log *slog.Logger) (*server.Server, *http.Client) {
	t.Helper()
	srv, err := server.Start(context.Background(), server.Config{Listen: "127.0.0.1:0", DataDir: dir, ManualStart: start, Seed: seed, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	tc, err := srv.TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	return srv, &http.Client{Transport: &http.Transport{TLSClientConfig: tc}, Timeout: time.Minute}
}

func stop(t *testing.T, srv *server.Server) {
	t.Helper()
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// httpsSender sends a seed's requests to a server over HTTPS, as a client would.
func httpsSender(base string, client *http.Client) seedSender {
	return func(ctx context.Context, r seedRequest) (int, []byte, error) {
		req, err := http.NewRequestWithContext(ctx, r.method, base+r.path, bytes.NewReader(r.body))
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("Authorization", "Bearer seed")
		if r.body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return resp.StatusCode, body, err
	}
}

// get reads one answer, failing the test on anything but 200.
func get(t *testing.T, client *http.Client, url string) []byte {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer reader")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	return body
}

// listAll reads every page of the subscription's VMs.
func listAll(t *testing.T, client *http.Client, base, query string) []map[string]any {
	t.Helper()
	var all []map[string]any
	next := base + "/subscriptions/" + testSeedSub + "/providers/Microsoft.Compute/virtualMachines?api-version=" + seedAPIVersion + query
	for next != "" {
		var page struct {
			Value    []map[string]any `json:"value"`
			NextLink string           `json:"nextLink"`
		}
		if err := json.Unmarshal(get(t, client, next), &page); err != nil {
			t.Fatal(err)
		}
		all = append(all, page.Value...)
		next = page.NextLink
	}
	return all
}

const testSeedSub = "00000000-0000-0000-0000-0000000005ed"

var testSeedStart = time.Date(2026, 2, 1, 8, 0, 0, 0, time.UTC)

// TestSeededFleetIsServedLikeOneCreatedOverHTTPS seeds a fleet in this
// process, sends the same requests to another server over HTTPS, and
// serves both data dirs afresh: each VM, its history, the listing and the
// bill are the same, byte for byte.
func TestSeededFleetIsServedLikeOneCreatedOverHTTPS(t *testing.T) {
	t.Parallel()
	cfg := seedConfig{vms: 30, subscription: testSeedSub, concurrency: 1, batch: 12, groupSize: 8, seed: 42, clockStart: testSeedStart}
	seeded, overHTTPS := t.TempDir(), t.TempDir()
	cfg.dataDir, cfg.store = seeded, seeded+"/azemu.db"
	sum, err := runSeed(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.VMs != 30 || sum.Groups != 4 || sum.ByPower["running"]+sum.ByPower["stopped"]+sum.ByPower["deallocated"] != 30 {
		t.Fatalf("summary = %+v", sum)
	}
	srv, client := seedServer(t, overHTTPS, testSeedStart, cfg.seed)
	want, err := seedFleet(context.Background(), cfg, 0, httpsSender(srv.URL(), client), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	stop(t, srv)
	if want.VMs != sum.VMs || want.Windows != sum.Windows {
		t.Fatalf("the HTTPS run made %+v, the seed %+v", want, sum)
	}

	reads := func(dir string) map[string][]byte {
		srv, client := seedServer(t, dir, testSeedStart, 0)
		defer stop(t, srv)
		base := srv.URL()
		out := map[string][]byte{}
		all, _ := json.Marshal(listAll(t, client, base, ""))
		out["listAll"] = all
		status, _ := json.Marshal(listAll(t, client, base, "&statusOnly=true"))
		out["statusOnly"] = status
		v := seedVMAt(cfg.seed, 17, cfg.groupSize)
		out["get"] = get(t, client, base+v.path(testSeedSub)+"?api-version="+seedAPIVersion+"&$expand=instanceView")
		out["history"] = get(t, client, base+"/_azemu/vms"+v.path(testSeedSub)+"/history")
		out["nic"] = get(t, client, base+v.nicPath(testSeedSub)+"?api-version="+seedNetworkAPIVersion)
		out["bill"] = get(t, client, base+"/_azemu/billing/usage?to=2026-02-02T00:00:00Z")
		out["clock"] = get(t, client, base+"/_azemu/clock")
		return out
	}
	got, exp := reads(seeded), reads(overHTTPS)
	for k := range exp {
		if !bytes.Equal(got[k], exp[k]) {
			t.Errorf("%s of the seeded fleet differs from the fleet created over HTTPS:\nseeded: %.600s\nHTTPS:  %.600s", k, got[k], exp[k])
		}
	}

	// Each VM's interface is a resource of its own, on its group's
	// subnet, linked to the VM: what az vm list -d reads.
	var nic struct {
		Properties struct {
			VirtualMachine struct {
				ID string `json:"id"`
			} `json:"virtualMachine"`
			IPConfigurations []struct {
				Properties struct {
					PrivateIPAddress string `json:"privateIPAddress"`
					Subnet           struct {
						ID string `json:"id"`
					} `json:"subnet"`
				} `json:"properties"`
			} `json:"ipConfigurations"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(got["nic"], &nic); err != nil {
		t.Fatal(err)
	}
	v17 := seedVMAt(cfg.seed, 17, cfg.groupSize)
	if p := nic.Properties; !strings.EqualFold(p.VirtualMachine.ID, v17.path(testSeedSub)) || len(p.IPConfigurations) != 1 ||
		!strings.HasPrefix(p.IPConfigurations[0].Properties.PrivateIPAddress, "10.0.") ||
		!strings.EqualFold(p.IPConfigurations[0].Properties.Subnet.ID, seedVNetPath(testSeedSub, v17.group)+"/subnets/"+seedSubnet) {
		t.Errorf("the interface of %s: %s", v17.name, got["nic"])
	}

	// And what both serve is the fleet the seed meant.
	var vms []map[string]any
	if err := json.Unmarshal(got["statusOnly"], &vms); err != nil {
		t.Fatal(err)
	}
	if len(vms) != 30 {
		t.Fatalf("listAll has %d VMs, want 30", len(vms))
	}
	for i, vm := range vms {
		want := seedVMAt(cfg.seed, i, cfg.groupSize)
		if vm["name"] != want.name || powerOf(vm) != "PowerState/"+want.power {
			t.Errorf("VM %d is %v in %v, want %s in PowerState/%s", i, vm["name"], powerOf(vm), want.name, want.power)
		}
	}
	if !strings.Contains(string(got["history"]), "PowerState/running") && !strings.Contains(string(got["history"]), `"running"`) {
		t.Errorf("the history of a seeded VM shows no running: %s", got["history"])
	}
	var bill struct {
		Value []struct {
			ResourceID string  `json:"resourceId"`
			Cost       *string `json:"cost"`
		} `json:"value"`
	}
	if err := json.Unmarshal(got["bill"], &bill); err != nil {
		t.Fatal(err)
	}
	billed := map[string]bool{}
	for _, l := range bill.Value {
		billed[strings.ToLower(l.ResourceID)] = true
	}
	for i := range 30 {
		if id := strings.ToLower(seedVMAt(cfg.seed, i, cfg.groupSize).path(testSeedSub)); !billed[id] {
			t.Errorf("the bill has no line for %s", id)
		}
	}
}

func powerOf(vm map[string]any) string {
	props, _ := vm["properties"].(map[string]any)
	iv, _ := props["instanceView"].(map[string]any)
	statuses, _ := iv["statuses"].([]any)
	for _, s := range statuses {
		code, _ := s.(map[string]any)["code"].(string)
		if strings.HasPrefix(code, "PowerState/") {
			return code
		}
	}
	return ""
}

// TestSeedManyAtOnce seeds with many requests in flight and a second seed
// on top: every VM ends in its power state, no operation is left running,
// and the second seed numbers on after the first.
func TestSeedManyAtOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := seedConfig{vms: 40, dataDir: dir, store: dir + "/azemu.db", subscription: testSeedSub, concurrency: 16, batch: 15, groupSize: 10,
		seed: 3, clockStart: testSeedStart}
	var progress bytes.Buffer
	if _, err := runSeed(context.Background(), cfg, &progress); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(progress.String(), "seeded 40/40 VMs") {
		t.Errorf("progress = %q", progress.String())
	}
	cfg.vms = 5
	if _, err := runSeed(context.Background(), cfg, nil); err != nil {
		t.Fatal(err)
	}
	srv, client := seedServer(t, dir, testSeedStart, 0)
	defer stop(t, srv)
	vms := listAll(t, client, srv.URL(), "&statusOnly=true")
	if len(vms) != 45 {
		t.Fatalf("%d VMs, want 45", len(vms))
	}
	for i, vm := range vms {
		want := seedVMAt(cfg.seed, i, cfg.groupSize)
		if vm["name"] != want.name || powerOf(vm) != "PowerState/"+want.power {
			t.Errorf("VM %d is %v in %v, want %s in PowerState/%s", i, vm["name"], powerOf(vm), want.name, want.power)
		}
	}
	var health struct {
		Fleet struct {
			OperationsInProgress int `json:"operationsInProgress"`
		} `json:"fleet"`
	}
	if err := json.Unmarshal(get(t, client, srv.URL()+"/_azemu/health"), &health); err != nil {
		t.Fatal(err)
	}
	if health.Fleet.OperationsInProgress != 0 {
		t.Errorf("%d operations still in progress after the seed", health.Fleet.OperationsInProgress)
	}
}

// cancelAt cancels a seed once its progress reports a line with this text.
type cancelAt struct {
	text   string
	cancel context.CancelFunc
}

func (c cancelAt) Write(p []byte) (int, error) {
	if strings.Contains(string(p), c.text) {
		c.cancel()
	}
	return len(p), nil
}

// TestSeedSavesTheRunningAccounts: a seed ends with the fleet's running
// accounts saved, so that the first serve after it starts its dashboard's
// ledger from them rather than from the history the seed wrote, and shows
// exactly the costs a serve that reads the whole history shows: after a
// seed, one interrupted, and seeds onto a fleet that was served (which
// saved accounts of its own) and changed since it was seeded.
func TestSeedSavesTheRunningAccounts(t *testing.T) {
	t.Parallel()
	const readsHistory = "reading the whole history"
	for _, tt := range []struct {
		name  string
		seeds []int // VMs of each seed, in turn
		// served: the fleet is served and changed between the seeds.
		served bool
		// interrupt: the last seed is interrupted once it reports this.
		interrupt string
		want      int // VMs at the end
	}{
		{name: "a seed", seeds: []int{30}, want: 30},
		{name: "an interrupted seed", seeds: []int{30}, interrupt: "seeded 12/30", want: 12},
		{name: "a seed onto a served fleet", seeds: []int{20, 15}, served: true, want: 35},
		{name: "an interrupted seed onto a served fleet", seeds: []int{20, 15}, served: true, interrupt: "seeded 12/15", want: 32},
		{name: "a seed onto a seeded fleet", seeds: []int{20, 15}, want: 35},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			cfg := seedConfig{dataDir: dir, store: dir + "/azemu.db", subscription: testSeedSub, concurrency: 4, batch: 12, groupSize: 8,
				seed: 7, clockStart: testSeedStart}
			// serve serves a data dir as azemu serve does, logging to
			// a file of the data dir.
			serve := func(dir string) (*server.Server, *http.Client) {
				log, err := os.OpenFile(dir+"/serve.log", os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { log.Close() })
				return seedServerLogging(t, dir, testSeedStart, 0, slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelInfo})))
			}
			for i, n := range tt.seeds {
				cfg.vms = n
				ctx, cancel := context.WithCancel(context.Background())
				var progress io.Writer
				last := i == len(tt.seeds)-1
				if last && tt.interrupt != "" {
					progress = cancelAt{tt.interrupt, cancel}
				}
				_, err := runSeed(ctx, cfg, progress)
				cancel()
				if interrupted := last && tt.interrupt != ""; interrupted != (err != nil) {
					t.Fatalf("seed %d: %v", i+1, err)
				}
				if !tt.served || last {
					continue
				}
				srv, client := serve(dir)
				base := srv.URL()
				v := seedVMAt(cfg.seed, 0, cfg.groupSize)
				for _, r := range []seedRequest{
					{http.MethodPost, v.path(testSeedSub) + "/restart?api-version=" + seedAPIVersion, nil},
					{http.MethodPost, "/_azemu/clock/advance", []byte(`{"duration":"7m13s"}`)},
					{http.MethodPost, v.path(testSeedSub) + "/deallocate?api-version=" + seedAPIVersion, nil},
					{http.MethodPost, "/_azemu/clock/advance", []byte(`{"duration":"1h2m"}`)},
				} {
					if code, body, err := httpsSender(base, client)(context.Background(), r); err != nil || code >= 300 {
						t.Fatalf("%s %s: %d %s %v", r.method, r.path, code, body, err)
					}
				}
				get(t, client, base+"/_dashboard/api/vms") // the ledger is ready, and saved at shutdown
				stop(t, srv)
			}

			// A copy without the saved accounts: its serve reads the
			// whole history.
			replay := t.TempDir()
			db, err := os.ReadFile(cfg.store)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(replay+"/azemu.db", db, 0o600); err != nil {
				t.Fatal(err)
			}
			st, err := sqlite.Open(replay + "/azemu.db")
			if err != nil {
				t.Fatal(err)
			}
			parts := 0
			if err := st.Accounts(context.Background(), func([]byte) error { parts++; return nil }); err != nil || parts < 2 {
				t.Fatalf("the seeded store holds %d parts of saved accounts (%v), want a header and accounts", parts, err)
			}
			if err := st.SaveAccounts(context.Background(), store.AccountsSave{}); err != nil {
				t.Fatal(err)
			}
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}

			// costs serves a data dir for the dashboard's costs, and
			// says what the serve logged.
			costs := func(dir string) (string, string) {
				os.Remove(dir + "/serve.log") // the last serve's
				srv, client := serve(dir)
				body := get(t, client, srv.URL()+"/_dashboard/api/vms?limit=500")
				stop(t, srv)
				log, err := os.ReadFile(dir + "/serve.log")
				if err != nil {
					t.Fatal(err)
				}
				return string(body), string(log)
			}
			got, log := costs(dir)
			if strings.Contains(log, readsHistory) {
				t.Errorf("the serve after the seed read the whole history:\n%s", log)
			}
			want, replayLog := costs(replay)
			if !strings.Contains(replayLog, readsHistory) {
				t.Fatalf("the serve of the copy without saved accounts did not read the whole history:\n%s", replayLog)
			}
			if got != want {
				t.Errorf("after the seed the dashboard shows\n%s\nwant what the whole history gives\n%s", got, want)
			}
			var page struct {
				Total int `json:"total"`
				Rows  []struct {
					DisksCost json.RawMessage `json:"disksCost"`
				} `json:"rows"`
			}
			if err := json.Unmarshal([]byte(got), &page); err != nil {
				t.Fatal(err)
			}
			if page.Total != tt.want || len(page.Rows) != tt.want {
				t.Fatalf("the dashboard shows %d VMs (%d rows), want %d", page.Total, len(page.Rows), tt.want)
			}
			for i, r := range page.Rows {
				if s := strings.Trim(string(r.DisksCost), `"`); s == "" || s == "0" || s == "null" {
					t.Errorf("VM %d's disks cost %s: nothing to compare", i, r.DisksCost)
				}
			}
		})
	}
}
