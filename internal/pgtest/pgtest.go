// Package pgtest gives tests a fresh, empty PostgreSQL store each.
//
// With AZEMU_TEST_POSTGRES set to a URL (e.g.
// postgres://postgres@127.0.0.1:5432/postgres), the stores are schemas of
// that database, created as its user (who needs CREATE on it). Otherwise the first test
// that asks starts a throwaway cluster of this test process: initdb and
// postgres from Debian's postgresql package (/usr/lib/postgresql/N/bin) or
// from PATH, in a temporary directory, listening on a unix socket there
// only, so parallel test processes never compete for a port. As root the
// cluster runs as the postgres user, since PostgreSQL refuses to run as
// root. The cluster ends with the test process: Main stops it and removes
// its directory, and should the process die first, the kernel signals the
// server (a parent-death signal) to shut down.
//
// Without PostgreSQL the tests that need it are skipped, unless CI is set:
// then they fail, so that CI never passes by running less.
//
// A package using Database calls Main from its TestMain.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the environment variable of an existing server to use.
const EnvURL = "AZEMU_TEST_POSTGRES"

var (
	mainRan  atomic.Bool
	start    sync.Once
	cl       *cluster // the throwaway cluster, once started
	adminURL string   // where databases are created
	startErr error
	missing  bool // no PostgreSQL installed: skip, or fail under CI
	dbSeq    atomic.Int64
)

// Main runs the tests, then stops the cluster they started, if any. Use it
// as os.Exit(pgtest.Main(m)) in TestMain.
func Main(m *testing.M) int {
	mainRan.Store(true)
	code := m.Run()
	if cl != nil {
		if err := cl.stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
	}
	return code
}

// Database gives t a store of its own, dropped when t ends, and returns its
// URL: an empty schema, named in the URL's search_path, of the server's
// database. A schema costs far less than a database to create, and azemu
// keys its advisory locks by schema, so tests on one database do not meet.
func Database(t testing.TB) string {
	t.Helper()
	if !mainRan.Load() {
		t.Fatal("pgtest: the package's TestMain must call pgtest.Main")
	}
	start.Do(func() {
		if u := os.Getenv(EnvURL); u != "" {
			adminURL = u
			return
		}
		cl, startErr = startCluster()
		if cl != nil {
			adminURL = cl.url("postgres")
		}
	})
	if missing {
		if os.Getenv("CI") != "" {
			t.Fatalf("pgtest: %v (install Debian's postgresql, or set %s)", startErr, EnvURL)
		}
		t.Skipf("pgtest: %v; install Debian's postgresql, or set %s", startErr, EnvURL)
	}
	if startErr != nil {
		t.Fatalf("pgtest: %v", startErr)
	}
	u, err := url.Parse(adminURL)
	if err != nil {
		t.Fatalf("pgtest: %s does not parse: %v", EnvURL, err)
	}
	schema := fmt.Sprintf("azemu_test_%d_%d", os.Getpid(), dbSeq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := admin(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := admin(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func admin(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}

// cluster is a running throwaway PostgreSQL server.
type cluster struct {
	dir    string // holds the data directory and the socket
	cmd    *exec.Cmd
	exited chan error
}

const superuser = "azemu"

// url is the URL of database db on the cluster, over its unix socket.
func (c *cluster) url(db string) string {
	q := url.Values{"host": {c.dir}, "sslmode": {"disable"}}
	return (&url.URL{Scheme: "postgres", User: url.User(superuser), Path: "/" + db, RawQuery: q.Encode()}).String()
}

// binDir finds the directory of initdb and postgres: the newest of Debian's
// versioned directories, else PATH.
func binDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("postgres"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("PostgreSQL is not installed: no /usr/lib/postgresql/*/bin/postgres and no postgres on PATH")
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func startCluster() (*cluster, error) {
	bin, err := binDir()
	if err != nil {
		missing = true
		return nil, err
	}
	dir, err := os.MkdirTemp("", "azemu-pg-")
	if err != nil {
		return nil, err
	}
	c := &cluster{dir: dir, exited: make(chan error, 1)}
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		if cred, err = postgresUser(); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "--pgdata", data, "--username", superuser,
		"--auth", "trust", "--encoding", "UTF8", "--locale", "C", "--no-sync")
	initdb.Dir = dir
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	if err := c.run(bin, data, cred); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := c.waitReady(time.Minute); err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

func postgresUser() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, and PostgreSQL will not: %w", err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// run starts the server as a child. The parent-death signal belongs to the
// thread that forks, so the fork happens on a thread locked to a goroutine
// that lives as long as the server: it fires only when the whole test
// process is gone. SIGQUIT is PostgreSQL's immediate shutdown.
func (c *cluster) run(bin, data string, cred *syscall.Credential) error {
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		c.cmd = exec.Command(filepath.Join(bin, "postgres"), "-D", data,
			"-c", "listen_addresses=", "-c", "unix_socket_directories="+c.dir,
			"-c", "max_connections=200", "-c", "shared_buffers=32MB")
		c.cmd.Dir = c.dir
		log, err := os.Create(filepath.Join(c.dir, "server.log"))
		if err != nil {
			started <- err
			return
		}
		defer log.Close()
		c.cmd.Stdout, c.cmd.Stderr = log, log
		c.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT}
		if err := c.cmd.Start(); err != nil {
			started <- fmt.Errorf("postgres: %w", err)
			return
		}
		started <- nil
		c.exited <- c.cmd.Wait()
	}()
	return <-started
}

// waitReady polls until the server accepts a connection: it gives no other
// sign of being ready.
func (c *cluster) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		conn, err := pgx.Connect(ctx, c.url("postgres"))
		cancel()
		if err == nil {
			conn.Close(context.Background())
			return nil
		}
		select {
		case werr := <-c.exited:
			c.exited <- werr
			return fmt.Errorf("postgres exited at start (%v):\n%s", werr, c.log())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres not ready after %s: %v\n%s", limit, err, c.log())
		}
	}
}

func (c *cluster) log() string {
	b, _ := os.ReadFile(filepath.Join(c.dir, "server.log"))
	return strings.TrimSpace(string(b))
}

// stop shuts the server down (SIGINT: fast shutdown, ending open sessions)
// and removes its directory.
func (c *cluster) stop() error {
	defer os.RemoveAll(c.dir)
	if c.cmd == nil || c.cmd.Process == nil {
		return nil
	}
	if err := c.cmd.Process.Signal(syscall.SIGINT); err != nil {
		return err
	}
	select {
	case err := <-c.exited:
		c.exited <- err
		if err != nil {
			return fmt.Errorf("postgres: %v\n%s", err, c.log())
		}
		return nil
	case <-time.After(time.Minute):
		c.cmd.Process.Kill()
		return errors.New("postgres did not stop within a minute: killed")
	}
}
