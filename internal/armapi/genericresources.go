package armapi

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/azemu/azemu/internal/armerror"
	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/lifecycle"
)

// genericResource is a resource as Resources - List shows it, whatever its
// kind: no properties, only what every resource has.
type genericResource struct {
	ID, Name, Type, Location string
	ResourceGroup            string
	Tags                     map[string]string
	SKU                      map[string]any
	ManagedBy                string
	Created                  time.Time
	ProvisioningState        string
}

func (g genericResource) body(expand map[string]bool) map[string]any {
	out := map[string]any{"id": g.ID, "name": g.Name, "type": g.Type, "location": g.Location}
	if g.Tags != nil {
		out["tags"] = g.Tags
	}
	if g.SKU != nil {
		out["sku"] = g.SKU
	}
	if g.ManagedBy != "" {
		out["managedBy"] = g.ManagedBy
	}
	if expand["createdtime"] && !g.Created.IsZero() {
		out["createdTime"] = g.Created.UTC().Format(time.RFC3339Nano)
	}
	if expand["changedtime"] && !g.Created.IsZero() {
		// azemu does not keep when a resource last changed (D): the
		// create time stands in for it.
		out["changedTime"] = g.Created.UTC().Format(time.RFC3339Nano)
	}
	if expand["provisioningstate"] && g.ProvisioningState != "" {
		out["provisioningState"] = g.ProvisioningState
	}
	return out
}

// modelTags reads the tags of a kept model.
func modelTags(model json.RawMessage) map[string]string {
	var m struct {
		Tags map[string]string `json:"tags"`
	}
	_ = json.Unmarshal(model, &m)
	return m.Tags
}

// genericResources lists every resource of a subscription (of one group
// when rg is set), sorted by ID as Resource Manager pages them: VMs and
// their extensions, scale sets, disks. Uniform instances are reached only
// through their set, so they are not listed, as in Azure.
func (s *Server) genericResources(sub, rg string) []genericResource {
	prefix := "/subscriptions/" + strings.ToLower(sub) + "/"
	if rg != "" {
		prefix = strings.ToLower(armid.ResourceGroupID(sub, rg)) + "/"
	}
	mine := func(id string) bool { return strings.HasPrefix(strings.ToLower(id), prefix) }
	var out []genericResource
	vms, _ := s.eng.ListVMs(func(v *engine.VM) bool {
		return mine(v.ID) && !strings.Contains(strings.ToLower(v.ID), "/virtualmachinescalesets/")
	}, "", 0)
	for _, v := range vms {
		out = append(out, genericResource{ID: v.ID, Name: v.Name, Type: "Microsoft.Compute/virtualMachines", Location: v.Spec.Location,
			ResourceGroup: v.ResourceGroup, Tags: modelTags(v.Model.Bytes()), ManagedBy: v.Spec.ScaleSetID, Created: v.TimeCreated,
			ProvisioningState: string(v.Machine.State.Provisioning)})
		for _, x := range s.eng.Extensions(v.ID) {
			out = append(out, genericResource{ID: x.ID, Name: v.Name + "/" + x.Name, Type: extensionType, Location: x.Spec.Location,
				ResourceGroup: x.ResourceGroup, Tags: modelTags(x.Spec.Model), Created: x.TimeCreated, ProvisioningState: string(lifecycle.Succeeded)})
		}
	}
	sets, _ := s.eng.ListScaleSets(func(set *engine.ScaleSet) bool { return mine(set.ID) }, "", 0)
	for _, set := range sets {
		g := genericResource{ID: set.ID, Name: set.Name, Type: engine.ScaleSetType, Location: set.Spec.Location, ResourceGroup: set.ResourceGroup,
			Tags: modelTags(set.Spec.Model), Created: set.TimeCreated, ProvisioningState: set.ProvisioningState}
		if sku := dig(s.renderScaleSet(set), "sku"); sku != nil {
			g.SKU = sku
		}
		out = append(out, g)
	}
	disks, _ := s.eng.ListDisks(func(d *engine.Disk) bool { return mine(d.ID) }, "", 0)
	for _, d := range disks {
		out = append(out, genericResource{ID: d.ID, Name: d.Name, Type: engine.DiskType, Location: d.Spec.Location, ResourceGroup: d.ResourceGroup,
			Tags: modelTags(d.Spec.Model), SKU: map[string]any{"name": d.Spec.SKU, "tier": diskSKUTier(d.Spec.SKU)}, ManagedBy: d.ManagedBy,
			Created: d.TimeCreated, ProvisioningState: "Succeeded"})
	}
	out = append(out, s.networkResources(mine)...)
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].ID) < strings.ToLower(out[j].ID) })
	return out
}

// extensionType is a VM extension's resource type.
const extensionType = "Microsoft.Compute/virtualMachines/extensions"

// resourceFilter is a parsed $filter of Resources - List: clauses joined by
// "and", each a test of one resource.
type resourceFilter []func(genericResource) bool

var (
	filterClause = regexp.MustCompile(`(?i)^\s*(resourceGroup|resourceType|name|location|tagName|tagValue)\s+eq\s+'((?:[^']|'')*)'\s*$`)
	filterFunc   = regexp.MustCompile(`(?i)^\s*(startswith|substringof)\s*\(\s*(tagName|name|'(?:[^']|'')*')\s*,\s*(tagName|name|'(?:[^']|'')*')\s*\)\s*$`)
	filterAnd    = regexp.MustCompile(`(?i)\s+and\s+`)
)

// parseResourceFilter reads the $filter forms Resource Manager takes and
// the Azure CLI sends: resourceGroup, resourceType, name and location eq;
// tagName eq (with tagValue eq); startswith(tagName, '...');
// substringof('...', name). A tag filter stands alone, as in Azure.
func parseResourceFilter(f string) (resourceFilter, error) {
	if strings.TrimSpace(f) == "" {
		return nil, nil
	}
	var out resourceFilter
	var tagName, tagValue *string
	tagClauses, otherClauses := 0, 0
	for _, clause := range filterAnd.Split(f, -1) {
		if m := filterClause.FindStringSubmatch(clause); m != nil {
			v := strings.ReplaceAll(m[2], "''", "'")
			switch strings.ToLower(m[1]) {
			case "resourcegroup":
				out = append(out, func(g genericResource) bool { return strings.EqualFold(g.ResourceGroup, v) })
			case "resourcetype":
				out = append(out, func(g genericResource) bool { return strings.EqualFold(g.Type, v) })
			case "name":
				out = append(out, func(g genericResource) bool { return strings.EqualFold(g.Name, v) })
			case "location":
				out = append(out, func(g genericResource) bool { return g.Location == armLocation(v) })
			case "tagname":
				tagName = &v
				tagClauses++
				continue
			case "tagvalue":
				tagValue = &v
				tagClauses++
				continue
			}
			otherClauses++
			continue
		}
		m := filterFunc.FindStringSubmatch(clause)
		if m == nil {
			return nil, fmt.Errorf("invalid clause %q", strings.TrimSpace(clause))
		}
		fn, a, b := strings.ToLower(m[1]), m[2], m[3]
		switch {
		case fn == "startswith" && strings.EqualFold(a, "tagName") && strings.HasPrefix(b, "'"):
			prefix := strings.ToLower(unquote(b))
			out = append(out, func(g genericResource) bool {
				for k := range g.Tags {
					if strings.HasPrefix(strings.ToLower(k), prefix) {
						return true
					}
				}
				return false
			})
			tagClauses++
		case fn == "substringof" && strings.HasPrefix(a, "'") && strings.EqualFold(b, "name"):
			part := strings.ToLower(unquote(a))
			out = append(out, func(g genericResource) bool { return strings.Contains(strings.ToLower(g.Name), part) })
			otherClauses++
		default:
			return nil, fmt.Errorf("invalid clause %q", strings.TrimSpace(clause))
		}
	}
	if tagValue != nil && tagName == nil {
		return nil, fmt.Errorf("tagValue needs tagName")
	}
	if tagClauses > 0 && otherClauses > 0 {
		return nil, fmt.Errorf("a tag filter cannot be combined with other filters")
	}
	if tagName != nil {
		name, value := *tagName, tagValue
		out = append(out, func(g genericResource) bool {
			for k, v := range g.Tags {
				if strings.EqualFold(k, name) && (value == nil || v == *value) {
					return true
				}
			}
			return false
		})
	}
	return out, nil
}

func unquote(s string) string { return strings.ReplaceAll(s[1:len(s)-1], "''", "'") }

func (f resourceFilter) match(g genericResource) bool {
	for _, test := range f {
		if !test(g) {
			return false
		}
	}
	return true
}

// listResources is Resources - List and Resource Groups - List Resources,
// with $filter, $expand (createdTime, changedTime, provisioningState),
// $top and paging by $skiptoken.
func (s *Server) listResources(r *request, sub, rg string) {
	if rg != "" {
		if _, ok := s.eng.Group(sub, rg); !ok {
			s.writeErr(r, armerror.ResourceGroupNotFound(rg))
			return
		}
	}
	q := r.URL.Query()
	filter, err := parseResourceFilter(q.Get("$filter"))
	if err != nil {
		s.writeError(r, errorf(armerror.CodeInvalidFilterInQueryString, "$filter",
			"Invalid $filter '%s' specified in the query string: %v.", q.Get("$filter"), err))
		return
	}
	expand := map[string]bool{}
	for _, e := range strings.Split(q.Get("$expand"), ",") {
		if e = strings.ToLower(strings.TrimSpace(e)); e != "" {
			expand[e] = true
		}
	}
	limit := s.pageSize
	if top := q.Get("$top"); top != "" {
		n, err := strconv.Atoi(top)
		if err != nil || n <= 0 {
			s.writeError(r, invalidParameter("$top", "The value '%s' of parameter '$top' is not a positive whole number.", top))
			return
		}
		limit = min(n, limit)
	}
	after := strings.ToLower(q.Get("$skiptoken"))
	value := []any{}
	next := ""
	for _, g := range s.genericResources(sub, rg) {
		key := strings.ToLower(g.ID)
		if (after != "" && key <= after) || !filter.match(g) || !r.readable(g.ID) {
			continue
		}
		if len(value) == limit {
			if q.Get("$top") == "" {
				next = strings.ToLower(value[len(value)-1].(map[string]any)["id"].(string))
			}
			break
		}
		value = append(value, g.body(expand))
	}
	s.writeList(r, value, next)
}
