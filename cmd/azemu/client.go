package main

// What the client subcommands (bill, clock, faults, reset, vm) share: flags
// with AZEMU_* twins, where the server is and the CA it is trusted by, and
// JSON over HTTPS with ARM's errors.

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/azemu/azemu/internal/certs"
)

// newFlags makes a flag set whose string flags each have an AZEMU_*
// environment twin, which sets the default.
func newFlags(name string, stderr io.Writer) (*flag.FlagSet, func(p *string, name, def, help string)) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs, func(p *string, name, def, help string) {
		if v, ok := os.LookupEnv(envName(name)); ok {
			def = v
		}
		fs.StringVar(p, name, def, help+" ("+envName(name)+")")
	}
}

// parseFlagsOnly parses a command that takes flags and no arguments; its
// -h prints intro before the flags.
func parseFlagsOnly(fs *flag.FlagSet, args []string, stderr io.Writer, intro string) error {
	fs.Usage = func() {
		fmt.Fprint(stderr, intro)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

func envName(flagName string) string {
	return "AZEMU_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseInterleaved parses flags that may come before, between or after the
// positional arguments (azemu clock advance 90s --output json), and returns
// the positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// endpoint is where a client finds a running server: its URL, and the CA
// its certificate chains to (by default the one the server wrote to its
// data directory on first start).
type endpoint struct {
	url, dataDir, ca       string
	clientID, clientSecret string
}

// addFlags registers --endpoint (and any older names of it), --data-dir
// and --ca.
func (e *endpoint) addFlags(fs *flag.FlagSet, str func(p *string, name, def, help string), aliases ...string) {
	home, _ := os.UserHomeDir()
	str(&e.url, "endpoint", "https://127.0.0.1:8443", "the azemu server")
	for _, a := range aliases {
		def := e.url
		if v, ok := os.LookupEnv(envName(a)); ok && os.Getenv(envName("endpoint")) == "" {
			def = v
			e.url = v
		}
		fs.StringVar(&e.url, a, def, "the same as --endpoint ("+envName(a)+")")
	}
	str(&e.dataDir, "data-dir", filepath.Join(home, ".azemu"), "the server's data directory, where it keeps its CA (tls/ca.pem)")
	str(&e.ca, "ca", "", "the CA certificate the server's certificate chains to (default <data-dir>/tls/ca.pem)")
	str(&e.clientID, "client-id", "", "with a server in the strict mode: the principal to sign in as (an admin, or an Owner of the subscription)")
	str(&e.clientSecret, "client-secret", "", "with --client-id: its secret")
}

// client is a client of a running server's own endpoints.
type client struct {
	base string
	http *http.Client
	cred azcore.TokenCredential // nil: no token is sent (the open mode)
}

// client trusts the server's CA for https servers.
func (e endpoint) client() (*client, error) {
	tr := &http.Transport{}
	base := strings.TrimRight(e.url, "/")
	if strings.HasPrefix(base, "https://") {
		ca := e.ca
		if ca == "" {
			ca = filepath.Join(e.dataDir, "tls", "ca.pem")
		}
		pool, err := certs.Pool(ca)
		if err != nil {
			return nil, fmt.Errorf("--ca: %w (the server writes it to <data-dir>/tls/ca.pem on first start)", err)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	c := &client{base: base, http: &http.Client{Transport: tr, Timeout: 5 * time.Minute}}
	if (e.clientID == "") != (e.clientSecret == "") {
		return nil, errors.New("--client-id and --client-secret go together")
	}
	if e.clientID != "" {
		// The stock credential, against the server's own token service
		// (tenant "adfs": its ADFS-style authority, which needs no
		// instance discovery).
		opts := &azidentity.ClientSecretCredentialOptions{ClientOptions: policy.ClientOptions{
			Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: base + "/"}, Transport: c.http}}
		cred, err := azidentity.NewClientSecretCredential("adfs", e.clientID, e.clientSecret, opts)
		if err != nil {
			return nil, err
		}
		c.cred = cred
	}
	return c, nil
}

func (c *client) get(path string, out any) error { return c.do(http.MethodGet, path, nil, out) }

// do sends body (when not nil) as JSON and decodes a 2xx answer into out
// (when not nil); any other answer is an error with ARM's code and message.
func (c *client) do(method, path string, body, out any) error {
	u := c.base + path
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		return err
	}
	if c.cred != nil {
		tok, err := c.cred.GetToken(req.Context(), policy.TokenRequestOptions{Scopes: []string{"https://management.core.windows.net//.default"}})
		if err != nil {
			return fmt.Errorf("signing in as --client-id: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+tok.Token)
	}
	if method != http.MethodGet {
		// The server refuses a state change without it (a cross-site
		// page could not send it).
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var e struct {
			Error struct{ Code, Message string }
		}
		if json.Unmarshal(data, &e) == nil && e.Error.Code != "" {
			return fmt.Errorf("%s: %s: %s", u, e.Error.Code, e.Error.Message)
		}
		return fmt.Errorf("%s: HTTP %d", u, resp.StatusCode)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s: %w", u, err)
	}
	return nil
}

// outputFlag registers --output.
func outputFlag(str func(p *string, name, def, help string)) *string {
	var o string
	str(&o, "output", "table", "table, or json")
	return &o
}

func checkOutput(o string) error {
	if o != "table" && o != "json" {
		return fmt.Errorf("--output must be table or json, not %q", o)
	}
	return nil
}

// newTable starts a table as the commands print one, with the header's
// tab-separated columns two spaces apart; Flush prints it.
func newTable(w io.Writer, header string) *tabwriter.Writer {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	return tw
}

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// helpOK turns -h into a clean exit.
func helpOK(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}
