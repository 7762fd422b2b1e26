package e2e

import (
	"bufio"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A seed killed part way (it writes without syncing until it ends) leaves
// a data dir that serves: every batch it reported is there, and every VM
// it began, finished or not, runs its course once the clock moves.
func TestKilledSeedLeavesAConsistentDataDir(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(azemuBin, "seed", "--data-dir", dir, "--vms", "3000", "--batch", "100", "--group-size", "100",
		"--concurrency", "16", "--seed", "5", "--clock-start", "2026-01-01T00:00:00Z")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	reached := false
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		log.WriteString(sc.Text() + "\n")
		if strings.HasPrefix(sc.Text(), "seeded 300/3000 VMs") {
			reached = true
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	cmd.Wait()
	if !reached {
		t.Fatalf("the seed ended before its third batch:\n%s", log.String())
	}

	srv := startServer(t, dir)
	list := func() map[string][]string {
		statuses := map[string][]string{}
		next := "/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Compute/virtualMachines?api-version=2025-04-01&statusOnly=true"
		for next != "" {
			var page struct {
				Value []struct {
					Name       string `json:"name"`
					Properties struct {
						InstanceView struct {
							Statuses []struct {
								Code string `json:"code"`
							} `json:"statuses"`
						} `json:"instanceView"`
					} `json:"properties"`
				} `json:"value"`
				NextLink string `json:"nextLink"`
			}
			if code := srv.do(http.MethodGet, next, nil, &page); code != http.StatusOK {
				t.Fatalf("list: HTTP %d", code)
			}
			for _, vm := range page.Value {
				for _, s := range vm.Properties.InstanceView.Statuses {
					statuses[vm.Name] = append(statuses[vm.Name], s.Code)
				}
			}
			next = strings.TrimPrefix(page.NextLink, srv.base)
		}
		return statuses
	}
	if n := len(list()); n < 300 {
		t.Fatalf("%d VMs after a seed that reported 300", n)
	}
	srv.advance(10 * time.Minute)
	vms := list()
	for i := range 300 {
		name := fmt.Sprintf("seed-vm-%07d", i)
		if _, ok := vms[name]; !ok {
			t.Errorf("%s, of a batch the seed reported, is missing", name)
		}
	}
	for name, codes := range vms {
		joined := joinCodes(codes)
		if !strings.Contains(joined, "ProvisioningState/succeeded") || !strings.Contains(joined, "PowerState/") {
			t.Errorf("%s is %s ten minutes after the seed was killed, want it provisioned with a power state", name, joined)
		}
	}
}
