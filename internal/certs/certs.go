package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// File names inside the TLS directory.
const (
	caCertName = "ca.pem"
	caKeyName  = "ca-key.pem"
	certName   = "server.pem"
	keyName    = "server-key.pem"
)

// Certificate parameters.
const (
	caCommonName     = "azemu local CA"
	serverCommonName = "azemu"
	caValidityYears  = 10
	serverValidity   = 397 * 24 * time.Hour
	backdate         = time.Hour           // NotBefore = now - backdate, tolerates clock skew
	renewBefore      = 30 * 24 * time.Hour // reissue the server cert this long before it expires
)

const (
	dirPerm  fs.FileMode = 0o700
	keyPerm  fs.FileMode = 0o600
	certPerm fs.FileMode = 0o644
)

// Files are the PEM files of a TLS setup.
type Files struct {
	CACert, CAKey, Cert, Key string // paths
}

// DefaultHosts is localhost, 127.0.0.1 and ::1.
var DefaultHosts = []string{"localhost", "127.0.0.1", "::1"}

// Ensure makes sure dir holds ca.pem, ca-key.pem, server.pem,
// server-key.pem, creating the directory (0700) and what is missing.
//
// An existing CA is kept: if ca.pem exists but cannot be used (unparsable,
// not a CA, expired, or its key in ca-key.pem is missing or does not match),
// Ensure returns an error instead of silently replacing the certificate
// clients trust; remove ca.pem to start over. A ca-key.pem without ca.pem is
// overwritten by a new CA.
//
// The server certificate is (re)issued from the CA when missing, unreadable,
// not matching its key, not yet valid or expiring within 30 days of now, not
// signed by the CA on disk, or not covering every name in hosts (an empty
// hosts means DefaultHosts). Host names may be DNS names (wildcards allowed
// as a first label "*") or IP addresses, bracketed or not.
//
// Keys are written 0600, certs 0644, each atomically (temp file, fsync,
// rename); keys are written before their certificates so that a crash
// between two writes is repaired by the next call.
func Ensure(dir string, hosts []string, now time.Time) (Files, error) {
	if dir == "" {
		return Files{}, errors.New("certs: empty directory path")
	}
	if len(hosts) == 0 {
		hosts = DefaultHosts
	}
	names, err := normalizeHosts(hosts)
	if err != nil {
		return Files{}, err
	}
	if len(names.all) == 0 {
		if names, err = normalizeHosts(DefaultHosts); err != nil {
			return Files{}, err
		}
	}
	files := Files{
		CACert: filepath.Join(dir, caCertName),
		CAKey:  filepath.Join(dir, caKeyName),
		Cert:   filepath.Join(dir, certName),
		Key:    filepath.Join(dir, keyName),
	}
	if err := ensureDir(dir); err != nil {
		return Files{}, err
	}
	now = now.UTC()
	ca, caKey, err := ensureCA(files, names, now)
	if err != nil {
		return Files{}, err
	}
	if err := withinConstraints(ca, names); err != nil {
		return Files{}, fmt.Errorf("certs: %s: %w; remove it to create a CA for these names", files.CACert, err)
	}
	if serverProblem(files, ca, names.all, now) == nil {
		return files, nil
	}
	if err := issueServer(files, ca, caKey, names, now); err != nil {
		return Files{}, err
	}
	return files, nil
}

// ServerConfig loads a cert/key pair into a *tls.Config (TLS 1.2 minimum,
// h2 and http/1.1 in NextProtos).
func ServerConfig(certFile, keyFile string) (*tls.Config, error) {
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("certs: load key pair %s, %s: %w", certFile, keyFile, err)
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{pair},
		NextProtos:   []string{"h2", "http/1.1"},
	}, nil
}

// Pool returns a cert pool holding the PEM certificates of caFile (for
// clients and tests). It fails if the file holds no certificate or a
// CERTIFICATE block that does not parse.
func Pool(caFile string) (*x509.CertPool, error) {
	data, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	pool := x509.NewCertPool()
	n := 0
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certs: %s: certificate %d: %w", caFile, n+1, err)
		}
		pool.AddCert(cert)
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("certs: %s: no PEM certificate", caFile)
	}
	return pool, nil
}

// hostNames is a normalized, deduplicated hosts list.
type hostNames struct {
	dns []string
	ips []net.IP
	all []string // dns and ips as strings, in input order
}

func normalizeHosts(hosts []string) (hostNames, error) {
	var out hostNames
	seen := make(map[string]bool)
	for _, h := range hosts {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		bare := h
		if len(bare) > 2 && bare[0] == '[' && bare[len(bare)-1] == ']' {
			bare = bare[1 : len(bare)-1]
		}
		if ip := net.ParseIP(bare); ip != nil {
			if v4 := ip.To4(); v4 != nil {
				ip = v4
			}
			s := ip.String()
			if !seen[s] {
				seen[s] = true
				out.ips = append(out.ips, ip)
				out.all = append(out.all, s)
			}
			continue
		}
		name := strings.TrimSuffix(strings.ToLower(h), ".")
		if !validDNSName(name) {
			return hostNames{}, fmt.Errorf("certs: invalid host name %q", h)
		}
		if !seen[name] {
			seen[name] = true
			out.dns = append(out.dns, name)
			out.all = append(out.all, name)
		}
	}
	return out, nil
}

// validDNSName accepts lower-case LDH names with underscores, and "*" as a
// whole first label.
func validDNSName(name string) bool {
	if name == "" || len(name) > 253 {
		return false
	}
	labels := strings.Split(name, ".")
	for i, l := range labels {
		if l == "" || len(l) > 63 {
			return false
		}
		if l == "*" {
			if i != 0 || len(labels) < 2 {
				return false
			}
			continue
		}
		for _, c := range l {
			switch {
			case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
			default:
				return false
			}
		}
	}
	return true
}

func ensureDir(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("certs: %w", err)
	}
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	// MkdirAll is subject to the umask; make the mode exact.
	if err := os.Chmod(dir, dirPerm); err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	return nil
}

// ensureCA loads the CA from disk, or creates it when ca.pem does not exist.
func ensureCA(f Files, names hostNames, now time.Time) (*x509.Certificate, crypto.Signer, error) {
	certPEM, err := os.ReadFile(f.CACert)
	if errors.Is(err, fs.ErrNotExist) {
		return createCA(f, names, now)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("certs: read CA: %w", err)
	}
	fail := func(format string, args ...any) (*x509.Certificate, crypto.Signer, error) {
		return nil, nil, fmt.Errorf("certs: existing CA %s unusable (remove it to create a new one): "+format,
			append([]any{f.CACert}, args...)...)
	}
	cert, err := parseCertPEM(certPEM)
	if err != nil {
		return fail("%w", err)
	}
	if !cert.BasicConstraintsValid || !cert.IsCA {
		return fail("not a CA certificate")
	}
	if now.After(cert.NotAfter) {
		return fail("expired on %s", cert.NotAfter.Format(time.RFC3339))
	}
	keyPEM, err := os.ReadFile(f.CAKey)
	if err != nil {
		return fail("%w", err)
	}
	key, err := parseKeyPEM(keyPEM)
	if err != nil {
		return fail("%s: %w", f.CAKey, err)
	}
	if !samePublicKey(cert.PublicKey, key.Public()) {
		return fail("%s does not match the certificate", f.CAKey)
	}
	return cert, key, nil
}

// createCA makes a new CA. It is constrained to the names and addresses it is made for (RFC 5280
// name constraints, critical): clients trust it, so its key, if it ever
// leaked, must not be able to vouch for any other site.
func createCA(f Files, names hostNames, now time.Time) (*x509.Certificate, crypto.Signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: generate CA key: %w", err)
	}
	ski, err := subjectKeyID(key.Public())
	if err != nil {
		return nil, nil, err
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, nil, err
	}
	notBefore := now.Add(-backdate)
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: caCommonName},
		NotBefore:             notBefore,
		NotAfter:              notBefore.AddDate(caValidityYears, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		SubjectKeyId:          ski,

		PermittedDNSDomainsCritical: true,
		PermittedDNSDomains:         permittedDomains(names),
		PermittedIPRanges:           permittedIPs(names),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: parse new CA certificate: %w", err)
	}
	if err := writeKeyAndCert(f.CAKey, f.CACert, key, der); err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

// permittedDomains are the DNS constraints of a CA for names: each name
// (which permits its subdomains too), a wildcard as its parent domain.
func permittedDomains(names hostNames) []string {
	var out []string
	for _, n := range names.dns {
		out = append(out, strings.TrimPrefix(n, "*."))
	}
	if len(out) == 0 {
		// No name at all: "localhost" rather than none, for an empty list
		// would leave DNS names unconstrained.
		out = []string{"localhost"}
	}
	return out
}

// permittedIPs are the IP constraints of a CA for names: exactly each
// address.
func permittedIPs(names hostNames) []*net.IPNet {
	var out []*net.IPNet
	for _, ip := range names.ips {
		out = append(out, &net.IPNet{IP: ip, Mask: net.CIDRMask(len(ip)*8, len(ip)*8)})
	}
	if len(out) == 0 {
		out = []*net.IPNet{{IP: net.IPv4(127, 0, 0, 1).To4(), Mask: net.CIDRMask(32, 32)}}
	}
	return out
}

// withinConstraints reports a name the CA may not vouch for. A CA made
// before azemu constrained its CAs has none, and covers every name.
func withinConstraints(ca *x509.Certificate, names hostNames) error {
	if len(ca.PermittedDNSDomains) > 0 {
	dns:
		for _, n := range names.dns {
			n = strings.TrimPrefix(n, "*.")
			for _, d := range ca.PermittedDNSDomains {
				if n == d || strings.HasSuffix(n, "."+d) {
					continue dns
				}
			}
			return fmt.Errorf("the CA may vouch only for %s, not for %q", strings.Join(ca.PermittedDNSDomains, ", "), n)
		}
	}
	if len(ca.PermittedIPRanges) > 0 {
	ips:
		for _, ip := range names.ips {
			for _, r := range ca.PermittedIPRanges {
				if r.Contains(ip) {
					continue ips
				}
			}
			return fmt.Errorf("the CA may vouch only for the addresses %v, not for %s", ca.PermittedIPRanges, ip)
		}
	}
	return nil
}

// serverProblem reports why the server pair on disk cannot be kept, or nil
// when it can.
func serverProblem(f Files, ca *x509.Certificate, hosts []string, now time.Time) error {
	pair, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		return err
	}
	leaf := pair.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return err
		}
	}
	if err := leaf.CheckSignatureFrom(ca); err != nil {
		return fmt.Errorf("not signed by the CA: %w", err)
	}
	if now.Before(leaf.NotBefore) {
		return fmt.Errorf("not valid before %s", leaf.NotBefore)
	}
	if !now.Add(renewBefore).Before(leaf.NotAfter) {
		return fmt.Errorf("expires on %s", leaf.NotAfter)
	}
	serverAuth := false
	for _, u := range leaf.ExtKeyUsage {
		serverAuth = serverAuth || u == x509.ExtKeyUsageServerAuth
	}
	if !serverAuth {
		return errors.New("no serverAuth extended key usage")
	}
	for _, h := range hosts {
		if err := leaf.VerifyHostname(h); err != nil {
			return err
		}
	}
	return nil
}

func issueServer(f Files, ca *x509.Certificate, caKey crypto.Signer, names hostNames, now time.Time) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("certs: generate server key: %w", err)
	}
	ski, err := subjectKeyID(key.Public())
	if err != nil {
		return err
	}
	aki := ca.SubjectKeyId
	if len(aki) == 0 {
		if aki, err = subjectKeyID(ca.PublicKey); err != nil {
			return err
		}
	}
	serial, err := randomSerial()
	if err != nil {
		return err
	}
	notBefore := now.Add(-backdate)
	notAfter := notBefore.Add(serverValidity)
	if notAfter.After(ca.NotAfter) {
		notAfter = ca.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: serverCommonName},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  false,
		DNSNames:              names.dns,
		IPAddresses:           names.ips,
		SubjectKeyId:          ski,
		AuthorityKeyId:        aki,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		return fmt.Errorf("certs: create server certificate: %w", err)
	}
	return writeKeyAndCert(f.Key, f.Cert, key, der)
}

// writeKeyAndCert writes the key first, then the certificate.
func writeKeyAndCert(keyPath, certPath string, key crypto.Signer, certDER []byte) error {
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("certs: marshal key: %w", err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	if err := writeFileAtomic(keyPath, keyPEM, keyPerm); err != nil {
		return err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certDER})
	return writeFileAtomic(certPath, certPEM, certPerm)
}

// writeFileAtomic replaces path with data: it writes a temporary file in the
// same directory, sets its mode, syncs it, renames it over path and syncs
// the directory.
func writeFileAtomic(path string, data []byte, perm fs.FileMode) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	tmpName := tmp.Name()
	closed := false
	defer func() {
		if err != nil {
			if !closed {
				_ = tmp.Close()
			}
			_ = os.Remove(tmpName)
			err = fmt.Errorf("certs: write %s: %w", path, err)
		}
	}()
	if err = tmp.Chmod(perm); err != nil {
		return err
	}
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	closed = true
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmpName, path); err != nil {
		return err
	}
	syncDir(dir)
	return nil
}

// syncDir makes a rename in dir durable. It is best effort: some systems
// (Windows) cannot sync a directory.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

func parseCertPEM(data []byte) (*x509.Certificate, error) {
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("no PEM certificate")
		}
		if block.Type == "CERTIFICATE" {
			return x509.ParseCertificate(block.Bytes)
		}
	}
}

// parseKeyPEM returns the first private key of data (PKCS#8, SEC 1 EC or
// PKCS#1 RSA).
func parseKeyPEM(data []byte) (crypto.Signer, error) {
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("no PEM private key")
		}
		var (
			key any
			err error
		)
		switch block.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, err
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("unsupported private key type %T", key)
		}
		return signer, nil
	}
}

func samePublicKey(a, b crypto.PublicKey) bool {
	ea, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && ea.Equal(b)
}

// subjectKeyID is the SHA-1 of the subjectPublicKey bit string (RFC 5280
// section 4.2.1.2, method 1).
func subjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("certs: marshal public key: %w", err)
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if rest, err := asn1.Unmarshal(der, &spki); err != nil {
		return nil, fmt.Errorf("certs: parse public key: %w", err)
	} else if len(rest) != 0 {
		return nil, errors.New("certs: trailing data after public key")
	}
	sum := sha1.Sum(spki.PublicKey.Bytes)
	return sum[:], nil
}

// randomSerial is a random positive serial number of at most 128 bits.
func randomSerial() (*big.Int, error) {
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	for {
		n, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return nil, fmt.Errorf("certs: serial number: %w", err)
		}
		if n.Sign() > 0 {
			return n, nil
		}
	}
}
