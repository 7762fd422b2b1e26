package armid

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
	"unsafe"
)

const sub = "0b1f6471-1bf0-4dda-aec3-cb9272f09590"

func TestParseRoundTrip(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		want   ID
		str    string // canonical String(); "" means same as in
		typ    string
		idName string
	}{
		{
			name:   "virtual machine",
			in:     "/subscriptions/" + sub + "/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/vm1",
			want:   ID{sub, "rg1", "Microsoft.Compute", []string{"virtualMachines"}, []string{"vm1"}},
			typ:    "Microsoft.Compute/virtualMachines",
			idName: "vm1",
		},
		{
			name:   "mixed casing and trailing slash",
			in:     "/SUBSCRIPTIONS/" + sub + "/resourcegroups/My-RG/PROVIDERS/microsoft.COMPUTE/VirtualMACHINES/My-VM/",
			want:   ID{sub, "My-RG", "Microsoft.Compute", []string{"virtualMachines"}, []string{"My-VM"}},
			str:    "/subscriptions/" + sub + "/resourceGroups/My-RG/providers/Microsoft.Compute/virtualMachines/My-VM",
			typ:    "Microsoft.Compute/virtualMachines",
			idName: "My-VM",
		},
		{
			name:   "scale set VM",
			in:     "/subscriptions/" + sub + "/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachineScaleSets/ss1/virtualMachines/0",
			want:   ID{sub, "rg1", "Microsoft.Compute", []string{"virtualMachineScaleSets", "virtualMachines"}, []string{"ss1", "0"}},
			typ:    "Microsoft.Compute/virtualMachineScaleSets/virtualMachines",
			idName: "0",
		},
		{
			name:   "VM extension, lower-case types",
			in:     "/subscriptions/" + sub + "/resourceGroups/rg1/providers/microsoft.compute/virtualmachines/vm1/EXTENSIONS/CustomScript",
			want:   ID{sub, "rg1", "Microsoft.Compute", []string{"virtualMachines", "extensions"}, []string{"vm1", "CustomScript"}},
			str:    "/subscriptions/" + sub + "/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/vm1/extensions/CustomScript",
			typ:    "Microsoft.Compute/virtualMachines/extensions",
			idName: "CustomScript",
		},
		{
			name:   "resource group",
			in:     "/subscriptions/" + sub + "/resourceGroups/rg1",
			want:   ID{SubscriptionID: sub, ResourceGroup: "rg1"},
			typ:    "Microsoft.Resources/resourceGroups",
			idName: "rg1",
		},
		{
			name:   "resource group, lower-case segment",
			in:     "/subscriptions/" + sub + "/resourcegroups/RG1/",
			want:   ID{SubscriptionID: sub, ResourceGroup: "RG1"},
			str:    "/subscriptions/" + sub + "/resourceGroups/RG1",
			typ:    "Microsoft.Resources/resourceGroups",
			idName: "RG1",
		},
		{
			name:   "subscription",
			in:     "/subscriptions/" + strings.ToUpper(sub),
			want:   ID{SubscriptionID: strings.ToUpper(sub)},
			typ:    "Microsoft.Resources/subscriptions",
			idName: strings.ToUpper(sub),
		},
		{
			name:   "subscription-level resource",
			in:     "/subscriptions/" + sub + "/providers/Microsoft.Compute/locations/westus2/operations/op-1",
			want:   ID{sub, "", "Microsoft.Compute", []string{"locations", "operations"}, []string{"westus2", "op-1"}},
			typ:    "Microsoft.Compute/locations/operations",
			idName: "op-1",
		},
		{
			name:   "resource provider",
			in:     "/subscriptions/" + sub + "/providers/microsoft.compute",
			want:   ID{SubscriptionID: sub, Namespace: "Microsoft.Compute"},
			str:    "/subscriptions/" + sub + "/providers/Microsoft.Compute",
			typ:    "Microsoft.Resources/providers",
			idName: "Microsoft.Compute",
		},
		{
			name:   "unknown namespace and type keep their casing",
			in:     "/subscriptions/" + sub + "/resourceGroups/rg1/providers/contoso.Widgets/GADGETS/g1",
			want:   ID{sub, "rg1", "contoso.Widgets", []string{"GADGETS"}, []string{"g1"}},
			typ:    "contoso.Widgets/GADGETS",
			idName: "g1",
		},
		{
			name:   "network interface",
			in:     "/subscriptions/" + sub + "/resourceGroups/rg1/providers/MICROSOFT.NETWORK/networkinterfaces/nic1",
			want:   ID{sub, "rg1", "Microsoft.Network", []string{"networkInterfaces"}, []string{"nic1"}},
			str:    "/subscriptions/" + sub + "/resourceGroups/rg1/providers/Microsoft.Network/networkInterfaces/nic1",
			typ:    "Microsoft.Network/networkInterfaces",
			idName: "nic1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(id, tt.want) {
				t.Fatalf("Parse(%q) = %#v, want %#v", tt.in, id, tt.want)
			}
			str := tt.str
			if str == "" {
				str = tt.in
			}
			if got := id.String(); got != str {
				t.Errorf("String() = %q, want %q", got, str)
			}
			if got := id.Type(); got != tt.typ {
				t.Errorf("Type() = %q, want %q", got, tt.typ)
			}
			if got := id.Name(); got != tt.idName {
				t.Errorf("Name() = %q, want %q", got, tt.idName)
			}
			again, err := Parse(id.String())
			if err != nil || !reflect.DeepEqual(again, id) {
				t.Errorf("Parse(String()) = %#v, %v; want %#v", again, err, id)
			}
			if !Equal(tt.in, str) || Key(tt.in) != Key(str) {
				t.Errorf("input and canonical form differ by Equal or Key")
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	vm := "/subscriptions/" + sub + "/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/vm1"
	for _, in := range []string{
		"",
		"/",
		"//",
		"subscriptions/" + sub,               // no leading slash
		"//subscriptions/" + sub,             // empty first segment
		"/subscriptions",                     // no subscription
		"/subscriptions/",                    // empty subscription
		"/subscriptions//resourceGroups/rg1", // empty subscription
		"/subscriptions/" + sub + "//",       // two trailing slashes
		"/subscriptions/" + sub + "/resourceGroups",
		"/subscriptions/" + sub + "/resourceGroups/",
		"/subscriptions/" + sub + "/resourceGroups//providers/Microsoft.Compute",
		"/subscriptions/" + sub + "/resourceGroups/rg1/providers",
		"/subscriptions/" + sub + "/resourceGroups/rg1/providers/",
		"/subscriptions/" + sub + "/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines",
		"/subscriptions/" + sub + "/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/",
		"/subscriptions/" + sub + "/resourceGroups/rg1/virtualMachines/vm1", // no providers
		"/subscriptions/" + sub + "/resourceGroups/rg1/resourceGroups/rg2",
		"/subscriptions/" + sub + "/foo/bar",
		"/tenants/" + sub,
		"/providers/Microsoft.Compute/operations",
		vm + "/extra",  // odd trailing garbage
		vm + "//",      // empty trailing segment
		vm + "/a//b/c", // empty inner segment
		vm + "/providers/Microsoft.Authorization/roleAssignments/ra1", // extension resource
		" /subscriptions/" + sub,
		"https://management.azure.com/subscriptions/" + sub,
	} {
		id, err := Parse(in)
		if err == nil {
			t.Errorf("Parse(%q) = %#v, want error", in, id)
			continue
		}
		if !errors.Is(err, ErrInvalidID) {
			t.Errorf("Parse(%q) error %v does not wrap ErrInvalidID", in, err)
		}
	}
}

func TestParent(t *testing.T) {
	chain := []string{
		"/subscriptions/" + sub + "/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachineScaleSets/ss1/virtualMachines/3/extensions/e1",
		"/subscriptions/" + sub + "/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachineScaleSets/ss1/virtualMachines/3",
		"/subscriptions/" + sub + "/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachineScaleSets/ss1",
		"/subscriptions/" + sub + "/resourceGroups/rg1",
		"/subscriptions/" + sub,
	}
	id, err := Parse(chain[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range chain[1:] {
		p, ok := id.Parent()
		if !ok || p.String() != want {
			t.Fatalf("Parent(%s) = %s, %v; want %s", id, p, ok, want)
		}
		id = p
	}
	if p, ok := id.Parent(); ok {
		t.Fatalf("subscription has parent %s", p)
	}

	// Subscription-level resources and providers hang off the subscription.
	for _, in := range []string{
		"/subscriptions/" + sub + "/providers/Microsoft.Compute/locations/westus",
		"/subscriptions/" + sub + "/providers/Microsoft.Compute",
	} {
		id, _ := Parse(in)
		if p, ok := id.Parent(); !ok || p.String() != "/subscriptions/"+sub {
			t.Errorf("Parent(%s) = %s, %v", in, p, ok)
		}
	}

	if _, ok := (ID{}).Parent(); ok {
		t.Error("zero ID has a parent")
	}
}

func TestParentDoesNotAlias(t *testing.T) {
	id, _ := Parse("/subscriptions/" + sub + "/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/vm1/extensions/e1")
	before := id.String()
	p, _ := id.Parent()
	p.Types = append(p.Types, "disks")
	p.Names = append(p.Names, "d1")
	p.Names[0] = "changed"
	if id.String() != before {
		t.Fatalf("changing the parent changed the child: %s", id)
	}
}

func TestZeroAndPartialIDs(t *testing.T) {
	var zero ID
	if zero.String() != "" || zero.Type() != "" || zero.Name() != "" {
		t.Errorf("zero ID: %q %q %q", zero.String(), zero.Type(), zero.Name())
	}
	// A hand-built ID with unpaired types prints only complete pairs.
	id := ID{SubscriptionID: sub, ResourceGroup: "rg1", Namespace: "microsoft.compute", Types: []string{"virtualmachines", "extensions"}, Names: []string{"vm1"}}
	want := VirtualMachineID(sub, "rg1", "vm1")
	if id.String() != want || id.Type() != "Microsoft.Compute/virtualMachines" || id.Name() != "vm1" {
		t.Errorf("unpaired ID: %q %q %q", id.String(), id.Type(), id.Name())
	}
}

func TestConstructors(t *testing.T) {
	if got, want := ResourceGroupID(sub, "My.RG"), "/subscriptions/"+sub+"/resourceGroups/My.RG"; got != want {
		t.Errorf("ResourceGroupID = %q, want %q", got, want)
	}
	if got, want := VirtualMachineID(sub, "rg1", "VM-1"), "/subscriptions/"+sub+"/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/VM-1"; got != want {
		t.Errorf("VirtualMachineID = %q, want %q", got, want)
	}
}

func TestEqualAndKey(t *testing.T) {
	vm := VirtualMachineID(sub, "RG1", "VM1")
	tests := []struct {
		a, b string
		want bool
	}{
		{vm, strings.ToLower(vm), true},
		{vm, strings.ToUpper(vm) + "/", true},
		{vm, strings.Replace(vm, "resourceGroups", "resourcegroups", 1), true},
		{vm, VirtualMachineID(sub, "RG1", "VM2"), false},
		{vm, VirtualMachineID(sub, "RG2", "VM1"), false},
		{vm, ResourceGroupID(sub, "RG1"), false},
		{ResourceGroupID(sub, "rg"), "/subscriptions/" + strings.ToUpper(sub) + "/RESOURCEGROUPS/RG/", true},
		// Unparsable strings fall back to case-insensitive comparison.
		{"not an id", "NOT AN ID", true},
		{"not an id", "not an id/", false},
		{"", "", true},
		// Unicode folding, where strings.ToLower alone would disagree with EqualFold.
		{ResourceGroupID(sub, "Σσ"), ResourceGroupID(sub, "ςΣ"), true},
		{ResourceGroupID(sub, "İ"), ResourceGroupID(sub, "i"), false},
		{ResourceGroupID(sub, "K"), ResourceGroupID(sub, "\u212a"), true}, // Kelvin sign
	}
	for _, tt := range tests {
		if got := Equal(tt.a, tt.b); got != tt.want {
			t.Errorf("Equal(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		if got := Key(tt.a) == Key(tt.b); got != tt.want {
			t.Errorf("Key(%q) == Key(%q) is %v, want %v (%q, %q)", tt.a, tt.b, got, tt.want, Key(tt.a), Key(tt.b))
		}
	}
	if got, want := Key("/SUBSCRIPTIONS/ABC/resourcegroups/RG/"), "/subscriptions/abc/resourceGroups/rg"; got != want {
		t.Errorf("Key = %q, want %q", got, want)
	}
}

func TestCanonical(t *testing.T) {
	for in, want := range map[string]string{
		"microsoft.compute":       "Microsoft.Compute",
		"MICROSOFT.RESOURCES":     "Microsoft.Resources",
		"Microsoft.network":       "Microsoft.Network",
		"virtualmachines":         "virtualMachines",
		"VIRTUALMACHINESCALESETS": "virtualMachineScaleSets",
		"Extensions":              "extensions",
		"DISKS":                   "disks",
		"Locations":               "locations",
		"OPERATIONS":              "operations",
		"networkinterfaces":       "networkInterfaces",
		"publicipaddresses":       "publicIPAddresses",
		"resourcegroups":          "resourceGroups",
		"SUBSCRIPTIONS":           "subscriptions",
		"Providers":               "providers",
		"Contoso.Widgets":         "Contoso.Widgets",
		"":                        "",
		"Microsoft.Compute":       "Microsoft.Compute",
		"virtualMachines":         "virtualMachines",
		"MİCROSOFT.COMPUTE":       "MİCROSOFT.COMPUTE",
		"virtualMachineſ":         "virtualMachines", // EqualFold takes ſ for s
		"ΣΣ.Widgets":              "ΣΣ.Widgets",
		strings.Repeat("A", 100):  strings.Repeat("A", 100),
	} {
		if got := Canonical(in); got != want {
			t.Errorf("Canonical(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestFoldAllASCII holds FoldAll's one-pass ASCII path to
// strings.ToLower, and to the string itself (not a copy) when there is
// nothing to lower.
func TestFoldAllASCII(t *testing.T) {
	for _, in := range []string{"", "a", "A", "vm1", "/subscriptions/x/resourceGroups/RG/providers/Microsoft.Compute/virtualMachines/VM",
		"already/lower-case/0123", "Z@[`{", "abcZ", "Zabc", "trailing\xff\xfeA"} {
		want := strings.ToLower(in)
		if !utf8.ValidString(in) {
			want = foldRunes(in)
		}
		if got := FoldAll(in); got != want {
			t.Errorf("FoldAll(%q) = %q, want %q", in, got, want)
		}
		if got := FoldAll(in); got == in && len(in) > 0 && unsafe.StringData(got) != unsafe.StringData(in) {
			t.Errorf("FoldAll(%q) copied a string with nothing to fold", in)
		}
	}
}

// TestFold holds Fold to its segments: names folded, well-known words
// spelt as IDs spell them, and the string itself (not a copy) when it is
// its own key, as an ID with lower-case names is.
func TestFold(t *testing.T) {
	const vm = "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm"
	for in, want := range map[string]string{
		"":   "",
		"/":  "/",
		"//": "//",
		vm:   vm,
		"/SUBSCRIPTIONS/X/resourcegroups/RG/Providers/microsoft.compute/VIRTUALMACHINES/VM":   vm,
		"/subscriptions/x/resourceGroups/rg/providers/Microsoft.Compute/disks/vm_OsDisk_1_ab": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Compute/disks/vm_osdisk_1_ab",
		"VM1":                           "vm1",
		"virtualmachines":               "virtualMachines", // a name that folds as a word is spelt as one
		"Disks":                         "disks",
		"rg-ÜNÏCODE":                    "rg-ünïcode",
		"a/É/virtualmachinescalesets/x": "a/é/virtualMachineScaleSets/x",
		"microsoft.network/x":           "Microsoft.Network/x",
		"Z@[`{":                         "z@[`{",
		"trailing\xff\xfeA":             "trailing\ufffd\ufffda",
		"virtualMachineſ/ſ":             "virtualMachines/s",
		"/subscriptions/\u212a":         "/subscriptions/k", // Kelvin sign
		strings.Repeat("A", 100):        strings.Repeat("a", 100),
	} {
		got := Fold(in)
		if got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
		if got == in && len(in) > 0 && unsafe.StringData(got) != unsafe.StringData(in) {
			t.Errorf("Fold(%q) copied a string that is its own key", in)
		}
		if b := AppendFold([]byte("p"), in); string(b) != "p"+want {
			t.Errorf("AppendFold(%q) = %q, want %q", in, b[1:], want)
		}
		seg, ok := AppendFoldSegment([]byte("p"), in)
		if wantOK := in != "" && !strings.Contains(in, "/"); ok != wantOK || ok && string(seg) != "p"+want || !ok && string(seg) != "p" {
			t.Errorf("AppendFoldSegment(%q) = %q, %v; want %q, %v", in, seg, ok, "p"+want, wantOK)
		}
		if again := Fold(FoldAll(in)); again != want {
			t.Errorf("Fold(FoldAll(%q)) = %q, want %q: a lower-case key converts", in, again, want)
		}
	}
}

func TestIsGUID(t *testing.T) {
	for in, want := range map[string]bool{
		sub:                                    true,
		strings.ToUpper(sub):                   true,
		"00000000-0000-0000-0000-000000000000": true,
		"0B1f6471-1bf0-4dda-AEC3-cb9272f09590": true,
		"":                                     false,
		"{" + sub + "}":                        false,
		sub[:35]:                               false,
		sub + "0":                              false,
		"0b1f64711bf04ddaaec3cb9272f09590":     false,
		"0b1f6471-1bf0-4dda-aec3-cb9272f0959g": false,
		"0b1f6471-1bf0-4dda-aec3_cb9272f09590": false,
		"0b1f64711-bf0-4dda-aec3-cb9272f09590": false,
	} {
		if got := IsGUID(in); got != want {
			t.Errorf("IsGUID(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestValidName(t *testing.T) {
	tests := []struct {
		kind, name string
		rule       string // substring of the error; "" means valid
	}{
		{"resourceGroups", "rg1", ""},
		{"resourceGroups", "My_RG-(test).1", ""},
		{"resourcegroups", "a", ""},
		{"Microsoft.Resources/resourceGroups", "a", ""},
		{"resourceGroups", strings.Repeat("a", 90), ""},
		{"resourceGroups", "grupo-ñandú", ""}, // Unicode letters are allowed
		{"resourceGroups", strings.Repeat("ü", 90), ""},
		{"resourceGroups", "", "1-90 characters"},
		{"resourceGroups", strings.Repeat("a", 91), "1-90 characters"},
		{"resourceGroups", "rg.", "must not end with a period"},
		{"resourceGroups", "rg 1", "may contain only"},
		{"resourceGroups", "rg/1", "may contain only"},
		{"resourceGroups", "rg#", "may contain only"},
		{"resourceGroups", "rg\xff", "may contain only"},
		{"virtualMachines", "vm1", ""},
		{"virtualmachines", "VM-1.a_b", ""},
		{"Microsoft.Compute/virtualMachines", "v", ""},
		{"virtualMachines", strings.Repeat("v", 64), ""},
		{"virtualMachines", "", "1-64 characters"},
		{"virtualMachines", strings.Repeat("v", 65), "1-64 characters"},
		{"virtualMachines", "_vm", "must not start with an underscore"},
		{"virtualMachines", "-vm", "must not start with a hyphen"},
		{"virtualMachines", "vm.", "must not end with a period"},
		{"virtualMachines", "vm-", "must not end with a hyphen"},
		{"virtualMachines", "vm(1)", "may contain only"},
		{"virtualMachines", "vm 1", "may contain only"},
		{"virtualMachines", "vmñ", "may contain only"},
	}
	for _, tt := range tests {
		err := ValidName(tt.kind, tt.name)
		switch {
		case tt.rule == "" && err != nil:
			t.Errorf("ValidName(%q, %q) = %v, want nil", tt.kind, tt.name, err)
		case tt.rule != "" && err == nil:
			t.Errorf("ValidName(%q, %q) = nil, want error about %q", tt.kind, tt.name, tt.rule)
		case tt.rule != "" && (!strings.Contains(err.Error(), tt.rule) || !errors.Is(err, ErrInvalidName)):
			t.Errorf("ValidName(%q, %q) = %v, want ErrInvalidName about %q", tt.kind, tt.name, err, tt.rule)
		}
	}
	if err := ValidName("disks", "d1"); err == nil || errors.Is(err, ErrInvalidName) {
		t.Errorf("ValidName with unknown kind = %v, want a non-naming error", err)
	}
}

func TestGUIDText(t *testing.T) {
	for _, tc := range []struct {
		b    [16]byte
		want string
	}{
		{[16]byte{}, "00000000-0000-0000-0000-000000000000"},
		{[16]byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10}, "01234567-89ab-cdef-fedc-ba9876543210"},
		{[16]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, "ffffffff-ffff-ffff-ffff-ffffffffffff"},
	} {
		got := GUIDText(tc.b)
		if got != tc.want || !IsGUID(got) {
			t.Errorf("GUIDText(%x) = %q, want %q", tc.b, got, tc.want)
		}
	}
}
