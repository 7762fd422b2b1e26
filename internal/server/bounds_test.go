package server_test

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/server"
)

// patience is how long a test client waits for the server to act on a
// bound of one second before calling it unbounded.
const patience = 30 * time.Second

func dialTLS(t *testing.T, srv *server.Server) *tls.Conn {
	t.Helper()
	tc, err := srv.TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	tc.NextProtos = []string{"http/1.1"}
	c, err := tls.Dial("tcp", strings.TrimPrefix(srv.URL(), "https://"), tc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// A body that never comes, and a kept-alive connection left idle, are
// ended by the server: neither holds a connection without bound.
func TestSlowAndIdleClientsAreCutOff(t *testing.T) {
	srv := startServer(t, server.Config{ReadTimeout: time.Second, IdleTimeout: time.Second})
	host := strings.TrimPrefix(srv.URL(), "https://")

	t.Run("a body that never comes", func(t *testing.T) {
		c := dialTLS(t, srv)
		_, err := io.WriteString(c, "PUT /subscriptions/"+sub+"/resourcegroups/drip?api-version=2021-04-01 HTTP/1.1\r\nHost: "+host+
			"\r\nAuthorization: Bearer x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(patience))
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout():
			t.Fatalf("the server still waits for the body after %v", patience)
		case err == nil && res.StatusCode < 400:
			t.Fatalf("a request whose body never came was answered HTTP %d", res.StatusCode)
		}
		// An error status, or the connection closed: both end the wait.
	})

	t.Run("an idle kept-alive connection", func(t *testing.T) {
		c := dialTLS(t, srv)
		rd := bufio.NewReader(c)
		if _, err := io.WriteString(c, "GET /_azemu/health HTTP/1.1\r\nHost: "+host+"\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		res, err := http.ReadResponse(rd, nil)
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("health: %v %v", res, err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		c.SetReadDeadline(time.Now().Add(patience))
		_, err = rd.ReadByte()
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("an idle connection is still open after %v", patience)
		}
	})
}

// At most MaxConns connections are served at once; the next is accepted
// once one closes.
func TestConnectionsAreCapped(t *testing.T) {
	srv := startServer(t, server.Config{MaxConns: 2})
	a := dialTLS(t, srv)
	dialTLS(t, srv)
	tc, err := srv.TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	d := &net.Dialer{Timeout: time.Second}
	// A TLS handshake needs the server to have accepted the connection:
	// within a second (or any time) it cannot complete while two are open.
	if c, err := tls.DialWithDialer(d, "tcp", strings.TrimPrefix(srv.URL(), "https://"), tc); err == nil {
		c.Close()
		t.Fatal("a third connection was served with MaxConns 2")
	}
	a.Close()
	d.Timeout = patience
	c, err := tls.DialWithDialer(d, "tcp", strings.TrimPrefix(srv.URL(), "https://"), tc)
	if err != nil {
		t.Fatalf("after one of two closed: %v", err)
	}
	c.Close()
}

// The dashboard's live stream outlives the read timeout, which bounds
// reading a request, not answering one.
func TestLiveStreamOutlivesTheReadTimeout(t *testing.T) {
	srv := startServer(t, server.Config{ReadTimeout: time.Second})
	client := httpsClient(t, srv)
	client.Timeout = 0
	res, err := client.Get(srv.URL() + "/_dashboard/api/events")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	rd := bufio.NewReader(res.Body)
	next := func() string {
		t.Helper()
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				t.Fatalf("the stream ended: %v", err)
			}
			if ev, ok := strings.CutPrefix(strings.TrimSpace(line), "event: "); ok {
				return ev
			}
		}
	}
	if ev := next(); ev != "hello" {
		t.Fatalf("first event %q", ev)
	}
	time.Sleep(1500 * time.Millisecond) // what is tested is time passing: past the read timeout
	if _, err := srv.Engine().Do(t.Context(), engine.AdvanceClock{By: time.Second}); err != nil {
		t.Fatal(err)
	}
	if ev := next(); ev != "batch" {
		t.Fatalf("after the read timeout: event %q", ev)
	}
}
