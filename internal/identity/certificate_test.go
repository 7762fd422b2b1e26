package identity

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/azemu/azemu/internal/authz"
)

// selfSigned makes a certificate and key as `openssl req -x509` would.
func selfSigned(t *testing.T, cn string) (*x509.Certificate, *rsa.PrivateKey, string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert, key, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// The stock ClientCertificateCredential signs in to the strict mode with
// the certificate a principal names, under the ADFS-style authority (an
// RS256 assertion) and the AAD-style one (PS256); another key is refused.
func TestCertificateCredential(t *testing.T) {
	cert, key, certPEM := selfSigned(t, "cert-app")
	otherCert, otherKey, _ := selfSigned(t, "intruder")
	dir, err := authz.ParseDirectory([]byte(`{"principals": [{"name": "cert", "clientId": "cert-app", "tenantId": "`+tenant+`",
		"certificate": `+strings.ReplaceAll(jsonString(certPEM), "\n", "")+`, "roles": [{"role": "Reader", "scope": "/subscriptions/`+subA+`"}]}]}`), DefaultTenant)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := New(Config{DataDir: t.TempDir(), Directory: dir})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(svc.Handler(http.NotFoundHandler()))
	defer srv.Close()
	opts := policy.ClientOptions{Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: srv.URL + "/"}, Transport: srv.Client()}
	scope := policy.TokenRequestOptions{Scopes: []string{armScope}}
	for _, tenantID := range []string{"adfs", tenant} {
		cred, err := azidentity.NewClientCertificateCredential(tenantID, "cert-app", []*x509.Certificate{cert}, key,
			&azidentity.ClientCertificateCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: true})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := cred.GetToken(context.Background(), scope)
		if err != nil {
			t.Fatalf("%s: %v", tenantID, err)
		}
		if c, err := svc.Authenticate(tok.Token, srv.URL); err != nil || c.Principal.ClientID != "cert-app" {
			t.Fatalf("%s: the token: %+v %v", tenantID, c, err)
		}
		intruder, err := azidentity.NewClientCertificateCredential(tenantID, "cert-app", []*x509.Certificate{otherCert}, otherKey,
			&azidentity.ClientCertificateCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := intruder.GetToken(context.Background(), scope); err == nil || !strings.Contains(err.Error(), "AADSTS700027") {
			t.Fatalf("%s: an assertion signed by another key: %v", tenantID, err)
		}
	}
	// A certificate-only principal has no secret that passes.
	code, body, _ := (&rig{t: t, svc: svc}).call("POST", "/adfs/oauth2/token", secretForm("cert-app", "anything", armScope))
	if code != 401 || body["error"] != "invalid_client" {
		t.Fatalf("a certificate-only principal without an assertion: %d %v", code, body)
	}
}

func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '\n':
			b.WriteString(`\n`)
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
