package identity

import (
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/azemu/azemu/internal/authz"
	"github.com/azemu/azemu/internal/certs"
)

// DefaultTenant is the tenant of the open mode and of principals that name
// none. It is the tenant azemu's subscriptions have always reported.
const DefaultTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"

// DefaultSubscription is the subscription the open mode always lists, so a
// fresh emulator has one to sign in to.
const DefaultSubscription = "00000000-0000-0000-0000-000000000001"

// tokenLifetime is how long a token lasts: Azure's are 60 to 90 minutes.
const tokenLifetime = time.Hour

// armAudiences are the audiences Resource Manager accepts, as Azure lists
// them; a token for azemu's own URL is accepted too.
var armAudiences = []string{
	"https://management.core.windows.net/", "https://management.core.windows.net",
	"https://management.azure.com/", "https://management.azure.com",
}

// Config wires the token service.
type Config struct {
	DataDir string           // the signing key lives at <DataDir>/identity/signing-key.pem
	Now     func() time.Time // the emulator's clock: tokens expire on it
	// Directory holds the principals of the strict mode; nil is the open
	// mode, where any client gets a token and any token is accepted.
	Directory *authz.Directory
	Logger    *slog.Logger
}

// Service is azemu's token service: it issues tokens, serves what clients
// discover before asking for one, and verifies tokens in the strict mode.
type Service struct {
	cfg Config
	key *rsa.PrivateKey
	kid string
	log *slog.Logger
}

// New loads the signing key (creating it on first start).
func New(cfg Config) (*Service, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("identity: a data directory is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	key, err := certs.EnsureSigningKey(filepath.Join(cfg.DataDir, "identity", "signing-key.pem"))
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(key.PublicKey.N.Bytes())
	return &Service{cfg: cfg, key: key, kid: base64.RawURLEncoding.EncodeToString(sum[:20]), log: cfg.Logger}, nil
}

// Strict reports whether only azemu's own tokens of known principals pass.
func (s *Service) Strict() bool { return s.cfg.Directory != nil }

// Directory is the strict mode's principals (nil in the open mode).
func (s *Service) Directory() *authz.Directory { return s.cfg.Directory }

// claims are what azemu's tokens say, as Azure's access tokens say it.
type claims struct {
	jwt.RegisteredClaims
	TenantID string `json:"tid"`
	ObjectID string `json:"oid"`
	AppID    string `json:"appid"`
	IDType   string `json:"idtyp,omitempty"`
	Version  string `json:"ver,omitempty"`
}

// MarshalJSON writes aud as one string, as Azure's access tokens do: some
// clients (go-azure-sdk, under Terraform's azurerm provider) read it into a
// string and refuse an array.
func (c claims) MarshalJSON() ([]byte, error) {
	type plain claims
	var aud string
	if len(c.Audience) > 0 {
		aud = c.Audience[0]
	}
	return json.Marshal(struct {
		plain
		Audience string `json:"aud,omitempty"`
	}{plain(c), aud})
}

// grant is one token to issue.
type grant struct {
	issuer, audience           string
	tenant, clientID, objectID string
	version                    string
}

// issue signs a token and says when it expires.
func (s *Service) issue(g grant) (string, time.Time, time.Time, error) {
	now := s.cfg.Now().UTC().Truncate(time.Second)
	exp := now.Add(tokenLifetime)
	c := claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    g.issuer,
			Subject:   g.objectID,
			Audience:  jwt.ClaimStrings{g.audience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
		},
		TenantID: g.tenant, ObjectID: g.objectID, AppID: g.clientID, IDType: "app", Version: g.version,
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	tok.Header["kid"] = s.kid
	signed, err := tok.SignedString(s.key)
	return signed, now, exp, err
}

// Caller is who a request comes from.
type Caller struct {
	// Principal is the strict mode's principal; nil in the open mode, where
	// every caller may do everything.
	Principal *authz.Principal
	TenantID  string
}

// Anyone is the caller of the open mode.
var Anyone = Caller{TenantID: DefaultTenant}

// Allows reports whether the caller may perform action over scope.
func (c Caller) Allows(action, scope string) bool {
	return c.Principal == nil || c.Principal.Allows(action, scope)
}

// Admin reports whether the caller may steer the whole emulator.
func (c Caller) Admin() bool { return c.Principal == nil || c.Principal.Admin }

// OwnsSubscription reports whether the caller may steer one subscription
// through the emulator's endpoints.
func (c Caller) OwnsSubscription(sub string) bool {
	return c.Principal == nil || c.Principal.Admin || c.Principal.OwnsSubscription(sub)
}

// SeesSubscription reports whether the caller holds any role in sub.
func (c Caller) SeesSubscription(sub string) bool {
	if c.Principal == nil {
		return true
	}
	for _, s := range c.Principal.Subscriptions() {
		if strings.EqualFold(s, sub) {
			return true
		}
	}
	return false
}

// ObjectID is the caller's object ID ("" in the open mode).
func (c Caller) ObjectID() string {
	if c.Principal == nil {
		return ""
	}
	return c.Principal.ObjectID
}

// TokenError is why a token was refused, with the ARM error code to answer.
type TokenError struct {
	Code    string // InvalidAuthenticationToken, ExpiredAuthenticationToken, InvalidAuthenticationTokenAudience
	Message string
}

func (e *TokenError) Error() string { return e.Code + ": " + e.Message }

// Authenticate decides who a bearer token belongs to. In the open mode any
// token is anyone; in the strict mode the token must be azemu's, unexpired,
// for Resource Manager (or azemu's own URL, base), and of a known principal.
func (s *Service) Authenticate(token, base string) (Caller, error) {
	if !s.Strict() {
		return Anyone, nil
	}
	invalid := &TokenError{Code: "InvalidAuthenticationToken", Message: "The access token is invalid."}
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		if kid, _ := t.Header["kid"].(string); kid != s.kid {
			return nil, errors.New("unknown signing key")
		}
		return &s.key.PublicKey, nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithExpirationRequired(), jwt.WithTimeFunc(s.cfg.Now))
	if err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) && c.ExpiresAt != nil {
			return Caller{}, &TokenError{Code: "ExpiredAuthenticationToken", Message: fmt.Sprintf(
				"The access token expiry UTC time '%s' is earlier than current UTC time '%s'.",
				azureTime(c.ExpiresAt.Time), azureTime(s.cfg.Now()))}
		}
		return Caller{}, invalid
	}
	if !audienceAccepted(c.Audience, base) {
		aud := ""
		if len(c.Audience) > 0 {
			aud = c.Audience[0]
		}
		return Caller{}, &TokenError{Code: "InvalidAuthenticationTokenAudience", Message: fmt.Sprintf(
			"The access token has been obtained for wrong audience or resource '%s'. It should exactly match with one of the allowed audiences '%s'.",
			aud, strings.Join(append(armAudiences, base+"/", base), "','"))}
	}
	p, ok := s.cfg.Directory.Lookup(c.AppID)
	if !ok || !strings.EqualFold(p.ObjectID, c.ObjectID) {
		return Caller{}, invalid
	}
	return Caller{Principal: p, TenantID: p.TenantID}, nil
}

func audienceAccepted(auds jwt.ClaimStrings, base string) bool {
	for _, a := range auds {
		if strings.EqualFold(strings.TrimSuffix(a, "/"), base) {
			return true
		}
		for _, ok := range armAudiences {
			if a == ok {
				return true
			}
		}
	}
	return false
}

// azureTime formats an instant as Azure's token errors do: 11/27/2026 5:04:00 AM.
func azureTime(t time.Time) string { return t.UTC().Format("1/2/2006 3:04:05 PM") }

// PrincipalOf is Authenticate for callers that only need the principal
// (the dashboard): the strict mode's principal of a valid token.
func (s *Service) PrincipalOf(token, base string) (*authz.Principal, error) {
	c, err := s.Authenticate(token, base)
	if err != nil {
		return nil, err
	}
	if c.Principal == nil {
		return nil, errors.New("identity: the open mode has no principals")
	}
	return c.Principal, nil
}

// Mint issues a principal a Resource Manager token, as its client
// credentials would get from the ADFS-style authority at base.
func (s *Service) Mint(p *authz.Principal, base string) (string, error) {
	tok, _, _, err := s.issue(grant{issuer: base + "/adfs", audience: armAudiences[0], tenant: p.TenantID,
		clientID: p.ClientID, objectID: p.ObjectID, version: "1.0"})
	return tok, err
}
