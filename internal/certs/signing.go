package certs

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// EnsureSigningKey returns the RSA key kept at path, creating a 2048-bit
// one (PKCS#8 PEM, mode 0600, in a 0700 directory) when there is none. The
// token service signs with it, so tokens stay valid across restarts.
func EnsureSigningKey(path string) (*rsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		signer, err := parseKeyPEM(data)
		if err != nil {
			return nil, fmt.Errorf("certs: signing key %s: %w", path, err)
		}
		key, ok := signer.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("certs: signing key %s is a %T, not RSA", path, signer)
		}
		return key, nil
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("certs: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("certs: generate signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("certs: marshal signing key: %w", err)
	}
	if err := writeFileAtomic(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), keyPerm); err != nil {
		return nil, err
	}
	return key, nil
}
