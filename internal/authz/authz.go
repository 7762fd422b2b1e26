package authz

import (
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Role is a built-in Azure role azemu knows.
type Role string

// The built-in roles. Owner and Contributor may do everything azemu serves
// (it has no role assignment API for Owner to add to); Reader may only read.
const (
	Owner       Role = "Owner"
	Contributor Role = "Contributor"
	Reader      Role = "Reader"
)

// Assignment grants a role at a scope: /subscriptions/{id} or
// /subscriptions/{id}/resourceGroups/{name}.
type Assignment struct {
	Role  Role   `json:"role"`
	Scope string `json:"scope"`
}

// Principal is a service principal: what signs in with a client ID and a
// secret, and what it may do.
type Principal struct {
	Name         string `json:"name"`
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
	// Certificate (PEM) lets the principal sign in with a client assertion
	// signed by the certificate's key, as ClientCertificateCredential does.
	Certificate string       `json:"certificate"`
	TenantID    string       `json:"tenantId"`
	ObjectID    string       `json:"objectId"`
	Admin       bool         `json:"admin"` // may steer the whole emulator: reset, clock, faults
	Roles       []Assignment `json:"roles"`

	certKey crypto.PublicKey
}

// CertificateKey is the public key of the principal's certificate, or nil.
func (p *Principal) CertificateKey() crypto.PublicKey { return p.certKey }

// Directory is the principals of the strict mode, by client ID.
type Directory struct {
	byClient map[string]*Principal
	list     []*Principal
}

// ParseDirectory reads a principals file:
//
//	{"principals": [{"name": "ci", "clientId": "...", "clientSecret": "...",
//	  "tenantId": "...", "roles": [{"role": "Contributor", "scope": "/subscriptions/..."}]}]}
//
// defaultTenant is the tenant of a principal that names none; an object ID
// left out is derived from the client ID, so it is stable across restarts.
func ParseDirectory(data []byte, defaultTenant string) (*Directory, error) {
	var file struct {
		Principals []*Principal `json:"principals"`
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&file); err != nil {
		return nil, fmt.Errorf("principals: %w", err)
	}
	if len(file.Principals) == 0 {
		return nil, errors.New("principals: the file lists no principal")
	}
	d := &Directory{byClient: map[string]*Principal{}}
	for i, p := range file.Principals {
		where := fmt.Sprintf("principals[%d]", i)
		if p.Name != "" {
			where += " (" + p.Name + ")"
		}
		if p.ClientID == "" || p.ClientSecret == "" && p.Certificate == "" {
			return nil, fmt.Errorf("%s: clientId and a clientSecret or certificate are required", where)
		}
		if p.Certificate != "" {
			block, _ := pem.Decode([]byte(p.Certificate))
			if block == nil || block.Type != "CERTIFICATE" {
				return nil, fmt.Errorf("%s: certificate is not a PEM certificate", where)
			}
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%s: certificate: %w", where, err)
			}
			p.certKey = cert.PublicKey
		}
		if p.TenantID == "" {
			p.TenantID = defaultTenant
		}
		if !IsGUID(p.TenantID) {
			return nil, fmt.Errorf("%s: tenantId %q is not a GUID", where, p.TenantID)
		}
		p.TenantID = strings.ToLower(p.TenantID)
		if p.ObjectID == "" {
			p.ObjectID = DerivedGUID("object:" + strings.ToLower(p.ClientID))
		}
		if !IsGUID(p.ObjectID) {
			return nil, fmt.Errorf("%s: objectId %q is not a GUID", where, p.ObjectID)
		}
		key := strings.ToLower(p.ClientID)
		if d.byClient[key] != nil {
			return nil, fmt.Errorf("%s: clientId %q is listed twice", where, p.ClientID)
		}
		for j, a := range p.Roles {
			role, ok := parseRole(string(a.Role))
			if !ok {
				return nil, fmt.Errorf("%s: roles[%d]: role %q is not Owner, Contributor or Reader", where, j, a.Role)
			}
			scope, ok := canonicalScope(a.Scope)
			if !ok {
				return nil, fmt.Errorf("%s: roles[%d]: scope %q is not /subscriptions/{id} or /subscriptions/{id}/resourceGroups/{name}", where, j, a.Scope)
			}
			p.Roles[j] = Assignment{Role: role, Scope: scope}
		}
		d.byClient[key] = p
		d.list = append(d.list, p)
	}
	return d, nil
}

// Lookup finds a principal by client ID (case-insensitively).
func (d *Directory) Lookup(clientID string) (*Principal, bool) {
	p, ok := d.byClient[strings.ToLower(clientID)]
	return p, ok
}

// Principals lists the principals in file order.
func (d *Directory) Principals() []*Principal { return d.list }

func parseRole(s string) (Role, bool) {
	for _, r := range []Role{Owner, Contributor, Reader} {
		if strings.EqualFold(s, string(r)) {
			return r, true
		}
	}
	return "", false
}

// canonicalScope lower-cases a subscription or resource group scope and
// checks its form.
func canonicalScope(s string) (string, bool) {
	parts := strings.Split(strings.Trim(s, "/"), "/")
	switch {
	case len(parts) == 2 && strings.EqualFold(parts[0], "subscriptions") && IsGUID(parts[1]):
	case len(parts) == 4 && strings.EqualFold(parts[0], "subscriptions") && IsGUID(parts[1]) && strings.EqualFold(parts[2], "resourceGroups") && parts[3] != "":
	default:
		return "", false
	}
	return strings.ToLower("/" + strings.Join(parts, "/")), true
}

// within reports whether scope (a resource ID, lower-cased) lies at or
// under the assignment's scope.
func within(scope, assigned string) bool {
	return scope == assigned || strings.HasPrefix(scope, assigned+"/")
}

// Allows reports whether the principal may perform action over scope (an
// ARM resource ID or scope path). Reading is any action ending in /read.
func (p *Principal) Allows(action, scope string) bool {
	scope = strings.ToLower(strings.TrimRight(scope, "/"))
	read := strings.HasSuffix(strings.ToLower(action), "/read")
	for _, a := range p.Roles {
		if !within(scope, a.Scope) {
			continue
		}
		if a.Role != Reader || read {
			return true
		}
	}
	return false
}

// Subscriptions lists the subscriptions (lower-cased IDs) the principal
// holds any role in, at its scope or at one of its resource groups: those
// GET /subscriptions shows it.
func (p *Principal) Subscriptions() []string {
	seen := map[string]bool{}
	var out []string
	for _, a := range p.Roles {
		sub := strings.Split(strings.TrimPrefix(a.Scope, "/"), "/")[1]
		if !seen[sub] {
			seen[sub] = true
			out = append(out, sub)
		}
	}
	sort.Strings(out)
	return out
}

// OwnsSubscription reports whether the principal is Owner of the whole
// subscription: what the emulator endpoints of one subscription require.
func (p *Principal) OwnsSubscription(sub string) bool {
	scope := "/subscriptions/" + strings.ToLower(sub)
	for _, a := range p.Roles {
		if a.Role == Owner && a.Scope == scope {
			return true
		}
	}
	return false
}

// Denied is Azure's message for a refused action.
func Denied(objectID, action, scope string) string {
	return fmt.Sprintf("The client '%s' with object id '%s' does not have authorization to perform action '%s' over scope '%s' or the scope is invalid. If access was recently granted, please refresh your credentials.",
		objectID, objectID, action, scope)
}
