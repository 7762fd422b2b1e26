package armapi

import (
	"reflect"
	"strings"
	"testing"
)

func TestShutsDownGuest(t *testing.T) {
	for script, want := range map[string]bool{
		"sudo shutdown -h now":                           true,
		"shutdown now":                                   true,
		"/sbin/shutdown -P now":                          true,
		"/usr/sbin/poweroff":                             true,
		"echo bye; poweroff":                             true,
		"ls && sudo halt":                                true,
		"sudo systemctl poweroff":                        true,
		"sudo init 0":                                    true,
		"bash -c 'shutdown now'":                         true,
		"echo hi | sudo tee /x\nshutdown -h +1":          true,
		"Stop-Computer -Force":                           true,
		"shutdown /s /t 0":                               true,
		"SHUTDOWN /S":                                    true,
		"echo shutdown-is-a-word-here > /tmp/x":          false,
		"echo shutdown":                                  false,
		"grep -i poweroff /var/log/syslog":               false,
		"cat /etc/halt.conf":                             false,
		"sudo shutdown -r now":                           false,
		"shutdown /r /t 0":                               false,
		"systemctl reboot":                               false,
		"reboot":                                         false,
		"sudo apt-get update && sudo apt-get -y upgrade": false,
		"": false,
	} {
		if got := shutsDownGuest(script); got != want {
			t.Errorf("shutsDownGuest(%q) = %v, want %v", script, got, want)
		}
	}
}

// vmKeys must name every property checkVM decodes, at the same place, or a
// differently cased key would be seen by validation and missed by the
// scrubbing.
func TestVMKeysCoverVMInput(t *testing.T) {
	var walk func(typ reflect.Type, tree keyTree, path string)
	walk = func(typ reflect.Type, tree keyTree, path string) {
		for typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct {
			return
		}
		for i := range typ.NumField() {
			f := typ.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			sub, ok := tree[name]
			if !ok {
				t.Errorf("vmKeys lacks %s%s", path, name)
				continue
			}
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				if sub == nil {
					t.Errorf("vmKeys has no subtree for %s%s", path, name)
					continue
				}
				walk(ft, sub, path+name+".")
			}
		}
	}
	walk(reflect.TypeOf(vmInput{}), vmKeys, "")
}

func TestCanonicalKeys(t *testing.T) {
	m := map[string]any{
		"LOCATION": "x",
		"Properties": map[string]any{
			"osprofile":  map[string]any{"AdminPassword": "a", "ADMINPASSWORD": "b", "adminPassword": "c", "Unknown": 1},
			"extraThing": true,
		},
		"properties": map[string]any{"hardwareProfile": map[string]any{"VMSIZE": "s"}},
		"Other":      1,
	}
	canonicalKeys(m, vmKeys)
	want := map[string]any{
		"location":   "x",
		"properties": map[string]any{"hardwareProfile": map[string]any{"vmSize": "s"}},
		"Other":      1,
	}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("got %v", m)
	}
	op := map[string]any{"osProfile": map[string]any{"ADMINPASSWORD": "b", "AdminPassword": "a", "Unknown": 1}}
	canonicalKeys(op, vmKeys["properties"])
	if !reflect.DeepEqual(op, map[string]any{"osProfile": map[string]any{"adminPassword": "b", "Unknown": 1}}) { // "ADMINPASSWORD" sorts first
		t.Fatalf("got %v", op)
	}
}
