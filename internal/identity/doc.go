// Package identity is azemu's token service: the cloud metadata clients
// read (/metadata/endpoints), OpenID discovery, JWKS and client-credential
// token endpoints under an ADFS-style authority (/adfs) and AAD-style
// tenant paths, tokens as RS256 JWTs signed with a key kept under the data
// directory, and their verification in the strict mode. Who may do what is
// decided by internal/authz.
package identity
