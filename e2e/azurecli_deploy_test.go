package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAzureCLIDeployment deploys a template with Debian's Azure CLI (2.45),
// which sends the template file's text under an unquoted name, and reads
// the deployment back the ways the CLI offers: show, the operations list,
// export, validate (a refusal naming the function), delete.
func TestAzureCLIDeployment(t *testing.T) {
	srv := startServer(t, t.TempDir(), "--clock", "real", "--speed", "1000")
	az := newAzCLI(t, srv)
	az.run("cloud", "register", "-n", "azemu", "--endpoint-resource-manager", srv.base, "--profile", "2020-09-01-hybrid")
	az.run("cloud", "set", "-n", "azemu")
	az.run("login", "--service-principal", "-u", "cli-app", "-p", "cli-secret", "--tenant", "72f988bf-86f1-41af-91ab-2d7cd011db47", "-o", "none")
	az.run("group", "create", "-n", "deploy-rg", "-l", "westeurope", "-o", "none")
	dir := t.TempDir()
	file := filepath.Join(dir, "fleet.json")
	// A comment, as template files may carry.
	if err := os.WriteFile(file, []byte("// the fleet\n"+fleetTemplate), 0o644); err != nil {
		t.Fatal(err)
	}
	var created struct {
		Name       string
		Properties struct {
			ProvisioningState string
			Outputs           map[string]struct{ Value any }
			OutputResources   []struct{ ID string }
		}
	}
	az.json(&created, "deployment", "group", "create", "-g", "deploy-rg", "-n", "fleet", "--template-file", file,
		"--parameters", "webCount=2", "adminPassword=Example-Passw0rd")
	if created.Name != "fleet" || created.Properties.ProvisioningState != "Succeeded" || len(created.Properties.OutputResources) != 11 ||
		created.Properties.Outputs["diskGB"].Value != float64(64) || created.Properties.Outputs["web0PrivateIP"].Value != "10.1.0.5" {
		t.Fatalf("az deployment group create: %+v", created)
	}
	if got := az.strs("deployment", "operation", "group", "list", "-g", "deploy-rg", "-n", "fleet",
		"--query", "[].properties.targetResource.resourceName"); !same(got, "web-nsg", "web-vnet", "web-db-nic", "web-0-nic", "web-1-nic",
		"web-db", "web-db/setup", "web-0-data", "web-1-data", "web-0", "web-1") {
		t.Fatalf("az deployment operation group list: %v", got)
	}
	// What If of the same template: nothing would change.
	var whatIf struct {
		Status  string
		Changes []struct{ ResourceID, ChangeType string }
	}
	az.json(&whatIf, "deployment", "group", "what-if", "-g", "deploy-rg", "-n", "fleet", "--template-file", file,
		"--parameters", "webCount=2", "adminPassword=Example-Passw0rd", "--no-pretty-print")
	if whatIf.Status != "Succeeded" || len(whatIf.Changes) != 11 {
		t.Fatalf("az deployment group what-if: %+v", whatIf)
	}
	for _, ch := range whatIf.Changes {
		if ch.ChangeType != "NoChange" {
			t.Errorf("az deployment group what-if: %s %s", ch.ChangeType, ch.ResourceID)
		}
	}
	if got := az.str("deployment", "group", "show", "-g", "deploy-rg", "-n", "fleet", "--query", "properties.parameters.adminPassword.type"); got != "SecureString" {
		t.Fatalf("az deployment group show: the secure parameter is %q", got)
	}
	// The CLI prints the exported template itself, whatever --query says.
	var exported struct {
		ContentVersion string
		Resources      []any
	}
	az.json(&exported, "deployment", "group", "export", "-g", "deploy-rg", "-n", "fleet")
	if exported.ContentVersion != "1.0.0.0" || len(exported.Resources) != 8 {
		t.Fatalf("az deployment group export: %+v", exported)
	}
	if got := az.strs("vm", "list", "-g", "deploy-rg", "--query", "[].name"); !same(got, "web-db", "web-0", "web-1") {
		t.Fatalf("az vm list: %v", got)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"contentVersion": "1.0.0.0", "resources": [{"type": "Microsoft.Compute/disks",
  "apiVersion": "2024-03-02", "name": "[bogusName('d')]", "location": "westeurope"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := az.try("deployment", "group", "validate", "-g", "deploy-rg", "-n", "bad", "--template-file", bad); err == nil ||
		!strings.Contains(err.Error(), "InvalidTemplate") || !strings.Contains(err.Error(), "The template function 'bogusName' is not valid") {
		t.Fatalf("az deployment group validate of a bad template: %s %v", out, err)
	}
	az.run("deployment", "group", "delete", "-g", "deploy-rg", "-n", "fleet")
	if got := az.strs("deployment", "group", "list", "-g", "deploy-rg", "--query", "[].name"); len(got) != 0 {
		t.Fatalf("deployments left: %v", got)
	}
	az.run("group", "delete", "-n", "deploy-rg", "--yes")
	if got := az.strs("group", "list", "--query", "[].name"); len(got) != 0 {
		t.Fatalf("groups left: %v", got)
	}
}
