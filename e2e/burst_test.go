package e2e

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A SIGKILL in the middle of a burst of 10,000 concurrent changes, which
// group commit writes many to a transaction, loses none that was
// acknowledged: each power action answered 202 is, after a restart, an
// operation the server knows, and a group whose tags update was answered
// 200 shows those tags or the next ones (sent, unanswered, when the server
// died).
func TestKillDuringBurstLosesNothingAcknowledged(t *testing.T) {
	const (
		clients = 64
		burst   = 10000
		api     = "?api-version=2025-04-01"
	)
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 2))
	// The kill comes once this many changes are acknowledged: most of the
	// burst is then still to come, or in flight.
	killAt := int64(500 + rng.IntN(2000))
	t.Logf("seed %d: the kill comes after %d acknowledged changes", seed, killAt)

	dir := t.TempDir()
	srv := startServer(t, dir)
	group := func(c int) string {
		return "/subscriptions/" + subscriptionID + "/resourcegroups/rg-burst-" + fmt.Sprint(c)
	}
	vmPath := func(c int) string {
		return group(c) + "/providers/Microsoft.Compute/virtualMachines/vm" + fmt.Sprint(c)
	}
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			if code := srv.do(http.MethodPut, group(c)+"?api-version=2021-04-01", map[string]any{"location": "westeurope"}, nil); code != http.StatusCreated {
				t.Errorf("group %d: HTTP %d", c, code)
			}
			if c%2 == 0 {
				return
			}
			if code := srv.do(http.MethodPut, vmPath(c)+api, burstVMBody(c), nil); code != http.StatusCreated {
				t.Errorf("vm %d: HTTP %d", c, code)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	srv.advance(time.Hour) // every create ends

	// Even clients update their group's tags, odd ones cycle their VM's
	// power: each change acknowledged is noted before the next is sent.
	var acked, sent atomic.Int64
	tagged := make([]int, clients) // the last tags update acknowledged, by client
	ops := make([][]string, clients)
	dead := make(chan struct{})
	actions := []string{"powerOff", "start", "deallocate", "start"}
	for c := range clients {
		wg.Go(func() {
			for n := 1; sent.Add(1) <= burst; n++ {
				var method, path string
				var body any
				if c%2 == 0 {
					method, path = http.MethodPut, group(c)+"?api-version=2021-04-01"
					body = map[string]any{"location": "westeurope", "tags": map[string]string{"n": fmt.Sprint(n)}}
				} else {
					method, path = http.MethodPost, vmPath(c)+"/"+actions[n%len(actions)]+api
				}
				code, hdr, data, err := srv.try(method, path, body)
				if err != nil {
					return // the server died
				}
				switch {
				case c%2 == 0 && code == http.StatusOK:
					tagged[c] = n
				case c%2 == 1 && code == http.StatusAccepted:
					op := hdr.Get("Azure-AsyncOperation")
					if op == "" {
						t.Errorf("%s %s: 202 without Azure-AsyncOperation", method, path)
						return
					}
					ops[c] = append(ops[c], op)
				case c%2 == 1 && code == http.StatusConflict:
					continue // refused in the VM's state: no change
				default:
					select {
					case <-dead: // answered as the server went down
					default:
						t.Errorf("%s %s: HTTP %d %s", method, path, code, data)
					}
					return
				}
				if acked.Add(1) == killAt {
					close(dead)
					srv.kill()
				}
			}
		})
	}
	wg.Wait()
	select {
	case <-dead:
	default:
		t.Fatalf("the burst ended before the kill: %d changes acknowledged", acked.Load())
	}
	if t.Failed() {
		return
	}

	srv = startServer(t, dir)
	checked := 0
	for c := range clients {
		if c%2 == 0 {
			var got struct {
				Tags map[string]string `json:"tags"`
			}
			if code := srv.do(http.MethodGet, group(c)+"?api-version=2021-04-01", nil, &got); code != http.StatusOK {
				t.Fatalf("group %d after the restart: HTTP %d", c, code)
			}
			// The next update may have committed as the server died,
			// unanswered.
			if n := tagged[c]; n > 0 && got.Tags["n"] != fmt.Sprint(n) && got.Tags["n"] != fmt.Sprint(n+1) {
				t.Errorf("group %d: tags %v after the restart; update %d was acknowledged", c, got.Tags, n)
			}
			checked += min(tagged[c], 1)
			continue
		}
		for _, op := range ops[c] {
			u, err := url.Parse(op) // of the killed server: another port
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Status string `json:"status"`
			}
			if code := srv.do(http.MethodGet, u.RequestURI(), nil, &got); code != http.StatusOK || got.Status == "" {
				t.Errorf("acknowledged operation %s is lost: HTTP %d", op, code)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no acknowledged change to check")
	}
	t.Logf("%d changes acknowledged before the kill; %d operations and groups checked after the restart", acked.Load(), checked)
}

// burstVMBody is a VM of the burst test's client c.
func burstVMBody(c int) map[string]any {
	name := fmt.Sprintf("vm%d", c)
	return map[string]any{"location": "westeurope", "properties": map[string]any{
		"hardwareProfile": map[string]any{"vmSize": "Standard_D2s_v3"},
		"storageProfile": map[string]any{"imageReference": map[string]any{
			"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"}},
		"osProfile": map[string]any{"computerName": name, "adminUsername": "azureuser", "adminPassword": "Burst-Passw0rd"},
		"networkProfile": map[string]any{"networkInterfaces": []any{map[string]any{
			"id": "/subscriptions/" + subscriptionID + "/resourceGroups/rg-burst-" + fmt.Sprint(c) + "/providers/Microsoft.Network/networkInterfaces/" + name}}},
	}}
}
