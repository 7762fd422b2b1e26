package authz

import (
	"strings"
	"testing"
)

func TestAction(t *testing.T) {
	const sub = "/subscriptions/0b5c6a4d-1e2f-4a3b-8c7d-6e5f4a3b2c1d"
	vm := sub + "/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/web"
	for _, c := range []struct {
		method, path, action, scope string
	}{
		{"GET", sub, "Microsoft.Resources/subscriptions/read", sub},
		{"GET", sub + "/resourcegroups", "Microsoft.Resources/subscriptions/resourceGroups/read", sub},
		{"PUT", sub + "/resourceGroups/rg", "Microsoft.Resources/subscriptions/resourceGroups/write", sub + "/resourceGroups/rg"},
		{"DELETE", sub + "/resourceGroups/rg", "Microsoft.Resources/subscriptions/resourceGroups/delete", sub + "/resourceGroups/rg"},
		{"GET", vm, "Microsoft.Compute/virtualMachines/read", vm},
		{"PUT", vm, "Microsoft.Compute/virtualMachines/write", vm},
		{"PATCH", vm, "Microsoft.Compute/virtualMachines/write", vm},
		{"DELETE", vm, "Microsoft.Compute/virtualMachines/delete", vm},
		{"POST", vm + "/start", "Microsoft.Compute/virtualMachines/start/action", vm},
		{"POST", vm + "/deallocate", "Microsoft.Compute/virtualMachines/deallocate/action", vm},
		{"GET", vm + "/instanceView", "Microsoft.Compute/virtualMachines/instanceView/read", vm},
		{"PUT", vm + "/extensions/ama", "Microsoft.Compute/virtualMachines/extensions/write", vm + "/extensions/ama"},
		{"GET", sub + "/providers/Microsoft.Compute/virtualMachines", "Microsoft.Compute/virtualMachines/read", sub},
		{"GET", sub + "/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines", "Microsoft.Compute/virtualMachines/read", sub + "/resourceGroups/rg"},
		{"POST", sub + "/providers/Microsoft.CostManagement/query", "Microsoft.CostManagement/query/read", sub},
		{"POST", sub + "/resourceGroups/rg/providers/Microsoft.CostManagement/query", "Microsoft.CostManagement/query/read", sub + "/resourceGroups/rg"},
		{"GET", sub + "/providers/Microsoft.Compute/locations/eastus/operations/op1", "Microsoft.Compute/locations/operations/read", sub + "/providers/Microsoft.Compute/locations/eastus/operations/op1"},
		{"POST", sub + "/providers/Microsoft.Compute/register", "Microsoft.Compute/register/action", sub},
		{"GET", vm + "/providers/Microsoft.ResourceHealth/availabilityStatuses/current", "Microsoft.ResourceHealth/availabilityStatuses/read", vm + "/providers/Microsoft.ResourceHealth/availabilityStatuses/current"},
		{"POST", sub + "/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/set/virtualMachines/0/start", "Microsoft.Compute/virtualMachineScaleSets/virtualMachines/start/action", sub + "/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/set/virtualMachines/0"},
	} {
		segs := strings.Split(strings.TrimPrefix(c.path, "/"), "/")
		action, scope := Action(c.method, segs)
		if action != c.action || scope != c.scope {
			t.Errorf("%s %s:\n got  %s over %s\n want %s over %s", c.method, c.path, action, scope, c.action, c.scope)
		}
	}
}

const (
	subA = "aaaaaaaa-0000-4000-8000-000000000001"
	subB = "bbbbbbbb-0000-4000-8000-000000000002"
)

func TestAllows(t *testing.T) {
	d, err := ParseDirectory([]byte(`{"principals": [
		{"name": "owner", "clientId": "o", "clientSecret": "s", "roles": [{"role": "owner", "scope": "/subscriptions/`+subA+`"}]},
		{"name": "reader", "clientId": "r", "clientSecret": "s", "roles": [{"role": "Reader", "scope": "/subscriptions/`+subA+`"}]},
		{"name": "rg", "clientId": "g", "clientSecret": "s", "roles": [{"role": "Contributor", "scope": "/subscriptions/`+subB+`/resourceGroups/Team"}]}
	]}`), "72f988bf-86f1-41af-91ab-2d7cd011db47")
	if err != nil {
		t.Fatal(err)
	}
	get := func(id string) *Principal { p, _ := d.Lookup(id); return p }
	vmA := "/subscriptions/" + subA + "/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/web"
	teamB := "/subscriptions/" + subB + "/resourceGroups/team/providers/Microsoft.Compute/virtualMachines/web"
	otherB := "/subscriptions/" + subB + "/resourceGroups/other/providers/Microsoft.Compute/virtualMachines/web"
	for _, c := range []struct {
		who, action, scope string
		want               bool
	}{
		{"o", "Microsoft.Compute/virtualMachines/start/action", vmA, true},
		{"O", "Microsoft.Compute/virtualMachines/delete", vmA, true},
		{"o", "Microsoft.Compute/virtualMachines/read", teamB, false},
		{"r", "Microsoft.Compute/virtualMachines/read", vmA, true},
		{"r", "Microsoft.Compute/virtualMachines/start/action", vmA, false},
		{"r", "Microsoft.CostManagement/query/read", "/subscriptions/" + subA, true},
		{"g", "Microsoft.Compute/virtualMachines/start/action", strings.ToUpper(teamB), true},
		{"g", "Microsoft.Compute/virtualMachines/read", otherB, false},
		{"g", "Microsoft.Compute/virtualMachines/read", "/subscriptions/" + subB, false},
		{"g", "Microsoft.Resources/subscriptions/resourceGroups/read", "/subscriptions/" + subB + "/resourceGroups/teamx", false},
	} {
		if got := get(c.who).Allows(c.action, c.scope); got != c.want {
			t.Errorf("%s may %s over %s: %v, want %v", c.who, c.action, c.scope, got, c.want)
		}
	}
	if s := get("g").Subscriptions(); len(s) != 1 || s[0] != subB {
		t.Errorf("subscriptions of an RG contributor: %v", s)
	}
	if !get("o").OwnsSubscription(strings.ToUpper(subA)) || get("r").OwnsSubscription(subA) || get("g").OwnsSubscription(subB) {
		t.Error("OwnsSubscription")
	}
	if o := get("o"); o.ObjectID != DerivedGUID("object:o") || !IsGUID(o.ObjectID) || o.TenantID != "72f988bf-86f1-41af-91ab-2d7cd011db47" {
		t.Errorf("defaults: %+v", o)
	}
}

func TestParseDirectoryRefuses(t *testing.T) {
	for name, doc := range map[string]string{
		"empty":         `{"principals": []}`,
		"no secret":     `{"principals": [{"clientId": "a"}]}`,
		"bad role":      `{"principals": [{"clientId": "a", "clientSecret": "s", "roles": [{"role": "Admin", "scope": "/subscriptions/` + subA + `"}]}]}`,
		"bad scope":     `{"principals": [{"clientId": "a", "clientSecret": "s", "roles": [{"role": "Reader", "scope": "/subscriptions/x"}]}]}`,
		"vm scope":      `{"principals": [{"clientId": "a", "clientSecret": "s", "roles": [{"role": "Reader", "scope": "/subscriptions/` + subA + `/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/v"}]}]}`,
		"twice":         `{"principals": [{"clientId": "a", "clientSecret": "s"}, {"clientId": "A", "clientSecret": "t"}]}`,
		"bad tenant":    `{"principals": [{"clientId": "a", "clientSecret": "s", "tenantId": "contoso"}]}`,
		"unknown field": `{"principals": [{"clientId": "a", "clientSecret": "s", "role": "Owner"}]}`,
		"not json":      `principals:`,
		"bad cert":      `{"principals": [{"clientId": "a", "certificate": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}]}`,
	} {
		if _, err := ParseDirectory([]byte(doc), subA); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestDenied(t *testing.T) {
	got := Denied("oid", "Microsoft.Compute/virtualMachines/start/action", "/subscriptions/x")
	want := "The client 'oid' with object id 'oid' does not have authorization to perform action 'Microsoft.Compute/virtualMachines/start/action' over scope '/subscriptions/x' or the scope is invalid. If access was recently granted, please refresh your credentials."
	if got != want {
		t.Fatalf("got %s", got)
	}
}
