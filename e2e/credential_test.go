package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v7"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
)

// stockCloud is the cloud configuration a user writes for azemu: its URL
// as the authority host and as Resource Manager.
func (s *server) stockCloud() policy.ClientOptions {
	return policy.ClientOptions{
		Cloud: cloud.Configuration{
			ActiveDirectoryAuthorityHost: s.base + "/",
			Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
				cloud.ResourceManager: {Audience: "https://management.core.windows.net/", Endpoint: s.base},
			},
		},
		Transport: s.http,
	}
}

// secretCredential is azidentity's stock ClientSecretCredential. With the
// tenant "adfs" MSAL uses the ADFS-style authority; with a tenant GUID it
// uses the AAD-style one, and instance discovery (a call to
// login.microsoftonline.com) must be off, as in any disconnected cloud.
func (s *server) secretCredential(t *testing.T, tenant, clientID, secret string) azcore.TokenCredential {
	t.Helper()
	cred, err := azidentity.NewClientSecretCredential(tenant, clientID, secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions: s.stockCloud(), DisableInstanceDiscovery: tenant != "adfs"})
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

func (s *server) stockARMOptions() *arm.ClientOptions {
	return &arm.ClientOptions{ClientOptions: s.stockCloud()}
}

// createVMWith creates a resource group and a VM through the SDK with cred,
// and waits for the create.
func (s *server) createVMWith(t *testing.T, cred azcore.TokenCredential, sub, rg, name string) error {
	t.Helper()
	ctx := context.Background()
	groups, err := armresources.NewResourceGroupsClient(sub, cred, s.stockARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := groups.CreateOrUpdate(ctx, rg, armresources.ResourceGroup{Location: ptr("eastus")}, nil); err != nil {
		return err
	}
	vms, err := armcompute.NewVirtualMachinesClient(sub, cred, s.stockARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	vm := linuxVM("eastus")
	vm.Properties.NetworkProfile.NetworkInterfaces[0].ID = ptr("/subscriptions/" + sub + "/resourceGroups/" + rg + "/providers/Microsoft.Network/networkInterfaces/" + name + "-nic")
	if _, err := vms.BeginCreateOrUpdate(ctx, rg, name, vm, nil); err != nil {
		return err
	}
	return nil
}

// listVMNames lists a subscription's VMs through the Go SDK with cred.
func (s *server) listVMNames(t *testing.T, cred azcore.TokenCredential, sub string) ([]string, error) {
	t.Helper()
	vms, err := armcompute.NewVirtualMachinesClient(sub, cred, s.stockARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	pager := vms.NewListAllPager(nil)
	for pager.More() {
		page, err := pager.NextPage(context.Background())
		if err != nil {
			return nil, err
		}
		for _, vm := range page.Value {
			names = append(names, *vm.Name)
		}
	}
	slices.Sort(names)
	return names, nil
}

// needTool skips a test whose tool is missing, or fails it under CI, where
// .ci/run installs it.
func needTool(t *testing.T, what string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is missing (.ci/run installs it)", what)
	}
	t.Skipf("%s is missing; .ci/run installs it", what)
}

// pythonWithAzure finds a Python that imports azure-identity and
// azure-mgmt-compute and azure-mgmt-resource (Debian's python3-azure).
func pythonWithAzure(t *testing.T) string {
	t.Helper()
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(py, "-c", "import azure.identity, azure.mgmt.compute, azure.mgmt.resource").Run() == nil {
			return py
		}
	}
	needTool(t, "Python with azure-identity and azure-mgmt-compute (Debian's python3-azure)")
	return ""
}

// nodeWithAzure finds node and the npm packages of e2e/js: @azure/identity,
// @azure/arm-resources, and @azure/arm-compute at its current major and, as
// arm-compute-22, at 22.x.
func nodeWithAzure(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		needTool(t, "node")
	}
	for _, pkg := range []string{"@azure/identity", "@azure/arm-compute", "arm-compute-22", "@azure/arm-resources"} {
		if _, err := os.Stat(filepath.Join("js", "node_modules", filepath.FromSlash(pkg), "package.json")); err != nil {
			needTool(t, "e2e/js/node_modules/"+pkg+" (npm ci in e2e/js)")
		}
	}
	return node
}

// clientListing is what the Python and JS programs print.
type clientListing struct {
	TokenExpires float64  `json:"tokenExpires"`
	VMs          []string `json:"vms"`
}

// runLister runs a stock-credential program: it signs in and lists a
// subscription's VMs. A non-zero exit is returned as the error.
func (s *server) runLister(t *testing.T, cmd *exec.Cmd) (clientListing, error) {
	t.Helper()
	ca := filepath.Join(s.dataDir, "tls", "ca.pem")
	cmd.Env = append(os.Environ(), "REQUESTS_CA_BUNDLE="+ca, "SSL_CERT_FILE="+ca, "NODE_EXTRA_CA_CERTS="+ca)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return clientListing{}, &listerError{err: err, stderr: stderr.String()}
	}
	var out clientListing
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("%s: %v in %q (stderr %s)", cmd.Args[0], err, stdout.String(), stderr.String())
	}
	slices.Sort(out.VMs)
	return out, nil
}

type listerError struct {
	err    error
	stderr string
}

func (e *listerError) Error() string { return e.err.Error() + ": " + e.stderr }

func (s *server) pythonList(t *testing.T, tenant, clientID, secret, sub string) (clientListing, error) {
	py := pythonWithAzure(t)
	return s.runLister(t, exec.Command(py, filepath.Join("python", "list_vms.py"), s.base, tenant, clientID, secret, sub))
}

func (s *server) nodeList(t *testing.T, tenant, clientID, secret, sub string) (clientListing, error) {
	node := nodeWithAzure(t)
	return s.runLister(t, exec.Command(node, filepath.Join("js", "list-vms.mjs"), s.base, tenant, clientID, secret, sub))
}

// TestStockCredentialsOpenMode: in the default open mode, the stock
// ClientSecretCredential of Go, Python and JS gets a token from azemu for
// any client ID and secret, and the SDKs use it.
func TestStockCredentialsOpenMode(t *testing.T) {
	srv := startServer(t, t.TempDir())
	const sub = "3f0c2a5e-8d1b-4c6a-9e7f-1a2b3c4d5e6f"

	// ADFS-style authority: tenant "adfs".
	adfs := srv.secretCredential(t, "adfs", "go-app", "any-secret")
	if err := srv.createVMWith(t, adfs, sub, "rg-cred", "web"); err != nil {
		t.Fatal(err)
	}
	// AAD-style authority: a tenant GUID, /{tenant}/v2.0/.well-known/... and /{tenant}/oauth2/v2.0/token.
	aad := srv.secretCredential(t, "0b5c6a4d-1e2f-4a3b-8c7d-6e5f4a3b2c1d", "go-app-2", "another-secret")
	names, err := srv.listVMNames(t, aad, sub)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(names, ",") != "web" {
		t.Fatalf("Go SDK lists %v, want [web]", names)
	}
	tok, err := aad.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://management.core.windows.net//.default"}})
	if err != nil {
		t.Fatal(err)
	}
	if c := tokenClaims(t, tok.Token); c["tid"] != "0b5c6a4d-1e2f-4a3b-8c7d-6e5f4a3b2c1d" || c["appid"] != "go-app-2" || c["aud"] != "https://management.core.windows.net/" || c["oid"] == "" {
		t.Fatalf("token claims: %v", c)
	}

	// The default subscription is listed on a fresh server.
	var subs struct {
		Value []struct {
			SubscriptionID string `json:"subscriptionId"`
		} `json:"value"`
	}
	if code := srv.do("GET", "/subscriptions?api-version=2022-12-01", nil, &subs); code != 200 || len(subs.Value) != 2 || subs.Value[0].SubscriptionID != "00000000-0000-0000-0000-000000000001" {
		t.Fatalf("GET /subscriptions: HTTP %d %+v", code, subs)
	}

	t.Run("python", func(t *testing.T) {
		out, err := srv.pythonList(t, "adfs", "py-app", "py-secret", sub)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(out.VMs, ",") != "web" || out.TokenExpires == 0 {
			t.Fatalf("python lists %+v", out)
		}
	})
	t.Run("js", func(t *testing.T) {
		out, err := srv.nodeList(t, "adfs", "js-app", "js-secret", sub)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(out.VMs, ",") != "web" || out.TokenExpires == 0 {
			t.Fatalf("js lists %+v", out)
		}
	})
}

// tokenClaims decodes a JWT's payload without checking it: the test reads
// what azemu put in.
func tokenClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	payload, err := base64RawURL(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	if aud, ok := c["aud"].([]any); ok && len(aud) == 1 {
		c["aud"] = aud[0]
	}
	return c
}

func base64RawURL(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }
