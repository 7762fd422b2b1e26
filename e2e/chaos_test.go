package e2e

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// chaosKills is how many times TestChaos SIGKILLs the server. CI runs a
// few; a long run is `go test -run Chaos -chaos.kills=1000 ./e2e`.
var chaosKills = flag.Int("chaos.kills", 3, "SIGKILLs of the chaos test")

const chaosRG = "rg-chaos"

// chaosVMBody is a VM body for the chaos test's group.
func chaosVMBody(name string) map[string]any {
	return map[string]any{"location": "westeurope", "properties": map[string]any{
		"hardwareProfile": map[string]any{"vmSize": "Standard_D2s_v3"},
		"storageProfile": map[string]any{"imageReference": map[string]any{
			"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"}},
		"osProfile": map[string]any{"computerName": name, "adminUsername": "azureuser", "adminPassword": "Chaos-Passw0rd"},
		"networkProfile": map[string]any{"networkInterfaces": []any{map[string]any{
			"id": "/subscriptions/" + subscriptionID + "/resourceGroups/" + chaosRG + "/providers/Microsoft.Network/networkInterfaces/" + name}}},
	}}
}

// chaosState is what the churn had acknowledged, per resource path: true
// must exist after settling, false must be gone; absent: unknown (a request
// in flight when the server died).
type chaosState struct {
	mu       sync.Mutex
	exists   map[string]bool
	ops      map[string]bool // Azure-AsyncOperation URLs acknowledged
	requests int
	acked    int
}

func (c *chaosState) set(path string, exists bool) {
	c.mu.Lock()
	c.exists[path] = exists
	c.mu.Unlock()
}

func (c *chaosState) forget(path string) {
	c.mu.Lock()
	delete(c.exists, path)
	c.mu.Unlock()
}

// try sends one request; err is a transport error (the server died).
func (s *server) try(method, path string, body any) (int, http.Header, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.base+path, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer chaos")
	req.Header.Set("Content-Type", "application/json")
	res, err := s.http.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, data, err
}

// churn runs one worker's random changes on the resources it alone owns,
// until the server dies or stop closes.
func churn(s *server, worker int, rng *rand.Rand, st *chaosState, stop <-chan struct{}) {
	group := "/subscriptions/" + subscriptionID + "/resourceGroups/" + chaosRG
	vmPath := func(i int) string {
		return group + fmt.Sprintf("/providers/Microsoft.Compute/virtualMachines/w%d-vm%d", worker, i)
	}
	setPath := group + fmt.Sprintf("/providers/Microsoft.Compute/virtualMachineScaleSets/w%d-set", worker)
	const api = "?api-version=2025-04-01"
	for {
		select {
		case <-stop:
			return
		default:
		}
		vm := vmPath(rng.IntN(3))
		var (
			method, path string
			body         any
			onAck        func(code int)
			target       = vm
		)
		switch op := rng.IntN(10); {
		case op < 3:
			method, path, body = http.MethodPut, vm+api, chaosVMBody(vm[strings.LastIndex(vm, "/")+1:])
			onAck = func(code int) {
				if code == http.StatusOK || code == http.StatusCreated {
					st.set(vm, true)
				}
			}
		case op < 5:
			action := []string{"start", "powerOff", "deallocate", "restart"}[rng.IntN(4)]
			method, path = http.MethodPost, vm+"/"+action+api
		case op < 6:
			method, path = http.MethodDelete, vm+api
			onAck = func(code int) {
				if code == http.StatusAccepted || code == http.StatusOK || code == http.StatusNoContent {
					st.set(vm, false)
				}
			}
		case op < 7:
			// An extension put while its VM is created holds the create's
			// last step until it is installed, at an instant the history
			// does not show; the schedule check needs every plan's steps
			// from the history alone, so installs go to VMs not creating.
			code, _, vmBody, err := s.try(http.MethodGet, vm+api, nil)
			if err != nil {
				return
			}
			var got struct {
				Properties struct {
					ProvisioningState string `json:"provisioningState"`
				} `json:"properties"`
			}
			if json.Unmarshal(vmBody, &got); code == http.StatusOK && got.Properties.ProvisioningState == "Creating" {
				continue
			}
			ext := vm + "/extensions/cs"
			target = ext
			method, path = http.MethodPut, ext+api
			body = map[string]any{"location": "westeurope", "properties": map[string]any{
				"publisher": "Microsoft.Azure.Extensions", "type": "CustomScript", "typeHandlerVersion": "2.1",
				"settings": map[string]any{"commandToExecute": "true"}}}
		case op < 8:
			target = setPath
			capacity := rng.IntN(4)
			method, path = http.MethodPut, setPath+api
			body = map[string]any{"location": "westeurope", "sku": map[string]any{"name": "Standard_D2s_v3", "capacity": capacity},
				"properties": map[string]any{"orchestrationMode": "Uniform", "virtualMachineProfile": map[string]any{
					"storageProfile": map[string]any{"imageReference": map[string]any{
						"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"}},
					"osProfile": map[string]any{"computerNamePrefix": fmt.Sprintf("w%d", worker), "adminUsername": "azureuser", "adminPassword": "Chaos-Passw0rd"},
					"networkProfile": map[string]any{"networkInterfaceConfigurations": []any{map[string]any{
						"name": "nic", "properties": map[string]any{"primary": true}}}}}}}
			onAck = func(code int) {
				if code == http.StatusOK || code == http.StatusCreated {
					st.set(setPath, true)
				}
			}
		case op < 9:
			target = setPath
			method, path = http.MethodPost, setPath+"/"+[]string{"deallocate", "start", "powerOff"}[rng.IntN(3)]+api
		default:
			target = ""
			method, path, body = http.MethodPost, "/_azemu/clock/advance", map[string]string{"duration": fmt.Sprintf("%ds", 1+rng.IntN(90))}
		}
		if target != "" && (method == http.MethodPut || method == http.MethodDelete) {
			// Until it is answered, what it did is unknown.
			st.forget(target)
		}
		st.mu.Lock()
		st.requests++
		st.mu.Unlock()
		code, hdr, _, err := s.try(method, path, body)
		if err != nil {
			return // the server died mid-request: target stays unknown
		}
		st.mu.Lock()
		st.acked++
		if op := hdr.Get("Azure-AsyncOperation"); op != "" && code < 300 {
			st.ops[op] = true
		}
		st.mu.Unlock()
		if onAck != nil {
			onAck(code)
		}
	}
}

// The crash-and-chaos suite: concurrent churn (creates, power actions,
// scale-set changes and batches, deletes, extension installs, clock
// advances) with a SIGKILL at a random moment, again and again. After each
// restart, once the clock has moved past every plan: nothing acknowledged
// is lost, every history is ordered with no step twice, every step of each
// plan fired at its due time, no operation stays InProgress, and every
// bill window measured before is unchanged.
func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d, %d kills", seed, *chaosKills)
	rng := rand.New(rand.NewPCG(seed, 1))
	dir := t.TempDir()
	st := &chaosState{exists: map[string]bool{}, ops: map[string]bool{}}
	type window struct {
		to   string
		bill []byte
	}
	var windows []window
	const from = "2026-01-01T00:00:00Z"
	srv := startServer(t, dir)
	if code := srv.do(http.MethodPut, "/subscriptions/"+subscriptionID+"/resourcegroups/"+chaosRG+"?api-version=2021-04-01",
		map[string]any{"location": "westeurope"}, nil); code != http.StatusCreated {
		t.Fatalf("group: HTTP %d", code)
	}
	started := time.Now()
	for kill := 1; kill <= *chaosKills; kill++ {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := range 3 {
			wrng := rand.New(rand.NewPCG(rng.Uint64(), uint64(w)))
			wg.Go(func() { churn(srv, w, wrng, st, stop) })
		}
		time.Sleep(time.Duration(50+rng.IntN(400)) * time.Millisecond) // the random moment of the kill
		srv.kill()
		close(stop)
		wg.Wait()

		srv = startServer(t, dir)
		// Past every plan: each running operation ends, on schedule.
		now := srv.advance(3 * time.Hour)
		checkChaos(t, srv, st)
		for _, w := range windows {
			var got []byte
			code, _, got, err := srv.try(http.MethodGet, "/_azemu/billing/usage?granularity=second&from="+from+"&to="+w.to, nil)
			if err != nil || code != http.StatusOK {
				t.Fatalf("bill to %s: HTTP %d %v", w.to, code, err)
			}
			if !bytes.Equal(got, w.bill) {
				t.Fatalf("after kill %d the bill of the past window to %s changed:\nbefore %s\nafter  %s", kill, w.to, w.bill, got)
			}
		}
		to := now.UTC().Format(time.RFC3339)
		code, _, bill, err := srv.try(http.MethodGet, "/_azemu/billing/usage?granularity=second&from="+from+"&to="+to, nil)
		if err != nil || code != http.StatusOK {
			t.Fatalf("bill to %s: HTTP %d %v", to, code, err)
		}
		windows = append(windows, window{to, bill})
		if t.Failed() {
			return
		}
	}
	t.Logf("%d kills in %v: %d requests sent, %d answered, %d operations and %d bill windows checked after every restart",
		*chaosKills, time.Since(started).Round(time.Second), st.requests, st.acked, len(st.ops), len(windows))
}

// checkChaos checks a settled server against what was acknowledged.
func checkChaos(t *testing.T, s *server, st *chaosState) {
	t.Helper()
	st.mu.Lock()
	defer st.mu.Unlock()
	for path, exists := range st.exists {
		code, _, body, err := s.try(http.MethodGet, path+"?api-version=2025-04-01", nil)
		if err != nil {
			t.Fatal(err)
		}
		if exists && code != http.StatusOK {
			t.Errorf("acknowledged %s is lost: HTTP %d %s", path, code, body)
		}
		if !exists && code != http.StatusNotFound {
			t.Errorf("%s, whose delete was acknowledged, is still there: HTTP %d", path, code)
		}
		if strings.Contains(path, "virtualMachines/") {
			checkHistory(t, s, path)
		}
	}
	for op := range st.ops {
		u, err := url.Parse(op) // of an earlier run: another port
		if err != nil {
			t.Fatal(err)
		}
		code, _, body, err := s.try(http.MethodGet, u.RequestURI(), nil)
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			Status string `json:"status"`
		}
		json.Unmarshal(body, &out)
		if code != http.StatusOK || out.Status == "" || out.Status == "InProgress" {
			t.Errorf("acknowledged operation %s after settling: HTTP %d %s", op, code, body)
		}
	}
	var health struct {
		Fleet struct {
			OperationsInProgress int `json:"operationsInProgress"`
		} `json:"fleet"`
	}
	if code := s.do(http.MethodGet, "/_azemu/health", nil, &health); code != http.StatusOK || health.Fleet.OperationsInProgress != 0 {
		t.Errorf("after settling: HTTP %d, %d operations in progress", code, health.Fleet.OperationsInProgress)
	}
}

// checkHistory requires a VM's history in order, with no step twice, and
// each of its plans on schedule (schedule_test.go).
func checkHistory(t *testing.T, s *server, vmPath string) {
	t.Helper()
	var out struct {
		Value []historyEvent `json:"value"`
	}
	code, _, body, err := s.try(http.MethodGet, "/_azemu/vms"+vmPath+"/history", nil)
	if err != nil {
		t.Fatal(err)
	}
	if code == http.StatusNotFound {
		return // never created: a PUT refused or in flight
	}
	if err := json.Unmarshal(body, &out); err != nil || code != http.StatusOK {
		t.Fatalf("history of %s: HTTP %d %v", vmPath, code, err)
	}
	seen := map[string]bool{}
	for i, e := range out.Value {
		if i > 0 && (e.Seq <= out.Value[i-1].Seq || e.Time.Before(out.Value[i-1].Time)) {
			t.Errorf("history of %s out of order at %d: %+v after %+v", vmPath, i, e, out.Value[i-1])
		}
		key := fmt.Sprint(e.Time.UnixNano(), e.Code, e.PowerState, e.OperationID)
		if seen[key] {
			t.Errorf("history of %s has a step twice: %+v", vmPath, e)
		}
		seen[key] = true
	}
	if !sort.SliceIsSorted(out.Value, func(i, j int) bool { return out.Value[i].Seq < out.Value[j].Seq }) {
		t.Errorf("history of %s not sorted by seq", vmPath)
	}
	for _, p := range scheduleProblems(out.Value) {
		t.Errorf("history of %s: %s", vmPath, p)
	}
}
