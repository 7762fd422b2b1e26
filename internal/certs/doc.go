// Package certs owns the TLS material of the emulator: a private certificate
// authority and the server certificate it issues, kept as PEM files under
// <data-dir>/tls/.
//
// On first start [Ensure] creates
//
//	ca.pem          the CA certificate; the file clients trust
//	                (SSL_CERT_FILE, REQUESTS_CA_BUNDLE, NODE_EXTRA_CA_CERTS,
//	                a Go x509.CertPool via [Pool])
//	ca-key.pem      the CA private key (0600)
//	server.pem      the server certificate, issued by the CA (0644)
//	server-key.pem  the server private key (0600)
//
// Later calls keep the CA, so a client configured once stays configured, and
// reissue only the server certificate when it is missing, unreadable, close
// to expiry, not signed by the CA on disk, or does not cover the requested
// host names. Every file is written atomically (temporary file, fsync,
// rename), so a crash never leaves a truncated file behind.
//
// The certificates are shaped for strict verifiers: Python's ssl with
// VERIFY_X509_STRICT (the default from 3.13), OpenSSL's -x509_strict, Node,
// curl and Go. The CA carries critical basicConstraints CA:TRUE with a path
// length of zero, critical keyUsage keyCertSign|cRLSign|digitalSignature and
// a Subject Key Identifier; the server certificate carries an Authority Key
// Identifier equal to the CA's Subject Key Identifier, its own Subject Key
// Identifier, extKeyUsage serverAuth, subjectAltName entries for every host,
// and a validity of at most 397 days. All keys are ECDSA P-256.
//
// [ServerConfig] turns the server pair into a *tls.Config for the HTTPS
// listener (TLS 1.2 minimum, ALPN h2 and http/1.1).
//
// The package imports only the standard library. Ensure does not lock the
// directory: callers must not run it concurrently on the same directory from
// several processes.
package certs
