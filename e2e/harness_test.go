// Package e2e drives a real azemu binary over HTTPS with the official Azure
// SDK for Go, as a user's automation would.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/azemu/azemu/internal/certs"
	"github.com/azemu/azemu/internal/pgtest"
)

var azemuBin string

func TestMain(m *testing.M) {
	touchSources()
	dir, err := os.MkdirTemp("", "azemu-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	azemuBin = filepath.Join(dir, "azemu")
	build := exec.Command("go", "build", "-race", "-o", azemuBin, "../cmd/azemu")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building azemu:", err)
		os.Exit(1)
	}
	code := pgtest.Main(m) // runs the tests, then stops a PostgreSQL cluster they started
	os.RemoveAll(dir)
	os.Exit(code)
}

// touchSources reads every Go source the binary is built from. The test
// cache keys a result on the files a test opens; without this, a change to
// the server would leave a cached e2e result standing.
func touchSources() {
	for _, root := range []string{"../cmd", "../internal", "../go.mod", "../go.sum"} {
		filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (strings.HasSuffix(path, ".go") || strings.HasSuffix(path, ".sql") ||
				strings.HasSuffix(path, ".json") || strings.HasPrefix(filepath.Base(path), "go.")) {
				os.ReadFile(path)
			}
			return nil
		})
	}
}

// server is one running azemu process.
type server struct {
	t       *testing.T
	cmd     *exec.Cmd
	dataDir string
	base    string
	http    *http.Client
	mu      sync.Mutex
	log     bytes.Buffer
	exited  chan error
}

var servingURL = regexp.MustCompile(`msg="azemu serving" url=(https://\S+)`)

// startServer runs `azemu serve` on a free loopback port with a manual
// clock, and waits for it to say where it listens.
func startServer(t *testing.T, dataDir string, extra ...string) *server {
	t.Helper()
	args := append([]string{"serve", "--data-dir", dataDir, "--listen", "127.0.0.1:0", "--clock", "manual"}, extra...)
	cmd := exec.Command(azemuBin, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, cmd: cmd, dataDir: dataDir, exited: make(chan error, 1)}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.log.WriteString(line + "\n")
			s.mu.Unlock()
			if m := servingURL.FindStringSubmatch(line); m != nil {
				urls <- m[1]
			}
		}
		s.exited <- cmd.Wait()
		close(urls)
	}()
	select {
	case u, ok := <-urls:
		if !ok {
			t.Fatalf("azemu exited before serving:\n%s", s.logText())
		}
		s.base = u
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("azemu did not start:\n%s", s.logText())
	}
	pool, err := certs.Pool(filepath.Join(dataDir, "tls", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	s.http = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			s.cmd.Process.Kill()
			<-s.exited
		}
		if t.Failed() {
			t.Logf("azemu log:\n%s", s.logText())
		}
	})
	return s
}

func (s *server) logText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

// kill ends the process with SIGKILL: no shutdown code runs.
func (s *server) kill() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		s.t.Fatal(err)
	}
	<-s.exited
}

// stop ends the process with SIGTERM and requires a clean exit.
func (s *server) stop() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatal(err)
	}
	if err := <-s.exited; err != nil {
		s.t.Fatalf("azemu exited with %v:\n%s", err, s.logText())
	}
}

// do sends a request to the emulator and decodes a JSON answer into out.
func (s *server) do(method, path string, body any, out any) int {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.base+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer e2e")
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.http.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			s.t.Fatalf("%s %s: %v in %s", method, path, err, data)
		}
	}
	return resp.StatusCode
}

// advance moves the manual clock and returns the new time.
func (s *server) advance(d time.Duration) time.Time {
	s.t.Helper()
	var out struct {
		Now time.Time `json:"now"`
	}
	if code := s.do(http.MethodPost, "/_azemu/clock/advance", map[string]string{"duration": d.String()}, &out); code != http.StatusOK {
		s.t.Fatalf("advance: HTTP %d", code)
	}
	return out.Now
}

type staticToken struct{}

func (staticToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: "e2e-token", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// armOptions points an SDK client at this server, trusting its CA.
func (s *server) armOptions() *arm.ClientOptions {
	return &arm.ClientOptions{ClientOptions: policy.ClientOptions{
		Cloud: cloud.Configuration{
			ActiveDirectoryAuthorityHost: s.base + "/adfs/",
			Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
				cloud.ResourceManager: {Audience: "https://management.core.windows.net/", Endpoint: s.base},
			},
		},
		Transport: s.http,
		Retry:     policy.RetryOptions{MaxRetries: -1},
	}}
}

func ptr[T any](v T) *T { return &v }

func joinCodes(codes []string) string { return strings.Join(codes, " | ") }
