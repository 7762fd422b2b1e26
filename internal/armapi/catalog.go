package armapi

import (
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/azemu/azemu/internal/catalog"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/lifecycle"
)

// What Azure offers rather than what a user made: regions, VM sizes, SKUs,
// quota usage and the marketplace image catalog, all from internal/catalog.

// providerBody is a namespace's metadata: its types with their regions and
// api-versions, which clients such as az resource read to pick a version.
func providerBody(sub, ns string) map[string]any {
	// Never null: a namespace azemu does not model still lists its
	// (empty) resource types as an array, as the Provider schema has it.
	types := []any{}
	if p, ok := catalog.FindProvider(ns); ok {
		ns = p.Namespace
		for _, t := range p.Types {
			locations := []string{}
			if t.Regional {
				locations = catalog.LocationDisplayNames()
			}
			types = append(types, map[string]any{"resourceType": t.Type, "locations": locations, "apiVersions": t.APIVersions})
		}
	}
	return map[string]any{
		"id":                 "/subscriptions/" + sub + "/providers/" + ns,
		"namespace":          ns,
		"registrationState":  "Registered",
		"registrationPolicy": "RegistrationRequired",
		"resourceTypes":      types,
	}
}

func (s *Server) listProviders(r *request, sub string) {
	var value []any
	for _, p := range catalog.Providers {
		value = append(value, providerBody(strings.ToLower(sub), p.Namespace))
	}
	s.writeJSON(r, http.StatusOK, map[string]any{"value": value})
}

func (s *Server) getProvider(r *request, sub, ns string) {
	// Any namespace registers: clients register what they use before using it.
	s.writeJSON(r, http.StatusOK, providerBody(strings.ToLower(sub), ns))
}

// listLocations is Subscriptions - List Locations.
func (s *Server) listLocations(r *request, sub string) {
	sub = strings.ToLower(sub)
	value := make([]any, 0, len(catalog.Locations))
	for _, l := range catalog.Locations {
		value = append(value, map[string]any{
			"id":                  "/subscriptions/" + sub + "/locations/" + l.Name,
			"name":                l.Name,
			"type":                "Region",
			"displayName":         l.DisplayName,
			"regionalDisplayName": l.RegionalDisplayName(),
			"metadata": map[string]any{
				"regionType": "Physical", "regionCategory": "Recommended", "geographyGroup": l.Geography,
				"physicalLocation": l.PhysicalPlace, "latitude": l.Latitude, "longitude": l.Longitude,
				"pairedRegion": []any{map[string]any{"name": l.PairedRegion, "id": "/subscriptions/" + sub + "/locations/" + l.PairedRegion}},
			},
		})
	}
	s.writeJSON(r, http.StatusOK, map[string]any{"value": value})
}

// regionFor finds the region of a .../locations/{loc}/{what} call, or
// answers Resource Manager's refusal of an unknown one.
func (s *Server) regionFor(r *request, loc, what string) (catalog.Location, bool) {
	l, ok := catalog.FindLocation(loc)
	if !ok {
		names := make([]string, len(catalog.Locations))
		for i, l := range catalog.Locations {
			names[i] = l.Name
		}
		s.writeError(r, errorf("NoRegisteredProviderFound", "",
			"No registered resource provider found for location '%s' and API version '%s' for type '%s'. The supported api-versions are '%s'. The supported locations are '%s'.",
			loc, r.apiVer, what, strings.Join(catalog.APIVersions("Microsoft.Compute", what), ", "), strings.Join(names, ", ")))
	}
	return l, ok
}

// listVMSizes is Virtual Machine Sizes - List.
func (s *Server) listVMSizes(r *request, loc string) {
	if _, ok := s.regionFor(r, loc, "locations/vmSizes"); !ok {
		return
	}
	s.writeJSON(r, http.StatusOK, vmSizeList())
}

// vmSizeList is the answer of both size lists: every size is offered in
// every region, and every host of a region takes every size (D).
func vmSizeList() map[string]any {
	value := make([]any, 0, len(catalog.Sizes))
	for _, z := range catalog.Sizes {
		value = append(value, map[string]any{
			"name": z.Name, "numberOfCores": z.ActiveCores, "osDiskSizeInMB": catalog.OSDiskMB,
			"resourceDiskSizeInMB": z.ResourceDiskMB, "memoryInMB": z.MemoryMB, "maxDataDiskCount": z.MaxDataDisks,
		})
	}
	return map[string]any{"value": value}
}

// listAvailableSizes is Virtual Machines - List Available Sizes: the sizes
// a VM can be resized to without moving to another host. The azurerm
// provider asks it before a resize, and deallocates the VM first when the
// new size is not listed.
func (s *Server) listAvailableSizes(r *request, sub, rg, name string) {
	if _, err := s.eng.GetVM(sub, rg, name); err != nil {
		s.writeErr(r, err)
		return
	}
	s.writeJSON(r, http.StatusOK, vmSizeList())
}

// skuLocationFilter is the one $filter Resource SKUs - List takes.
var skuLocationFilter = regexp.MustCompile(`(?i)^\s*location\s+eq\s+'([^']*)'\s*$`)

// listSKUs is Resource Skus - List: every VM size in every region.
func (s *Server) listSKUs(r *request) {
	locations := catalog.Locations
	if f := r.URL.Query().Get("$filter"); f != "" {
		m := skuLocationFilter.FindStringSubmatch(f)
		if m == nil {
			s.writeError(r, invalidParameter("$filter", "The $filter '%s' is not supported. Only location eq '<location>' is.", f))
			return
		}
		l, ok := catalog.FindLocation(m[1])
		locations = nil
		if ok {
			locations = []catalog.Location{l}
		}
	}
	value := []any{}
	for _, z := range catalog.Sizes {
		for _, l := range locations {
			zones := []string{}
			if l.AvailableZones {
				zones = []string{"1", "2", "3"}
			}
			capability := func(name string, v any) map[string]any {
				var text string
				switch v := v.(type) {
				case int:
					text = strconv.Itoa(v)
				case bool:
					text = "False"
					if v {
						text = "True"
					}
				default:
					text = v.(string)
				}
				return map[string]any{"name": name, "value": text}
			}
			value = append(value, map[string]any{
				"resourceType": "virtualMachines",
				"name":         z.Name,
				"tier":         "Standard",
				"size":         strings.TrimPrefix(z.Name, "Standard_"),
				"family":       z.QuotaFamily(),
				"locations":    []string{l.Name},
				"locationInfo": []any{map[string]any{"location": l.Name, "zones": zones, "zoneDetails": []any{}}},
				"capabilities": []any{
					capability("MaxResourceVolumeMB", z.ResourceDiskMB),
					capability("OSVhdSizeMB", catalog.OSDiskMB),
					capability("vCPUs", z.Cores),
					capability("MemoryGB", strconv.FormatFloat(float64(z.MemoryMB)/1024, 'f', -1, 64)),
					capability("MaxDataDiskCount", z.MaxDataDisks),
					capability("LowPriorityCapable", true),
					capability("PremiumIO", z.PremiumIO),
					capability("vCPUsAvailable", z.ActiveCores),
					capability("HyperVGenerations", "V1,V2"),
					capability("CpuArchitectureType", "x64"),
					capability("EphemeralOSDiskSupported", z.ResourceDiskMB > 0),
				},
				"restrictions": []any{},
			})
		}
	}
	s.writeJSON(r, http.StatusOK, map[string]any{"value": value})
}

// quotaWithoutCapacity is the limit shown for a family --capacity does not
// limit (D: azemu has no quota; Azure always shows a number).
const quotaWithoutCapacity = 10000

// listUsages is Usage - List: per region, the cores that VMs hold per quota
// family (a VM holds its cores while allocated or being allocated, the rule
// --capacity applies), against the limits --capacity sets.
func (s *Server) listUsages(r *request, sub, loc string) {
	l, ok := s.regionFor(r, loc, "locations/usages")
	if !ok {
		return
	}
	subKey := "/subscriptions/" + strings.ToLower(sub) + "/"
	used := map[string]int{}
	total, vms := 0, 0
	vmsOf, _ := s.eng.ListVMs(func(v *engine.VM) bool {
		return v.Spec.Location == l.Name && strings.HasPrefix(strings.ToLower(v.ID), subKey)
	}, "", 0)
	for _, v := range vmsOf {
		vms++
		run := v.Machine.Run
		holds := v.Machine.State.Power.Allocated() || (run != nil && run.Failure == nil && lifecycle.NeedsAllocation(run.Plan))
		size, known := catalog.FindSize(v.Spec.VMSize)
		if holds && known {
			used[size.Family] += size.Cores
			total += size.Cores
		}
	}
	sets, _ := s.eng.ListScaleSets(func(set *engine.ScaleSet) bool {
		return set.Spec.Location == l.Name && strings.HasPrefix(strings.ToLower(set.ID), subKey)
	}, "", 0)
	usage := func(name, display string, current, limit int) map[string]any {
		return map[string]any{"unit": "Count", "currentValue": current, "limit": limit,
			"name": map[string]any{"value": name, "localizedValue": display}}
	}
	value := []any{
		usage("availabilitySets", "Availability Sets", 0, 2500),
		usage("cores", "Total Regional vCPUs", total, quotaWithoutCapacity),
		usage("virtualMachines", "Virtual Machines", vms, 25000),
		usage("virtualMachineScaleSets", "Virtual Machine Scale Sets", len(sets), 2500),
	}
	families := catalog.Families()
	sort.Strings(families)
	for _, f := range families {
		limit, limited := s.eng.CapacityLimit(l.Name, f)
		if !limited {
			limit = quotaWithoutCapacity
		}
		value = append(value, usage(catalog.QuotaFamilyName(f), catalog.QuotaFamilyDisplay(f), used[f], limit))
	}
	s.writeJSON(r, http.StatusOK, map[string]any{"value": value})
}

// routeImages serves the VM image catalog under
// .../locations/{loc}/publishers: publishers, offers, SKUs, versions.
func (s *Server) routeImages(r *request, sub string) {
	n := len(r.segs)
	shape := n == 7 || (n >= 11 && r.seg(8, "artifacttypes") && r.seg(9, "vmimage") && r.seg(10, "offers")) &&
		(n == 11 || (n >= 13 && r.seg(12, "skus") && (n == 13 || (n >= 15 && r.seg(14, "versions") && n <= 16))))
	if !shape {
		s.notFound(r)
		return
	}
	if r.Method != http.MethodGet {
		s.methodNotAllowed(r)
		return
	}
	l, ok := s.regionFor(r, r.segs[5], "locations/publishers")
	if !ok {
		return
	}
	base := "/Subscriptions/" + strings.ToLower(sub) + "/Providers/Microsoft.Compute/Locations/" + l.Name + "/Publishers/"
	item := func(id, name string) map[string]any {
		return map[string]any{"id": id, "name": name, "location": l.Name}
	}
	notFound := func() {
		s.writeError(r, errorf("NotFound", "", "Artifact: VMImage was not found."))
	}
	list := func(names []string, prefix string) {
		if names == nil {
			notFound()
			return
		}
		out := make([]any, 0, len(names))
		for _, name := range names {
			out = append(out, item(prefix+name, name))
		}
		s.writeJSON(r, http.StatusOK, out)
	}
	switch n {
	case 7:
		list(catalog.Publishers(), base)
	case 11:
		list(catalog.Offers(r.segs[7]), base+r.segs[7]+"/ArtifactTypes/VMImage/Offers/")
	case 13:
		list(catalog.SKUs(r.segs[7], r.segs[11]), base+r.segs[7]+"/ArtifactTypes/VMImage/Offers/"+r.segs[11]+"/Skus/")
	case 15, 16:
		img, ok := catalog.FindImage(r.segs[7], r.segs[11], r.segs[13])
		if !ok {
			notFound()
			return
		}
		prefix := base + img.Publisher + "/ArtifactTypes/VMImage/Offers/" + img.Offer + "/Skus/" + img.SKU + "/Versions/"
		if n == 16 {
			v, ok := img.Version(r.segs[15])
			if !ok {
				notFound()
				return
			}
			body := item(prefix+v, v)
			body["properties"] = imageProperties(img)
			s.writeJSON(r, http.StatusOK, body)
			return
		}
		s.listImageVersions(r, img, prefix, item)
	}
}

// listImageVersions is Virtual Machine Images - List, with its $top,
// $orderby=name [asc|desc] and $expand=properties.
func (s *Server) listImageVersions(r *request, img catalog.Image, prefix string, item func(id, name string) map[string]any) {
	q := r.URL.Query()
	versions := append([]string(nil), img.Versions...)
	switch order := strings.ToLower(strings.TrimSpace(q.Get("$orderby"))); order {
	case "", "name", "name asc":
	case "name desc":
		for i, j := 0, len(versions)-1; i < j; i, j = i+1, j-1 {
			versions[i], versions[j] = versions[j], versions[i]
		}
	default:
		s.writeError(r, invalidParameter("$orderby", "The $orderby '%s' is not supported. Only 'name asc' and 'name desc' are.", q.Get("$orderby")))
		return
	}
	if top := q.Get("$top"); top != "" {
		n, err := strconv.Atoi(top)
		if err != nil || n < 0 {
			s.writeError(r, invalidParameter("$top", "The value '%s' of parameter '$top' is not a whole number.", top))
			return
		}
		versions = versions[:min(n, len(versions))]
	}
	expand := strings.EqualFold(q.Get("$expand"), "properties")
	out := make([]any, 0, len(versions))
	for _, v := range versions {
		it := item(prefix+v, v)
		if expand {
			it["properties"] = imageProperties(img)
		}
		out = append(out, it)
	}
	s.writeJSON(r, http.StatusOK, out)
}

// imageProperties are a marketplace image version's properties.
func imageProperties(img catalog.Image) map[string]any {
	diskGB := 30
	if img.OSType == "Windows" {
		diskGB = 127
	}
	return map[string]any{
		"hyperVGeneration":             img.HyperVGeneration,
		"architecture":                 img.Architecture,
		"replicaType":                  "Unmanaged",
		"osDiskImage":                  map[string]any{"operatingSystem": img.OSType, "sizeInGb": diskGB},
		"dataDiskImages":               []any{},
		"automaticOSUpgradeProperties": map[string]any{"automaticOSUpgradeSupported": false},
		"disallowed":                   map[string]any{"vmDiskType": "Unmanaged"},
	}
}
