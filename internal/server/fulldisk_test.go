package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/azemu/azemu/internal/pgtest"
	"github.com/azemu/azemu/internal/server"
)

// mountSmall mounts a tmpfs with the given options (its size, its owner)
// on a new directory, for a disk that can be filled. The directory is
// under the system's temporary directory, where another user (PostgreSQL's)
// can reach it. Mounting needs root: elsewhere the test is skipped, except
// in CI, which runs as root and must run it.
func mountSmall(t *testing.T, options string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "azemu-small-disk-")
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, options+",mode=0700"); err != nil {
		os.Remove(dir)
		if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
			t.Fatalf("mounting a tmpfs (CI runs as root and must run this test): %v", err)
		}
		t.Skipf("cannot mount a tmpfs here (%v); run as root", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmounting %s: %v", dir, err)
			return
		}
		os.Remove(dir)
	})
	return dir
}

// fill writes a file until the file system has no room left.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return
			}
			t.Fatal(err)
		}
	}
}

// A full disk is answered with an ARM error that names it, loses nothing,
// shows in health and metrics, and is over once there is room again.
func TestFullDiskIsNamedAndRecovered(t *testing.T) {
	dir := mountSmall(t, "size=8m")
	fullDisk(t, server.Config{DataDir: dir}, dir)
}

// The same on a PostgreSQL store whose tables live in a tablespace on a
// small file system: the server answers SQLSTATE 53100 (disk_full), which
// azemu names as SQLite's full disk.
func TestFullDiskIsNamedAndRecoveredOnPostgres(t *testing.T) {
	if os.Getenv(pgtest.EnvURL) != "" {
		t.Skipf("with %s the PostgreSQL server may be on another machine, out of reach of a small file system here", pgtest.EnvURL)
	}
	pgUser, err := user.Lookup("postgres")
	if err != nil && os.Geteuid() == 0 {
		t.Fatalf("the cluster runs as the postgres user: %v", err)
	}
	owner := ""
	if err == nil && os.Geteuid() == 0 {
		owner = ",uid=" + pgUser.Uid + ",gid=" + pgUser.Gid
	}
	dir := mountSmall(t, "size=8m"+owner)
	// Cleanups run last first: the store's schema goes, then the
	// tablespace, then the file system.
	adminURL := pgtest.Database(t)
	name := fmt.Sprintf("azemu_full_%d", os.Getpid())
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE TABLESPACE "+name+" LOCATION '"+dir+"'"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, adminURL)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP TABLESPACE "+name); err != nil {
			t.Errorf("dropping the tablespace: %v", err)
		}
	})
	u, err := url.Parse(pgtest.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("default_tablespace", name) // every table and index of the store
	u.RawQuery = q.Encode()
	fullDisk(t, server.Config{Store: u.String()}, dir)
}

// fullDisk fills the file system at dir, which holds the store of a server
// started with cfg, and checks what a client sees, before and after room
// is made again.
func fullDisk(t *testing.T, cfg server.Config, dir string) {
	t.Helper()
	srv := startServer(t, cfg)
	client := httpsClient(t, srv)
	do := func(method, path, body string) (int, map[string]any, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL()+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer test")
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		data, _ := io.ReadAll(res.Body)
		var m map[string]any
		json.Unmarshal(data, &m)
		return res.StatusCode, m, string(data)
	}
	tags := map[string]string{}
	for i := range 50 {
		// Random, so that PostgreSQL cannot compress a group into the room
		// its pages have left.
		v := make([]byte, 256)
		for k := range v {
			v[k] = 'a' + byte(rand.IntN(26))
		}
		tags[fmt.Sprint("tag", i)] = string(v)
	}
	groupBody, _ := json.Marshal(map[string]any{"location": "eastus", "tags": tags})
	group := func(i int) string {
		return "/subscriptions/" + sub + "/resourcegroups/g" + fmt.Sprint(i) + "?api-version=2021-04-01"
	}
	created := 0
	for ; created < 5; created++ {
		if code, _, body := do(http.MethodPut, group(created), string(groupBody)); code != http.StatusCreated {
			t.Fatalf("before the disk is full: HTTP %d %s", code, body)
		}
	}

	fill(t, filepath.Join(dir, "filler"))
	var code int
	var answer map[string]any
	var body string
	for tries := 0; tries < 500; tries++ {
		code, answer, body = do(http.MethodPut, group(created), string(groupBody))
		if code != http.StatusCreated {
			break
		}
		created++
	}
	errObj, _ := answer["error"].(map[string]any)
	if code != http.StatusInsufficientStorage || errObj["code"] != "InsufficientStorage" || !strings.Contains(fmt.Sprint(errObj["message"]), "disk") {
		t.Fatalf("a write to a full disk: HTTP %d %s", code, body)
	}
	_, health, _ := do(http.MethodGet, "/_azemu/health", "")
	st, _ := health["store"].(map[string]any)
	if health["status"] != "degraded" || st["writable"] != false || st["problem"] != "diskFull" {
		t.Errorf("health with a full disk: %v", health)
	}
	_, _, metrics := do(http.MethodGet, "/metrics", "")
	if !strings.Contains(metrics, "azemu_store_writable 0") || strings.Contains(metrics, `azemu_store_write_failures_total{problem="diskFull"} 0`) {
		t.Errorf("metrics with a full disk do not say so:\n%s", grep(metrics, "azemu_store"))
	}
	// Reads are answered from memory meanwhile.
	if code, _, body := do(http.MethodGet, "/subscriptions/"+sub+"/resourcegroups?api-version=2021-04-01", ""); code != http.StatusOK {
		t.Errorf("a read with a full disk: HTTP %d %s", code, body)
	}

	if err := os.Remove(filepath.Join(dir, "filler")); err != nil {
		t.Fatal(err)
	}
	if code, _, body := do(http.MethodPut, group(created), string(groupBody)); code != http.StatusCreated {
		t.Fatalf("once there is room again: HTTP %d %s", code, body)
	}
	created++
	_, health, _ = do(http.MethodGet, "/_azemu/health", "")
	if health["status"] != "ok" {
		t.Errorf("health once there is room again: %v", health)
	}
	// Nothing acknowledged was lost, and nothing refused was kept.
	_, list, _ := do(http.MethodGet, "/subscriptions/"+sub+"/resourcegroups?api-version=2021-04-01", "")
	if n := len(list["value"].([]any)); n != created {
		t.Errorf("%d groups listed, want the %d acknowledged", n, created)
	}
}

func grep(text, word string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, word) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
