package authz

import (
	"crypto/sha256"
	"fmt"
	"strings"

	"github.com/azemu/azemu/internal/armid"
)

// IsGUID reports whether s is a GUID (8-4-4-4-12 hex digits).
func IsGUID(s string) bool { return armid.IsGUID(s) }

// DerivedGUID is a GUID drawn from a name by hashing it: the same name
// gives the same GUID on every run.
func DerivedGUID(name string) string {
	h := sha256.Sum256([]byte(name))
	h[6] = h[6]&0x0f | 0x50 // version 5 shape: name-based
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// Action names the Azure RBAC action an ARM request performs and the scope
// it is performed over, as Azure's AuthorizationFailed message names them:
// GET .../virtualMachines/web is Microsoft.Compute/virtualMachines/read over
// the VM's ID; POST .../virtualMachines/web/start is
// Microsoft.Compute/virtualMachines/start/action. segs are the request
// path's segments, starting at "subscriptions" with the subscription ID.
func Action(method string, segs []string) (action, scope string) {
	verb := verbOf(method)
	join := func(n int) string { return "/" + strings.Join(segs[:n], "/") }
	n := len(segs)
	if n < 2 {
		return "Microsoft.Resources/subscriptions/" + verb, "/"
	}
	if n == 2 {
		return "Microsoft.Resources/subscriptions/" + verb, join(2)
	}
	base := 2
	if strings.EqualFold(segs[2], "resourceGroups") {
		switch {
		case n == 3:
			return "Microsoft.Resources/subscriptions/resourceGroups/read", join(2)
		case n == 4:
			return "Microsoft.Resources/subscriptions/resourceGroups/" + verb, join(4)
		}
		base = 4
	}
	prov := -1
	for i := base; i < n-1; i++ {
		if strings.EqualFold(segs[i], "providers") {
			prov = i
		}
	}
	if prov < 0 {
		// operationresults and other subscription-level reads.
		what := "subscriptions"
		if base == 4 {
			what = "subscriptions/resourceGroups"
		}
		return "Microsoft.Resources/" + what + "/" + strings.ToLower(segs[base]) + "/" + verb, join(base)
	}
	ns := segs[prov+1]
	rest := segs[prov+2:]
	if len(rest) == 0 {
		return "Microsoft.Resources/subscriptions/providers/read", join(prov + 2)
	}
	var types []string
	for i := 0; i < len(rest); i += 2 {
		types = append(types, rest[i])
	}
	typ := ns + "/" + strings.Join(types, "/")
	if strings.EqualFold(ns, "Microsoft.CostManagement") && strings.EqualFold(types[0], "query") {
		// The query is a POST that only reads: Reader may run it.
		return "Microsoft.CostManagement/query/read", join(prov)
	}
	if len(rest)%2 == 0 {
		return typ + "/" + verb, join(n)
	}
	if len(rest) == 1 { // a collection (a list), or POST .../providers/{ns}/register: over the container
		return typ + "/" + verb, join(prov)
	}
	// An action (POST .../{name}/start) or a child read (GET .../{name}/instanceView).
	if verb == "action" {
		return ns + "/" + strings.Join(types[:len(types)-1], "/") + "/" + rest[len(rest)-1] + "/action", join(n - 1)
	}
	return typ + "/" + verb, join(n - 1)
}

func verbOf(method string) string {
	switch method {
	case "GET", "HEAD":
		return "read"
	case "PUT", "PATCH":
		return "write"
	case "DELETE":
		return "delete"
	}
	return "action"
}
