package armapi

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
)

// whatIfDeployment answers Deployments - What If: what the deployment
// would change, resource by resource, without changing anything. Each
// resource of the template is read as it is (a GET through the handler,
// as the deploying principal) and compared with the body the template
// evaluates to: Create when it does not exist, NoChange when every
// property the template sets already has that value, else Modify with the
// properties that differ. A body that cannot be evaluated before the
// deployment runs (a reference() to a resource it creates) is Deploy for
// an existing resource: its changes cannot be computed. The answer is the
// operation's result at once (200, D: Resource Manager answers 202 and the
// result at its Location; clients poll either way).
func (s *Server) whatIfDeployment(r *request, sub, rg, name string) (reply, error) {
	prep, err := s.prepareDeployment(r, sub, rg, name)
	if err != nil {
		return reply{}, err
	}
	ctx := r.Context()
	ref := s.referencer(ctx, r.caller.Principal)
	changes := []any{}
	for _, res := range prep.plan.Resources {
		change := map[string]any{"resourceId": res.ID}
		status, _, current := s.inProcess(ctx, http.MethodGet, res.ID, res.APIVersion, nil, r.caller.Principal)
		var before map[string]any
		if status == http.StatusOK {
			_ = json.Unmarshal(current, &before)
		}
		body, err := prep.plan.Body(res, ref)
		after := map[string]any{}
		if err == nil {
			after = merged(before, body)
			after["id"], after["name"], after["type"], after["apiVersion"] = res.ID, res.ID[strings.LastIndex(res.ID, "/")+1:], res.Type, res.APIVersion
		}
		switch {
		case before == nil:
			change["changeType"] = "Create"
			if err == nil {
				change["after"] = after
			}
		case err != nil:
			change["changeType"], change["before"] = "Deploy", before
		default:
			delta := propertyChanges("", before, body)
			change["before"], change["after"] = before, after
			if len(delta) == 0 {
				change["changeType"] = "NoChange"
			} else {
				change["changeType"], change["delta"] = "Modify", delta
			}
		}
		changes = append(changes, change)
	}
	return ok(map[string]any{"status": "Succeeded", "properties": map[string]any{"changes": changes}})
}

// writeOnly are properties a GET never shows (secrets): a template that
// sets them changes nothing What If can see.
var writeOnly = map[string]bool{"adminpassword": true, "customdata": true, "protectedsettings": true, "secrets": true}

// propertyChanges lists the properties asked sets to other values than
// current has, as What If's delta: the path (dotted, [i] for array
// items), Create when current has none, else Modify. Keys match ignoring
// case, and strings that are resource IDs compare ignoring case, as ARM
// compares them.
func propertyChanges(path string, current any, asked any) []any {
	var out []any
	join := func(k string) string {
		if path == "" {
			return k
		}
		return path + "." + k
	}
	switch a := asked.(type) {
	case map[string]any:
		cur, _ := current.(map[string]any)
		keys := make([]string, 0, len(a))
		for k := range a {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if writeOnly[strings.ToLower(k)] {
				continue
			}
			var cv any
			found := false
			for ck, v := range cur {
				if strings.EqualFold(ck, k) {
					cv, found = v, true
				}
			}
			if !found && a[k] != nil {
				out = append(out, map[string]any{"path": join(k), "propertyChangeType": "Create", "after": a[k]})
				continue
			}
			out = append(out, propertyChanges(join(k), cv, a[k])...)
		}
	case []any:
		cur, ok := current.([]any)
		if !ok || len(cur) != len(a) {
			return []any{map[string]any{"path": path, "propertyChangeType": "Modify", "before": current, "after": asked}}
		}
		for i := range a {
			out = append(out, propertyChanges(path+"["+itoa(i)+"]", cur[i], a[i])...)
		}
	default:
		if !sameValue(current, asked) {
			out = append(out, map[string]any{"path": path, "propertyChangeType": "Modify", "before": current, "after": asked})
		}
	}
	return out
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// sameValue compares two JSON leaves: numbers by value, resource IDs
// ignoring case.
func sameValue(a, b any) bool {
	as, aok := a.(string)
	bs, bok := b.(string)
	if aok && bok {
		return as == bs || strings.HasPrefix(as, "/") && strings.EqualFold(as, bs)
	}
	ra, _ := json.Marshal(a)
	rb, _ := json.Marshal(b)
	return string(ra) == string(rb)
}

// merged is current with asked laid over it: the resource as it would be.
func merged(current, asked map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range current {
		out[k] = v
	}
	for k, v := range asked {
		if cm, ok := out[k].(map[string]any); ok {
			if am, ok := v.(map[string]any); ok {
				out[k] = merged(cm, am)
				continue
			}
		}
		out[k] = v
	}
	return out
}
