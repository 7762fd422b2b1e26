package sqlite

import "strings"

// A VM's and a resource's row is found by its key, store.Key of its ID,
// kept once, in a table of keys (vm_keys, res_keys) that gives the number
// of the row (0008_keyed_rows.sql). The key is kept packed: an ARM ID
// repeats /subscriptions/, /resourcegroups/ and /providers/, and most IDs
// name a VM, a disk or another top-level resource of a few types. packKey
// writes the key of such an ID as
//
//	{subscription}/{group}/{type byte}{name}
//
// and the key of a resource of another type, or of a child resource (an
// extension, a scale set's instance), as
//
//	{subscription}/{group}//{what follows /providers/}
//
// and any other key whole behind a slash. The subscription and the group
// hold no slash, the name after a type byte none either, and a type byte is
// never a slash, so distinct keys pack distinctly. Keys are never unpacked:
// a row keeps its ID (or the parts that make it) in its own columns.

// keyTypes are the top-level types whose prefix, lower-case as in a key, is
// kept as the byte of its place plus one. The stored keys depend on this
// list: an entry is never moved or removed, only appended by a migration
// that packs the stored keys again.
var keyTypes = []string{
	"microsoft.compute/virtualmachines/",
	"microsoft.compute/disks/",
	"microsoft.network/networkinterfaces/",
	"microsoft.network/publicipaddresses/",
	"microsoft.network/virtualnetworks/",
	"microsoft.network/networksecuritygroups/",
	"microsoft.network/loadbalancers/",
	"microsoft.compute/virtualmachinescalesets/",
}

// packKey packs key, a store.Key.
func packKey(key string) string {
	sub, group, rest, ok := splitScope(key)
	if !ok {
		return "/" + key
	}
	for i, prefix := range keyTypes {
		if name, ok := strings.CutPrefix(rest, prefix); ok && name != "" && !strings.Contains(name, "/") {
			return sub + "/" + group + "/" + string(rune(i+1)) + name
		}
	}
	return sub + "/" + group + "//" + rest
}

// splitScope splits a key /subscriptions/{sub}/resourcegroups/{group}/providers/{rest}
// into its parts, each not empty, the first two holding no slash.
func splitScope(key string) (sub, group, rest string, ok bool) {
	rest, ok = strings.CutPrefix(key, "/subscriptions/")
	if !ok {
		return "", "", "", false
	}
	if sub, rest, ok = strings.Cut(rest, "/"); !ok || sub == "" {
		return "", "", "", false
	}
	if rest, ok = strings.CutPrefix(rest, "resourcegroups/"); !ok {
		return "", "", "", false
	}
	if group, rest, ok = strings.Cut(rest, "/"); !ok || group == "" {
		return "", "", "", false
	}
	if rest, ok = strings.CutPrefix(rest, "providers/"); !ok || rest == "" {
		return "", "", "", false
	}
	return sub, group, rest, true
}
