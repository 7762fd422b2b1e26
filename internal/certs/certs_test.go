package certs

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"io"
	"io/fs"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	oidSubjectKeyID     = asn1.ObjectIdentifier{2, 5, 29, 14}
	oidKeyUsage         = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidSubjectAltName   = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidBasicConstraints = asn1.ObjectIdentifier{2, 5, 29, 19}
	oidAuthorityKeyID   = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidExtendedKeyUsage = asn1.ObjectIdentifier{2, 5, 29, 37}
	testNow             = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	fileNames           = []string{caCertName, caKeyName, certName, keyName}
)

func mustEnsure(t *testing.T, dir string, hosts []string, now time.Time) Files {
	t.Helper()
	f, err := Ensure(dir, hosts, now)
	if err != nil {
		t.Fatalf("Ensure(%q, %q, %v): %v", dir, hosts, now, err)
	}
	return f
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, rest := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("%s: no CERTIFICATE PEM block", path)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		t.Fatalf("%s: unexpected data after the certificate", path)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return cert
}

func readKey(t *testing.T, path string) *ecdsa.PrivateKey {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		t.Fatalf("%s: no PRIVATE KEY PEM block", path)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	ec, ok := key.(*ecdsa.PrivateKey)
	if !ok {
		t.Fatalf("%s: key is %T, want *ecdsa.PrivateKey", path, key)
	}
	return ec
}

// snapshot returns the contents of the four files of dir.
func snapshot(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	m := make(map[string][]byte)
	for _, name := range fileNames {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		m[name] = data
	}
	return m
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// verifyLeaf checks that server.pem chains to ca.pem for every host at now.
func verifyLeaf(t *testing.T, f Files, hosts []string, now time.Time) {
	t.Helper()
	pool, err := Pool(f.CACert)
	if err != nil {
		t.Fatal(err)
	}
	leaf := readCert(t, f.Cert)
	for _, h := range hosts {
		_, err := leaf.Verify(x509.VerifyOptions{
			DNSName:     h,
			Roots:       pool,
			CurrentTime: now,
			KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		})
		if err != nil {
			t.Errorf("verify server.pem for %q at %v: %v", h, now, err)
		}
	}
	if _, err := tls.LoadX509KeyPair(f.Cert, f.Key); err != nil {
		t.Errorf("server pair does not load: %v", err)
	}
}

func TestEnsureFreshDir(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data", "tls")
	f := mustEnsure(t, dir, DefaultHosts, testNow)

	want := Files{
		CACert: filepath.Join(dir, "ca.pem"),
		CAKey:  filepath.Join(dir, "ca-key.pem"),
		Cert:   filepath.Join(dir, "server.pem"),
		Key:    filepath.Join(dir, "server-key.pem"),
	}
	if f != want {
		t.Fatalf("Files = %+v, want %+v", f, want)
	}

	tests := []struct {
		path string
		dir  bool
		perm fs.FileMode
	}{
		{dir, true, 0o700},
		{f.CACert, false, 0o644},
		{f.CAKey, false, 0o600},
		{f.Cert, false, 0o644},
		{f.Key, false, 0o600},
	}
	for _, tc := range tests {
		fi, err := os.Stat(tc.path)
		if err != nil {
			t.Errorf("stat %s: %v", tc.path, err)
			continue
		}
		if fi.IsDir() != tc.dir {
			t.Errorf("%s: IsDir = %v, want %v", tc.path, fi.IsDir(), tc.dir)
		}
		if runtime.GOOS == "windows" {
			continue
		}
		if got := fi.Mode().Perm(); got != tc.perm {
			t.Errorf("%s: mode %v, want %v", tc.path, got, tc.perm)
		}
	}

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	wantNames := slices.Sorted(slices.Values(fileNames))
	if !slices.Equal(names, wantNames) {
		t.Errorf("directory holds %q, want exactly %q (no temporary files)", names, wantNames)
	}

	readKey(t, f.CAKey)
	readKey(t, f.Key)
	verifyLeaf(t, f, DefaultHosts, testNow)
}

func TestCertificateProfile(t *testing.T) {
	t.Parallel()
	f := mustEnsure(t, t.TempDir(), DefaultHosts, testNow)
	ca := readCert(t, f.CACert)
	leaf := readCert(t, f.Cert)
	caKey := readKey(t, f.CAKey)
	leafKey := readKey(t, f.Key)
	notBefore := testNow.Add(-time.Hour)

	ext := func(c *x509.Certificate, oid asn1.ObjectIdentifier) (found, critical bool) {
		for _, e := range c.Extensions {
			if e.Id.Equal(oid) {
				return true, e.Critical
			}
		}
		return false, false
	}
	ski := func(k *ecdsa.PrivateKey) []byte {
		pub, err := k.PublicKey.ECDH()
		if err != nil {
			t.Fatal(err)
		}
		sum := sha1.Sum(pub.Bytes())
		return sum[:]
	}

	t.Run("extensions", func(t *testing.T) {
		tests := []struct {
			cert         string
			c            *x509.Certificate
			oid          asn1.ObjectIdentifier
			wantFound    bool
			wantCritical bool
		}{
			{"ca", ca, oidBasicConstraints, true, true},
			{"ca", ca, oidKeyUsage, true, true},
			{"ca", ca, oidSubjectKeyID, true, false},
			{"leaf", leaf, oidBasicConstraints, true, true},
			{"leaf", leaf, oidKeyUsage, true, true},
			{"leaf", leaf, oidExtendedKeyUsage, true, false},
			{"leaf", leaf, oidSubjectAltName, true, false},
			{"leaf", leaf, oidSubjectKeyID, true, false},
			{"leaf", leaf, oidAuthorityKeyID, true, false},
		}
		for _, tc := range tests {
			found, critical := ext(tc.c, tc.oid)
			if found != tc.wantFound || (found && critical != tc.wantCritical) {
				t.Errorf("%s extension %v: found=%v critical=%v, want found=%v critical=%v",
					tc.cert, tc.oid, found, critical, tc.wantFound, tc.wantCritical)
			}
		}
	})

	t.Run("ca", func(t *testing.T) {
		if ca.Version != 3 {
			t.Errorf("version %d, want 3", ca.Version)
		}
		if ca.Subject.CommonName != "azemu local CA" {
			t.Errorf("subject CN %q", ca.Subject.CommonName)
		}
		if !ca.BasicConstraintsValid || !ca.IsCA || ca.MaxPathLen != 0 || !ca.MaxPathLenZero {
			t.Errorf("basic constraints valid=%v CA=%v maxPathLen=%d zero=%v",
				ca.BasicConstraintsValid, ca.IsCA, ca.MaxPathLen, ca.MaxPathLenZero)
		}
		if want := x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature; ca.KeyUsage != want {
			t.Errorf("key usage %b, want %b", ca.KeyUsage, want)
		}
		if !bytes.Equal(ca.SubjectKeyId, ski(caKey)) {
			t.Errorf("SKI %x, want SHA-1 of the public key %x", ca.SubjectKeyId, ski(caKey))
		}
		if !ca.NotBefore.Equal(notBefore) || !ca.NotAfter.Equal(notBefore.AddDate(10, 0, 0)) {
			t.Errorf("validity %v .. %v, want %v .. +10y", ca.NotBefore, ca.NotAfter, notBefore)
		}
		if err := ca.CheckSignatureFrom(ca); err != nil {
			t.Errorf("CA is not self-signed: %v", err)
		}
		if !caKey.PublicKey.Equal(ca.PublicKey) || caKey.Curve != elliptic.P256() {
			t.Errorf("CA key does not match the certificate or is not P-256")
		}
	})

	t.Run("leaf", func(t *testing.T) {
		if leaf.Version != 3 {
			t.Errorf("version %d, want 3", leaf.Version)
		}
		if leaf.Subject.CommonName != "azemu" {
			t.Errorf("subject CN %q", leaf.Subject.CommonName)
		}
		if leaf.IsCA {
			t.Error("leaf is a CA")
		}
		if !bytes.Equal(leaf.AuthorityKeyId, ca.SubjectKeyId) {
			t.Errorf("AKI %x, want CA SKI %x", leaf.AuthorityKeyId, ca.SubjectKeyId)
		}
		if !bytes.Equal(leaf.SubjectKeyId, ski(leafKey)) {
			t.Errorf("SKI %x, want %x", leaf.SubjectKeyId, ski(leafKey))
		}
		if leaf.KeyUsage != x509.KeyUsageDigitalSignature {
			t.Errorf("key usage %b, want digitalSignature", leaf.KeyUsage)
		}
		if !slices.Equal(leaf.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) {
			t.Errorf("ext key usage %v, want serverAuth", leaf.ExtKeyUsage)
		}
		if !slices.Equal(leaf.DNSNames, []string{"localhost"}) {
			t.Errorf("DNS names %q", leaf.DNSNames)
		}
		wantIPs := []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}
		if !slices.EqualFunc(leaf.IPAddresses, wantIPs, net.IP.Equal) {
			t.Errorf("IP addresses %v, want %v", leaf.IPAddresses, wantIPs)
		}
		if !leaf.NotBefore.Equal(notBefore) || !leaf.NotAfter.Equal(notBefore.Add(397*24*time.Hour)) {
			t.Errorf("validity %v .. %v, want %v .. +397d", leaf.NotBefore, leaf.NotAfter, notBefore)
		}
		if leaf.SerialNumber.Sign() <= 0 || leaf.SerialNumber.BitLen() > 128 {
			t.Errorf("serial %v is not a positive 128-bit number", leaf.SerialNumber)
		}
		if leaf.SerialNumber.Cmp(ca.SerialNumber) == 0 {
			t.Error("leaf and CA share a serial number")
		}
		if err := leaf.CheckSignatureFrom(ca); err != nil {
			t.Errorf("leaf not signed by CA: %v", err)
		}
		if !leafKey.PublicKey.Equal(leaf.PublicKey) || leafKey.Curve != elliptic.P256() {
			t.Errorf("server key does not match the certificate or is not P-256")
		}
	})
}

func TestHandshake(t *testing.T) {
	t.Parallel()
	f := mustEnsure(t, t.TempDir(), DefaultHosts, time.Now())
	cfg, err := ServerConfig(f.Cert, f.Key)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinVersion != tls.VersionTLS12 || !slices.Equal(cfg.NextProtos, []string{"h2", "http/1.1"}) {
		t.Fatalf("ServerConfig: MinVersion %x NextProtos %q", cfg.MinVersion, cfg.NextProtos)
	}
	pool, err := Pool(f.CACert)
	if err != nil {
		t.Fatal(err)
	}

	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "hello")
	}))
	srv.EnableHTTP2 = true
	// The "wrong name" client aborts its handshake; keep the log quiet.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.TLS = cfg
	srv.StartTLS()
	t.Cleanup(srv.Close)
	if host, _, _ := net.SplitHostPort(srv.Listener.Addr().String()); host != "127.0.0.1" {
		t.Skipf("test server listens on %s, not 127.0.0.1", host)
	}

	tests := []struct {
		name       string
		serverName string // name the client verifies
		forceH2    bool
		wantProto  string
		wantErr    bool
	}{
		{name: "ip", serverName: "127.0.0.1", forceH2: true, wantProto: "h2"},
		{name: "localhost", serverName: "localhost", forceH2: true, wantProto: "h2"},
		{name: "ipv6 loopback name", serverName: "::1", forceH2: true, wantProto: "h2"},
		{name: "http1", serverName: "localhost", wantProto: "http/1.1"},
		{name: "wrong name", serverName: "example.com", forceH2: true, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := &http.Transport{
				TLSClientConfig:   &tls.Config{RootCAs: pool, ServerName: tc.serverName},
				ForceAttemptHTTP2: tc.forceH2,
			}
			if !tc.forceH2 {
				tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
			}
			defer tr.CloseIdleConnections()
			resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get(srv.URL)
			if tc.wantErr {
				if err == nil {
					resp.Body.Close()
					t.Fatal("request succeeded, want a certificate verification error")
				}
				var hostErr x509.HostnameError
				if !errors.As(err, &hostErr) {
					t.Fatalf("error %v, want x509.HostnameError", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusOK || string(body) != "hello" {
				t.Fatalf("got %d %q", resp.StatusCode, body)
			}
			if resp.TLS == nil || len(resp.TLS.VerifiedChains) == 0 {
				t.Fatal("no verified chain")
			}
			if got := resp.TLS.NegotiatedProtocol; got != tc.wantProto {
				t.Errorf("ALPN %q, want %q", got, tc.wantProto)
			}
			if resp.TLS.Version < tls.VersionTLS12 {
				t.Errorf("TLS version %x", resp.TLS.Version)
			}
		})
	}
}

func TestEnsureKeepsFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mustEnsure(t, dir, DefaultHosts, testNow)
	before := snapshot(t, dir)
	for _, later := range []time.Duration{0, time.Hour, 300 * 24 * time.Hour} {
		mustEnsure(t, dir, DefaultHosts, testNow.Add(later))
		after := snapshot(t, dir)
		for _, name := range fileNames {
			if !bytes.Equal(before[name], after[name]) {
				t.Errorf("now+%v: %s changed", later, name)
			}
		}
	}
}

func TestEnsureReissue(t *testing.T) {
	t.Parallel()
	// other holds a pair issued by a different CA.
	other := mustEnsure(t, t.TempDir(), DefaultHosts, testNow)
	leafNotAfter := testNow.Add(-time.Hour).Add(397 * 24 * time.Hour)

	tests := []struct {
		name        string
		mutate      func(t *testing.T, f Files)
		now         time.Time
		hosts       []string
		wantReissue bool
	}{
		{name: "unchanged", now: testNow, wantReissue: false},
		{name: "31 days before expiry", now: leafNotAfter.Add(-31 * 24 * time.Hour), wantReissue: false},
		{name: "29 days before expiry", now: leafNotAfter.Add(-29 * 24 * time.Hour), wantReissue: true},
		{name: "exactly 30 days before expiry", now: leafNotAfter.Add(-30 * 24 * time.Hour), wantReissue: true},
		{name: "expired", now: leafNotAfter.Add(24 * time.Hour), wantReissue: true},
		{
			// The pair on disk was issued two days later than now, as
			// after the clock was set back.
			name: "clock before NotBefore", now: testNow, wantReissue: true,
			mutate: func(t *testing.T, f Files) {
				mustEnsure(t, filepath.Dir(f.Cert), []string{"later.localhost"}, testNow.Add(48*time.Hour))
			},
		},
		{name: "new host name", now: testNow, hosts: append(slices.Clone(DefaultHosts), "azemu.localhost"), wantReissue: true},
		{name: "new wildcard", now: testNow, hosts: []string{"localhost", "*.api.localhost"}, wantReissue: true},
		{name: "subset of hosts", now: testNow, hosts: []string{"localhost"}, wantReissue: false},
		{name: "same hosts spelled differently", now: testNow, hosts: []string{"LOCALHOST.", "[::1]", " 127.0.0.1 ", "localhost"}, wantReissue: false},
		{
			name: "corrupt server.pem", now: testNow, wantReissue: true,
			mutate: func(t *testing.T, f Files) {
				if err := os.WriteFile(f.Cert, []byte("not a certificate\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "truncated server.pem", now: testNow, wantReissue: true,
			mutate: func(t *testing.T, f Files) {
				data, err := os.ReadFile(f.Cert)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(f.Cert, data[:len(data)/2], 0o644); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "missing server.pem", now: testNow, wantReissue: true,
			mutate: func(t *testing.T, f Files) {
				if err := os.Remove(f.Cert); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "corrupt server-key.pem", now: testNow, wantReissue: true,
			mutate: func(t *testing.T, f Files) {
				if err := os.WriteFile(f.Key, []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "key of another pair", now: testNow, wantReissue: true,
			mutate: func(t *testing.T, f Files) { copyFile(t, other.Key, f.Key) },
		},
		{
			name: "pair signed by another CA", now: testNow, wantReissue: true,
			mutate: func(t *testing.T, f Files) {
				copyFile(t, other.Cert, f.Cert)
				copyFile(t, other.Key, f.Key)
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			f := mustEnsure(t, dir, DefaultHosts, testNow)
			before := snapshot(t, dir)
			if tc.mutate != nil {
				tc.mutate(t, f)
				// Compare against the mutated server files (nil if missing).
				before[certName], _ = os.ReadFile(f.Cert)
				before[keyName], _ = os.ReadFile(f.Key)
			}
			hosts := tc.hosts
			if hosts == nil {
				hosts = DefaultHosts
			}
			mustEnsure(t, dir, hosts, tc.now)
			after := snapshot(t, dir)

			if !bytes.Equal(before[caCertName], after[caCertName]) || !bytes.Equal(before[caKeyName], after[caKeyName]) {
				t.Fatal("CA changed")
			}
			certChanged := !bytes.Equal(before[certName], after[certName])
			keyChanged := !bytes.Equal(before[keyName], after[keyName])
			if certChanged != tc.wantReissue || keyChanged != tc.wantReissue {
				t.Errorf("server.pem changed=%v server-key.pem changed=%v, want %v", certChanged, keyChanged, tc.wantReissue)
			}
			if runtime.GOOS != "windows" {
				for path, perm := range map[string]fs.FileMode{f.Cert: 0o644, f.Key: 0o600} {
					if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != perm {
						t.Errorf("%s: stat %v, err %v, want mode %v", path, fi.Mode(), err, perm)
					}
				}
			}
			names, err := normalizeHosts(hosts)
			if err != nil {
				t.Fatal(err)
			}
			verifyLeaf(t, f, names.all, tc.now)
			if err := serverProblem(f, readCert(t, f.CACert), names.all, tc.now); err != nil {
				t.Errorf("server pair not usable after Ensure: %v", err)
			}
			// A second call is a no-op.
			mustEnsure(t, dir, hosts, tc.now)
			if again := snapshot(t, dir); !bytes.Equal(again[certName], after[certName]) {
				t.Error("second Ensure reissued again")
			}
		})
	}
}

func TestEnsureCA(t *testing.T) {
	t.Parallel()
	other := mustEnsure(t, t.TempDir(), DefaultHosts, testNow)

	tests := []struct {
		name    string
		mutate  func(t *testing.T, f Files)
		now     time.Time
		wantErr bool // otherwise a new CA is expected
	}{
		{
			name:   "missing ca.pem with stray key gets a new CA",
			mutate: func(t *testing.T, f Files) { _ = os.Remove(f.CACert) },
		},
		{
			name:    "missing CA key",
			mutate:  func(t *testing.T, f Files) { _ = os.Remove(f.CAKey) },
			wantErr: true,
		},
		{
			name:    "CA key of another CA",
			mutate:  func(t *testing.T, f Files) { copyFile(t, other.CAKey, f.CAKey) },
			wantErr: true,
		},
		{
			name: "corrupt ca.pem",
			mutate: func(t *testing.T, f Files) {
				if err := os.WriteFile(f.CACert, []byte("garbage"), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: true,
		},
		{
			name:    "ca.pem is a leaf",
			mutate:  func(t *testing.T, f Files) { copyFile(t, f.Cert, f.CACert) },
			wantErr: true,
		},
		{
			name:    "expired CA",
			now:     testNow.AddDate(11, 0, 0),
			wantErr: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			f := mustEnsure(t, dir, DefaultHosts, testNow)
			oldCA := readCert(t, f.CACert)
			if tc.mutate != nil {
				tc.mutate(t, f)
			}
			now := tc.now
			if now.IsZero() {
				now = testNow
			}
			_, err := Ensure(dir, DefaultHosts, now)
			if tc.wantErr {
				if err == nil {
					t.Fatal("Ensure succeeded, want an error for an unusable CA")
				}
				if !strings.Contains(err.Error(), "ca.pem") {
					t.Errorf("error %q does not name ca.pem", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			newCA := readCert(t, f.CACert)
			if newCA.Equal(oldCA) {
				t.Fatal("CA not replaced")
			}
			verifyLeaf(t, f, DefaultHosts, now)
		})
	}
}

func TestNormalizeHosts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		hosts   []string
		wantDNS []string
		wantIPs []string
		wantErr bool
	}{
		{hosts: DefaultHosts, wantDNS: []string{"localhost"}, wantIPs: []string{"127.0.0.1", "::1"}},
		{hosts: []string{"Foo.Example.", "foo.example", "[::1]", "::1", ""}, wantDNS: []string{"foo.example"}, wantIPs: []string{"::1"}},
		{hosts: []string{"*.azemu.test", "my_host.local", "::ffff:10.0.0.1"}, wantDNS: []string{"*.azemu.test", "my_host.local"}, wantIPs: []string{"10.0.0.1"}},
		{hosts: []string{"localhost:8443"}, wantErr: true},
		{hosts: []string{"bad host"}, wantErr: true},
		{hosts: []string{"a..b"}, wantErr: true},
		{hosts: []string{"a.*.b"}, wantErr: true},
		{hosts: []string{"*"}, wantErr: true},
		{hosts: []string{"fe80::1%eth0"}, wantErr: true},
	}
	for _, tc := range tests {
		got, err := normalizeHosts(tc.hosts)
		if tc.wantErr {
			if err == nil {
				t.Errorf("normalizeHosts(%q) = %+v, want error", tc.hosts, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("normalizeHosts(%q): %v", tc.hosts, err)
			continue
		}
		var ips []string
		for _, ip := range got.ips {
			ips = append(ips, ip.String())
		}
		if !slices.Equal(got.dns, tc.wantDNS) || !slices.Equal(ips, tc.wantIPs) {
			t.Errorf("normalizeHosts(%q) = dns %q ips %q, want %q %q", tc.hosts, got.dns, ips, tc.wantDNS, tc.wantIPs)
		}
	}
}

func TestEnsureDefaultsAndErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f := mustEnsure(t, dir, nil, testNow)
	verifyLeaf(t, f, DefaultHosts, testNow)

	if _, err := Ensure(t.TempDir(), []string{"bad host"}, testNow); err == nil {
		t.Error("Ensure with an invalid host succeeded")
	}
	if _, err := Ensure("", nil, testNow); err == nil {
		t.Error("Ensure with an empty directory succeeded")
	}
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Ensure(filepath.Join(notADir, "tls"), nil, testNow); err == nil {
		t.Error("Ensure below a regular file succeeded")
	}
}

func TestPool(t *testing.T) {
	t.Parallel()
	f := mustEnsure(t, t.TempDir(), DefaultHosts, testNow)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caPEM, err := os.ReadFile(f.CACert)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		wantErr bool
	}{
		{"ca.pem", f.CACert, false},
		{"bundle with comments", write("bundle.pem", "# azemu\n"+string(caPEM)+string(caPEM)), false},
		{"missing", filepath.Join(dir, "missing.pem"), true},
		{"empty", write("empty.pem", ""), true},
		{"key only", f.CAKey, true},
		{"bad certificate", write("bad.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), true},
	}
	for _, tc := range tests {
		pool, err := Pool(tc.path)
		if tc.wantErr {
			if err == nil {
				t.Errorf("%s: Pool succeeded, want error", tc.name)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if _, err := readCert(t, f.Cert).Verify(x509.VerifyOptions{Roots: pool, DNSName: "localhost", CurrentTime: testNow}); err != nil {
			t.Errorf("%s: verify with pool: %v", tc.name, err)
		}
	}
	if _, err := ServerConfig(f.CACert, f.Key); err == nil {
		t.Error("ServerConfig with a mismatched pair succeeded")
	}
}

func TestOpenSSLStrictVerify(t *testing.T) {
	t.Parallel()
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not on PATH")
	}
	f := mustEnsure(t, t.TempDir(), DefaultHosts, time.Now())
	tests := []struct {
		name string
		args []string
	}{
		{"x509_strict", nil},
		{"sslserver localhost", []string{"-purpose", "sslserver", "-verify_hostname", "localhost"}},
		{"sslserver 127.0.0.1", []string{"-purpose", "sslserver", "-verify_ip", "127.0.0.1"}},
		{"sslserver ::1", []string{"-purpose", "sslserver", "-verify_ip", "::1"}},
	}
	for _, tc := range tests {
		args := append([]string{"verify", "-x509_strict", "-CAfile", f.CACert}, tc.args...)
		args = append(args, f.Cert)
		out, err := exec.Command(openssl, args...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), ": OK") {
			t.Errorf("%s: openssl %s: %v\n%s", tc.name, strings.Join(args, " "), err, out)
		}
	}
}

// The CA vouches only for the names and addresses it was made for: a
// certificate its key signs for another site fails verification, and
// Ensure refuses names outside them, changing nothing.
func TestCAIsNameConstrained(t *testing.T) {
	dir := t.TempDir()
	f := mustEnsure(t, dir, DefaultHosts, testNow)
	ca := readCert(t, f.CACert)
	if !ca.PermittedDNSDomainsCritical || !slices.Equal(ca.PermittedDNSDomains, []string{"localhost"}) || len(ca.PermittedIPRanges) != 2 {
		t.Fatalf("CA constraints: critical %v, DNS %v, IP %v", ca.PermittedDNSDomainsCritical, ca.PermittedDNSDomains, ca.PermittedIPRanges)
	}
	pool, err := Pool(f.CACert)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := os.ReadFile(f.CAKey)
	if err != nil {
		t.Fatal(err)
	}
	caKey, err := parseKeyPEM(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	sign := func(dns []string, ips []net.IP) *x509.Certificate {
		t.Helper()
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), NotBefore: testNow.Add(-time.Hour), NotAfter: testNow.Add(time.Hour),
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, DNSNames: dns, IPAddresses: ips}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	verify := func(c *x509.Certificate, host string) error {
		_, err := c.Verify(x509.VerifyOptions{Roots: pool, DNSName: host, CurrentTime: testNow})
		return err
	}
	for _, tc := range []struct {
		host string
		dns  []string
		ips  []net.IP
		ok   bool
	}{
		{"localhost", []string{"localhost"}, nil, true},
		{"api.localhost", []string{"api.localhost"}, nil, true},
		{"127.0.0.1", nil, []net.IP{net.IPv4(127, 0, 0, 1)}, true},
		{"example.com", []string{"example.com"}, nil, false},
		{"login.microsoftonline.com", []string{"login.microsoftonline.com"}, nil, false},
		{"10.1.2.3", nil, []net.IP{net.IPv4(10, 1, 2, 3)}, false},
	} {
		err := verify(sign(tc.dns, tc.ips), tc.host)
		if (err == nil) != tc.ok {
			t.Errorf("a certificate for %s signed by the CA: verify error %v, want ok=%v", tc.host, err, tc.ok)
		}
	}

	before := snapshot(t, dir)
	for _, hosts := range [][]string{{"localhost", "10.1.2.3"}, {"azemu.test"}} {
		if _, err := Ensure(dir, hosts, testNow); err == nil || !strings.Contains(err.Error(), "remove it") {
			t.Errorf("Ensure(%v) outside the CA's names: %v", hosts, err)
		}
	}
	after := snapshot(t, dir)
	for name := range before {
		if !bytes.Equal(before[name], after[name]) {
			t.Errorf("%s changed on a refused Ensure", name)
		}
	}
}
