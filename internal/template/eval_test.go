package template

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/azemu/azemu/internal/catalog"
)

var testScope = Scope{SubscriptionID: "00000000-0000-0000-0000-000000000001", TenantID: "72f988bf-86f1-41af-91ab-2d7cd011db47",
	ResourceGroup: "demo", Location: "westeurope", DeploymentName: "main"}

const exprTemplate = `{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "parameters": {
    "prefix": {"type": "string", "defaultValue": "Web"},
    "count": {"type": "int", "defaultValue": 3},
    "tags": {"type": "object", "defaultValue": {"env": "dev", "nested": {"a": 1}}},
    "zones": {"type": "array", "defaultValue": ["1", "2", "3"]}
  },
  "variables": {
    "lower": "[toLower(parameters('prefix'))]",
    "nicName": "[concat(variables('lower'), '-nic')]",
    "copy": [{"name": "disks", "count": 2, "input": {"lun": "[copyIndex('disks')]", "name": "[format('disk{0}', copyIndex('disks', 1))]"}}]
  },
  "resources": []
}`

func testPlan(t *testing.T) *Plan {
	t.Helper()
	tmpl, err := Parse([]byte(exprTemplate))
	if err != nil {
		t.Fatal(err)
	}
	p, err := tmpl.Expand(testScope, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExpressions(t *testing.T) {
	p := testPlan(t)
	ref := func(id, apiVersion string) ([]byte, bool, error) {
		if strings.HasSuffix(id, "/publicIPAddresses/ip") {
			return []byte(`{"id": "` + id + `", "name": "ip", "properties": {"ipAddress": "20.0.0.4"}}`), true, nil
		}
		return nil, false, nil
	}
	tests := []struct {
		expr string
		want string // JSON of the value
	}{
		{`[parameters('prefix')]`, `"Web"`},
		{`[parameters('PREFIX')]`, `"Web"`},
		{`[variables('nicName')]`, `"web-nic"`},
		{`[variables('disks')[1].name]`, `"disk2"`},
		{`[length(variables('disks'))]`, `2`},
		{`[[notAnExpression]`, `"[notAnExpression]"`},
		{`plain`, `"plain"`},
		{`[concat('a'`, `"[concat('a'"`}, // no closing bracket: a literal
		{`['it''s']`, `"it's"`},
		{`[resourceId('Microsoft.Network/virtualNetworks/subnets', 'vnet', 'default')]`,
			`"/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/demo/providers/Microsoft.Network/virtualNetworks/vnet/subnets/default"`},
		{`[resourceId('other', 'Microsoft.Compute/disks', 'd1')]`,
			`"/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/other/providers/Microsoft.Compute/disks/d1"`},
		{`[resourceId('11111111-1111-1111-1111-111111111111', 'other', 'Microsoft.Compute/disks', 'd1')]`,
			`"/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/other/providers/Microsoft.Compute/disks/d1"`},
		{`[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'r')]`,
			`"/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Authorization/roleDefinitions/r"`},
		{`[resourceGroup().location]`, `"westeurope"`},
		{`[resourceGroup().id]`, `"/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/demo"`},
		{`[subscription().subscriptionId]`, `"00000000-0000-0000-0000-000000000001"`},
		{`[deployment().name]`, `"main"`},
		{`[providers('microsoft.compute', 'VirtualMachineScaleSets').apiVersions[0]]`, `"` + catalog.APIVersions("Microsoft.Compute", "virtualMachineScaleSets")[0] + `"`},
		{`[providers('Microsoft.Network', 'publicIPAddresses').namespace]`, `"Microsoft.Network"`},
		{`[greater(length(providers('Microsoft.Network').resourceTypes), 3)]`, `true`},
		{`[concat('a', 'b', 1)]`, `"ab1"`},
		{`[concat(createArray(1, 2), createArray(3))]`, `[1,2,3]`},
		{`[format('{0}-{1:D3}-{{x}}', 'vm', 7)]`, `"vm-007-{x}"`},
		{`[uniqueString('a')]`, `"` + UniqueString("a") + `"`},
		{`[guid('a', 'b')]`, `"` + GUID("a", "b") + `"`},
		{`[if(equals(parameters('count'), 3), 'three', 'other')]`, `"three"`},
		{`[if(true(), 'yes', parameters('missing'))]`, `"yes"`},
		{`[equals(createObject('a', 1), json('{"A": 1}'))]`, `true`},
		{`[equals('a', 'A')]`, `false`},
		{`[empty('')]`, `true`},
		{`[empty(createArray())]`, `true`},
		{`[empty(parameters('tags'))]`, `false`},
		{`[toUpper('abc')]`, `"ABC"`},
		{`[union(parameters('tags'), createObject('env', 'prod', 'nested', createObject('b', 2)))]`, `{"env":"prod","nested":{"a":1,"b":2}}`},
		{`[union(createArray(1, 2), createArray(2, 3))]`, `[1,2,3]`},
		{`[not(and(true(), or(false(), true())))]`, `false`},
		{`[contains(parameters('zones'), '2')]`, `true`},
		{`[contains('azemu', 'EMU')]`, `false`},
		{`[contains(parameters('tags'), 'ENV')]`, `true`},
		{`[replace('a-b-c', '-', '')]`, `"abc"`},
		{`[split('a,b;c', createArray(',', ';'))]`, `["a","b","c"]`},
		{`[substring('azemu', 2, 3)]`, `"emu"`},
		{`[string(createObject('a', 1))]`, `"{\"a\":1}"`},
		{`[string(true())]`, `"True"`},
		{`[int('42')]`, `42`},
		{`[bool('true')]`, `true`},
		{`[json('[1, {"a": null}]')]`, `[1,{"a":null}]`},
		{`[first(parameters('zones'))]`, `"1"`},
		{`[last('abc')]`, `"c"`},
		{`[take(parameters('zones'), 2)]`, `["1","2"]`},
		{`[skip(parameters('zones'), 5)]`, `[]`},
		{`[coalesce(null(), null(), 'x')]`, `"x"`},
		{`[greater(2, 1)]`, `true`},
		{`[less('a', 'b')]`, `true`},
		{`[add(1, sub(10, mul(2, 3)))]`, `5`},
		{`[div(7, 2)]`, `3`},
		{`[mod(-7, 2)]`, `-1`},
		{`[min(3, 1, 2)]`, `1`},
		{`[max(createArray(3, 9, 2))]`, `9`},
		{`[range(5, 3)]`, `[5,6,7]`},
		{`[parameters('tags').nested['a']]`, `1`},
		{`[parameters('zones')[add(0, 1)]]`, `"2"`},
		{`[reference(resourceId('Microsoft.Network/publicIPAddresses', 'ip'), '2022-05-01').ipAddress]`, `"20.0.0.4"`},
		{`[reference(resourceId('Microsoft.Network/publicIPAddresses', 'ip'), '2022-05-01', 'Full').name]`, `"ip"`},
		{`[padLeft('7', 3, '0')]`, `"007"`},
		{`[base64ToString(base64('héllo'))]`, `"héllo"`},
		{`[startsWith('AzEmu', 'az')]`, `true`},
		{`[indexOf('abcabc', 'C')]`, `2`},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			ev := &evaluator{p: p, ref: ref}
			v, err := ev.value(tt.expr)
			if err != nil {
				t.Fatalf("%s: %v", tt.expr, err)
			}
			got, _ := json.Marshal(v)
			if string(got) != tt.want {
				t.Errorf("%s = %s, want %s", tt.expr, got, tt.want)
			}
		})
	}
}

func TestExpressionErrors(t *testing.T) {
	p := testPlan(t)
	tests := []struct {
		expr string
		want string // a part of the message
	}{
		{`[bogus('x')]`, "The template function 'bogus' is not valid"},
		{`[listKeys(resourceId('Microsoft.Storage/storageAccounts', 's'), '2022-09-01')]`, "'listKeys' is not supported by azemu"},
		{`[parameters('nope')]`, "The template parameter 'nope' is not found"},
		{`[variables('nope')]`, "The template variable 'nope' is not found"},
		{`[concat('a']`, "expected ')'"},
		{`['unterminated]`, "not terminated"},
		{`[resourceId('Microsoft.Network/virtualNetworks/subnets', 'vnet')]`, "requires '2' resource name argument(s)"},
		{`[copyIndex()]`, "can only be used in a resource with copy"},
		{`[div(1, 0)]`, "divide by zero"},
		{`[add(9223372036854775807, 1)]`, "overflows"},
		{`[parameters('tags').missing]`, "doesn't exist, available properties are 'env, nested'"},
		{`[parameters('zones')[9]]`, "out of bounds"},
		{`[reference('nothere')]`, "could not find template resource"},
		{`[reference(resourceId('Microsoft.Network/publicIPAddresses', 'ip'), '2022-05-01')]`, "not expected at this location"},
		{`[substring('abc', 2, 5)]`, "length parameter"},
		{`[toLower(1)]`, "expects its parameter 1 to be of type 'String'"},
		{`[providers('Microsoft.Nope', 'things')]`, "The resource namespace 'Microsoft.Nope' is invalid"},
		{`[providers('Microsoft.Compute', 'things')]`, "The resource type 'things' could not be found in the namespace 'Microsoft.Compute'"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			ev := &evaluator{p: p}
			_, err := ev.value(tt.expr)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("%s: error %v, want one containing %q", tt.expr, err, tt.want)
			}
		})
	}
}

// TestUniqueStringKnownValue checks the hash against a value Azure
// Resource Manager computed: uniqueString of a VM's resource ID, as one
// deployment's output recorded it (published in a public test suite).
func TestUniqueStringKnownValue(t *testing.T) {
	const id = "/subscriptions/31e9f9a0-9fd2-4294-a0a3-0101246d9700/resourceGroups/rg-modm201-20230913120256/providers/Microsoft.Compute/virtualMachines/bobjacmodm201"
	if got := UniqueString(id); got != "yvjxno3je5on2" {
		t.Fatalf("uniqueString = %s, want yvjxno3je5on2", got)
	}
	// Every tail length of the hash's 8-byte blocks, and the join.
	seen := map[string]bool{}
	for n := 0; n <= 17; n++ {
		s := UniqueString(strings.Repeat("x", n))
		if len(s) != 13 || strings.Trim(s, "abcdefghijklmnopqrstuvwxyz234567") != "" || seen[s] {
			t.Fatalf("uniqueString of %d x's = %q: not 13 fresh base-32 characters", n, s)
		}
		seen[s] = true
	}
	if UniqueString("a", "b") != UniqueString("a-b") {
		t.Fatal("uniqueString does not join its arguments with '-'")
	}
}

// TestGUIDIsVersion5 checks guid() against RFC 4122's name-based UUID:
// version 5 in the namespace Azure documents.
func TestGUIDIsVersion5(t *testing.T) {
	g := GUID("a", "b")
	if len(g) != 36 || g[14] != '5' || !strings.ContainsRune("89ab", rune(g[19])) {
		t.Fatalf("guid = %s: not a version-5 UUID", g)
	}
	if GUID("a", "b") != GUID("a-b") || GUID("a") == GUID("b") {
		t.Fatal("guid does not hash its joined arguments")
	}
}
