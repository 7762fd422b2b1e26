package armapi

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/azemu/azemu/internal/armerror"
	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/lifecycle"
)

// routeScaleSets serves .../providers/Microsoft.Compute/virtualMachineScaleSets[/...].
func (s *Server) routeScaleSets(r *request, sub, rg string) {
	if s.routeScaleSetNetwork(r, sub, rg) {
		return
	}
	n := len(r.segs)
	switch {
	case n <= 8:
		s.routeNamed(r, sub, rg, namedRoutes{(*Server).listScaleSets, (*Server).putScaleSet, (*Server).getScaleSet, (*Server).deleteScaleSet})
	case n == 9 && r.seg(8, "instanceView"):
		s.onlyGET(r, func(r *request) { s.getScaleSetInstanceView(r, sub, rg, r.segs[7]) })
	case n == 9 && r.seg(8, "virtualMachines"):
		s.onlyGET(r, func(r *request) { s.listInstances(r, sub, rg, r.segs[7]) })
	case n == 9:
		if r.Method != http.MethodPost {
			s.methodNotAllowed(r)
			return
		}
		s.scaleSetAction(r, sub, rg, r.segs[7], r.lower[8])
	case n == 10 && r.seg(8, "virtualMachines"):
		switch r.Method {
		case http.MethodGet:
			s.getInstance(r, sub, rg, r.segs[7], r.segs[9], false)
		case http.MethodDelete:
			s.deleteInstance(r, sub, rg, r.segs[7], r.segs[9])
		default:
			s.methodNotAllowed(r)
		}
	case n == 11 && r.seg(8, "virtualMachines") && r.seg(10, "instanceView"):
		s.onlyGET(r, func(r *request) { s.getInstance(r, sub, rg, r.segs[7], r.segs[9], true) })
	case n == 11 && r.seg(8, "virtualMachines"):
		if r.Method != http.MethodPost {
			s.methodNotAllowed(r)
			return
		}
		s.instanceAction(r, sub, rg, r.segs[7], r.segs[9], r.lower[10])
	default:
		s.notFound(r)
	}
}

// vmssInput is the part of a scale set body azemu validates and acts on.
type vmssInput struct {
	Location string `json:"location"`
	SKU      *struct {
		Name     string `json:"name"`
		Tier     string `json:"tier"`
		Capacity *int64 `json:"capacity"`
	} `json:"sku"`
	Properties *struct {
		OrchestrationMode     string         `json:"orchestrationMode"`
		VirtualMachineProfile map[string]any `json:"virtualMachineProfile"`
	} `json:"properties"`
}

// vmssReadOnly are properties the server owns.
var vmssReadOnly = []string{"provisioningState", "uniqueId", "timeCreated"}

func (s *Server) putScaleSet(r *request, sub, rg, name string, patch bool) {
	var body map[string]any
	if !s.readComputeBody(r, name, &body) {
		return
	}
	if patch {
		if _, err := s.eng.GetScaleSet(sub, rg, name); err != nil {
			s.writeErr(r, err)
			return
		}
	}
	res, err := s.eng.Do(ctxWithoutCancel(r.Context()), engine.Command{
		ID: armid.ComputeID(sub, rg, "virtualMachineScaleSets", name), Verb: engine.VerbPut,
		IfMatch: r.Header.Get("If-Match"), IfNoneMatch: r.Header.Get("If-None-Match"),
		Build: engine.Build(func(old *engine.ScaleSet) (any, error) {
			b := body
			if patch && old != nil {
				var model map[string]any
				if err := json.Unmarshal(old.Spec.Model, &model); err != nil {
					return nil, err
				}
				if tags, ok := body["tags"]; ok {
					delete(model, "tags")
					if tags != nil {
						model["tags"] = tags
					}
				}
				b = mergePatch(model, withoutKeys(body, "tags", "location", "id", "name", "type"))
				if cap, ok := dig(body, "sku")["capacity"]; !ok || cap == nil {
					// A PATCH that does not name the capacity keeps the instances.
					delete(dig(b, "sku"), "capacity")
				}
			} else if old != nil {
				keepScaleSetProfile(old, b)
			}
			spec, err := checkScaleSet(armid.Fold(sub), rgName(s, sub, rg), name, b, old)
			if err != nil {
				return nil, err
			}
			return engine.ScaleSetPut{Spec: spec, Instance: s.newInstance}, nil
		}),
	})
	if err != nil {
		s.writeErr(r, err)
		return
	}
	set := res.State.(*engine.ScaleSet)
	s.writePut(r, res.Operation, set.ETag(), res.Created, s.renderScaleSet(set))
}

// keepScaleSetProfile fills in what a PUT on an existing scale set may leave
// out: the whole virtualMachineProfile (az vmss scale sends only location
// and sku) and the profile's image reference (az vmss update drops it, as
// az vm update does).
func keepScaleSetProfile(old *engine.ScaleSet, body map[string]any) {
	var prev map[string]any
	if json.Unmarshal(old.Spec.Model, &prev) != nil {
		return
	}
	canonicalKeys(body, vmssKeys)
	props, _ := body["properties"].(map[string]any)
	if props == nil {
		props = map[string]any{}
		body["properties"] = props
	}
	if p, ok := props["virtualMachineProfile"]; !ok || p == nil {
		if pp, ok := dig(prev, "properties")["virtualMachineProfile"]; ok {
			props["virtualMachineProfile"] = pp
		}
		return
	}
	if p, ok := props["virtualMachineProfile"].(map[string]any); ok {
		canonicalKeys(p, vmKeys["properties"])
	}
	keepImageReference(old.Spec.Model, body, "properties", "virtualMachineProfile", "storageProfile")
}

func withoutKeys(m map[string]any, keys ...string) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for _, k := range keys {
		delete(out, k)
	}
	return out
}

// checkScaleSet validates a scale set body as Azure does and returns the
// spec to keep, with the model normalised and its secrets removed.
func checkScaleSet(sub, rg, name string, body map[string]any, old *engine.ScaleSet) (engine.ScaleSetSpec, *armerror.Error) {
	var spec engine.ScaleSetSpec
	canonicalKeys(body, vmssKeys)
	if props, ok := body["properties"].(map[string]any); ok {
		if p, ok := props["virtualMachineProfile"].(map[string]any); ok {
			canonicalKeys(p, vmKeys["properties"])
			if op, ok := p["osProfile"].(map[string]any); ok {
				canonicalKeys(op, keyTree{"computerNamePrefix": nil})
			}
		}
	}
	var in vmssInput
	if e := retyped(body, &in); e != nil {
		return spec, e
	}
	if strings.TrimSpace(in.Location) == "" {
		return spec, missingParameter("location")
	}
	mode := engine.Uniform // (D) the API's default when the body does not say
	var profile map[string]any
	if in.Properties != nil {
		if in.Properties.OrchestrationMode != "" {
			mode = canonicalOneOf(in.Properties.OrchestrationMode, engine.Uniform, engine.Flexible)
			if mode == "" {
				return spec, invalidParameter("orchestrationMode", "The value '%s' of parameter 'orchestrationMode' is not allowed. Allowed values are 'Uniform' and 'Flexible'.", in.Properties.OrchestrationMode)
			}
		}
		profile = in.Properties.VirtualMachineProfile
	}
	if old != nil {
		if in.Properties != nil && in.Properties.OrchestrationMode != "" && mode != old.Spec.Mode {
			return spec, errorf("PropertyChangeNotAllowed", "orchestrationMode", "Changing property 'orchestrationMode' is not allowed.")
		}
		mode = old.Spec.Mode
	}
	spec = engine.ScaleSetSpec{Location: armLocation(in.Location), Mode: mode, Capacity: -1, HasProfile: profile != nil}
	if mode == engine.Uniform && profile == nil {
		return spec, missingParameter("virtualMachineProfile")
	}
	if profile != nil && (in.SKU == nil || strings.TrimSpace(in.SKU.Name) == "") {
		return spec, missingParameter("sku.name")
	}
	if in.SKU != nil && in.SKU.Capacity != nil {
		if *in.SKU.Capacity < 0 || *in.SKU.Capacity > 1000 {
			return spec, invalidParameter("sku.capacity", "The value %d of parameter 'sku.capacity' is out of range. The value must be between 0 and 1000, inclusive.", *in.SKU.Capacity)
		}
		spec.Capacity = *in.SKU.Capacity
	} else if old == nil && profile != nil {
		spec.Capacity = 0
	}
	if profile != nil {
		// The profile must make a valid VM; the password is only there
		// when the set is created (Azure never returns it).
		vm := instanceBody(spec.Location, mode, in.SKU.Name, "", "probe", profile)
		if _, aerr := checkVM(name, vm, old != nil); aerr != nil {
			return spec, aerr
		}
	}
	m := withoutKeys(body, "id", "name", "type", "etag")
	m["location"] = spec.Location
	props, _ := m["properties"].(map[string]any)
	if props == nil {
		props = map[string]any{}
		m["properties"] = props
	}
	for _, k := range vmssReadOnly {
		delete(props, k)
	}
	dropUnset(props, unsetOmitted...)
	props["orchestrationMode"] = mode
	if op := dig(props, "virtualMachineProfile", "osProfile"); op != nil {
		delete(op, "adminPassword")
		delete(op, "customData")
	}
	model, err := json.Marshal(m)
	if err != nil {
		return spec, errorf("InvalidRequestContent", "", "%v", err)
	}
	spec.Model = model
	return spec, nil
}

// vmssKeys are the scale set properties azemu reads, matched ignoring case
// as ARM does; the profile is matched with the VM's keys.
var vmssKeys = keyTree{
	"id": nil, "name": nil, "type": nil, "etag": nil, "location": nil, "tags": nil,
	"sku": {"name": nil, "tier": nil, "capacity": nil},
	"properties": {"orchestrationMode": nil, "virtualMachineProfile": nil, "provisioningState": nil,
		"uniqueId": nil, "timeCreated": nil},
}

// instanceBody is the VM body an instance of a scale set is made from: the
// set's profile with the set's size, and a computer name from the prefix.
func instanceBody(location, mode, vmSize, setID, computerName string, profile map[string]any) map[string]any {
	copyOf := func(v any) any {
		raw, _ := json.Marshal(v)
		var out any
		_ = json.Unmarshal(raw, &out)
		return out
	}
	props := map[string]any{"hardwareProfile": map[string]any{"vmSize": vmSize}}
	for _, k := range []string{"storageProfile", "osProfile", "networkProfile", "priority", "evictionPolicy", "billingProfile", "licenseType"} {
		if v, ok := profile[k]; ok {
			props[k] = copyOf(v)
		}
	}
	if op, ok := props["osProfile"].(map[string]any); ok {
		delete(op, "computerNamePrefix")
		op["computerName"] = computerName
	}
	if od := dig(props, "storageProfile", "osDisk"); od != nil {
		// Each instance has a disk of its own, named by Azure; a scale set
		// deletes its instances' OS disks with them.
		delete(od, "name")
		setDefault(od, "deleteOption", "Delete")
	}
	if mode == engine.Flexible && setID != "" {
		props["virtualMachineScaleSet"] = map[string]any{"id": setID}
	}
	return map[string]any{"location": location, "properties": props}
}

// newInstance is scaleSetInstance as the engine asks for it: a nil
// *armerror.Error must not become a non-nil error.
func (s *Server) newInstance(set *engine.ScaleSet, n int) (engine.NewInstance, error) {
	return asError(scaleSetInstance(set, n, s.eng.NewID))
}

// scaleSetInstance derives instance n of a set from its profile: Uniform
// instance "n" named <set>_<n>, or a Flexible member named <set>_<8 hex>.
func scaleSetInstance(set *engine.ScaleSet, n int, newID func() string) (engine.NewInstance, *armerror.Error) {
	var model map[string]any
	_ = json.Unmarshal(set.Spec.Model, &model)
	profile := dig(model, "properties", "virtualMachineProfile")
	vmSize := str(dig(model, "sku")["name"])
	prefix := str(dig(profile, "osProfile")["computerNamePrefix"])
	if prefix == "" {
		prefix = set.Name
	}
	var inst engine.NewInstance
	var computerName string
	if set.Uniform() {
		id := strconv.Itoa(n)
		inst.ID, inst.Name = engine.InstanceID(set.ID, id), set.Name+"_"+id
		// Azure appends the instance ID in base 36, six digits.
		computerName = prefix + leftPad(strings.ToLower(strconv.FormatInt(int64(n), 36)), 6)
	} else {
		suffix := strings.ReplaceAll(newID(), "-", "")
		inst.Name = set.Name + "_" + suffix[:8]
		inst.ID = armid.VirtualMachineID(set.SubscriptionID, set.ResourceGroup, inst.Name)
		computerName = prefix + suffix[8:14]
	}
	body := instanceBody(set.Spec.Location, set.Spec.Mode, vmSize, set.ID, computerName, profile)
	canonicalKeys(body, vmKeys)
	spec, aerr := checkVM(inst.Name, body, true)
	if aerr != nil {
		return inst, aerr
	}
	spec.ScaleSetID = set.ID
	normalised := normaliseVMModel(set.SubscriptionID, set.ResourceGroup, inst.Name, body, spec, newID)
	if spec.Disks, aerr = diskRefs(normalised); aerr != nil {
		return inst, aerr
	}
	// The profile's networkInterfaceConfigurations give each instance its
	// interfaces: a Uniform instance's under the instance, a Flexible
	// member's as a VM's, going with the member unless they say Detach (D).
	naming := instanceNaming(inst.ID)
	if !set.Uniform() {
		naming = vmNaming(set.SubscriptionID, set.ResourceGroup, inst.Name)
		naming.deleteOption, naming.subnetOptional = "Delete", true
	}
	if spec.NICs, aerr = nicRefs(spec.Location, normalised, naming); aerr != nil {
		return inst, aerr
	}
	inst.Model, _ = json.Marshal(normalised)
	inst.Spec = spec
	return inst, nil
}

func leftPad(s string, n int) string {
	for len(s) < n {
		s = "0" + s
	}
	return s
}

// renderScaleSet is the scale set as ARM shows it.
func (s *Server) renderScaleSet(set *engine.ScaleSet) map[string]any {
	var out map[string]any
	_ = json.Unmarshal(set.Spec.Model, &out)
	if out == nil {
		out = map[string]any{}
	}
	out["id"] = set.ID
	out["name"] = set.Name
	out["type"] = engine.ScaleSetType
	out["location"] = set.Spec.Location
	out["etag"] = set.ETag()
	props, _ := out["properties"].(map[string]any)
	if props == nil {
		props = map[string]any{}
		out["properties"] = props
	}
	props["provisioningState"] = set.ProvisioningState
	props["uniqueId"] = set.UniqueID
	props["timeCreated"] = lifecycle.FormatTime(set.TimeCreated)
	props["orchestrationMode"] = set.Spec.Mode
	if sku := dig(out, "sku"); sku != nil {
		// The capacity is the instances the set keeps (less those being
		// deleted), so deleting instances lowers it, as in Azure.
		live := 0
		for _, v := range s.eng.Members(set) {
			if v.Machine.State.Provisioning != lifecycle.Deleting {
				live++
			}
		}
		sku["capacity"] = live
		setDefault(sku, "tier", "Standard")
	}
	return out
}

func (s *Server) getScaleSet(sub, rg, name string) (reply, error) {
	set, err := s.eng.GetScaleSet(sub, rg, name)
	if err != nil {
		return reply{}, err
	}
	return tagged(set.ETag(), s.renderScaleSet(set))
}

func (s *Server) listScaleSets(r *request, sub, rg string) { s.listScaleSetsWhere(r, sub, rg, "") }

func (s *Server) listScaleSetsByLocation(r *request, sub, location string) {
	s.listScaleSetsWhere(r, sub, "", armLocation(location))
}

func (s *Server) listScaleSetsWhere(r *request, sub, rg, location string) {
	if rg != "" {
		if _, ok := s.eng.Group(sub, rg); !ok {
			s.writeErr(r, armerror.ResourceGroupNotFound(rg))
			return
		}
	}
	prefix := "/subscriptions/" + armid.Fold(sub) + "/"
	if rg != "" {
		prefix = strings.ToLower(armid.ResourceGroupID(sub, rg)) + "/"
	}
	page, next := s.eng.ListScaleSets(func(set *engine.ScaleSet) bool {
		return strings.HasPrefix(strings.ToLower(set.ID), prefix) && (location == "" || set.Spec.Location == location) && r.readable(set.ID)
	}, r.URL.Query().Get("$skiptoken"), s.pageSize)
	value := make([]any, 0, len(page))
	for _, set := range page {
		value = append(value, s.renderScaleSet(set))
	}
	s.writeList(r, value, next)
}

func (s *Server) deleteScaleSet(r *request, sub, rg, name string) {
	force := strings.EqualFold(r.URL.Query().Get("forceDeletion"), "true")
	res, err := s.eng.Do(ctxWithoutCancel(r.Context()), engine.Command{
		ID: armid.ComputeID(sub, rg, "virtualMachineScaleSets", name), Verb: engine.VerbDelete, Input: engine.ScaleSetDelete{Force: force}})
	if err != nil {
		s.writeErr(r, err)
		return
	}
	op := res.Operation
	if !res.Found {
		if _, ok := s.eng.Group(sub, rg); !ok {
			s.writeErr(r, armerror.ResourceGroupNotFound(rg))
			return
		}
		// Deleting what is not there succeeds with 204, as ARM does.
		r.w.WriteHeader(http.StatusNoContent)
		return
	}
	s.setLRO(r, op, true)
	r.w.WriteHeader(http.StatusAccepted)
}

// scaleSetActions maps a scale set's POST action (lower case) to the
// operation it runs on each selected instance.
var scaleSetActions = withPowerActions(map[string]lifecycle.Kind{
	"reimageall": lifecycle.Reimage,
	"delete":     lifecycle.Delete,
})

func (s *Server) scaleSetAction(r *request, sub, rg, name, action string) {
	kind, ok := scaleSetActions[action]
	if !ok {
		s.notFound(r)
		return
	}
	var in struct {
		InstanceIDs []string `json:"instanceIds"`
	}
	if !s.readOptionalJSON(r, &in) {
		return
	}
	if kind == lifecycle.Delete && len(in.InstanceIDs) == 0 {
		s.writeError(r, missingParameter("instanceIds"))
		return
	}
	if len(in.InstanceIDs) == 1 && in.InstanceIDs[0] == "*" {
		// "*" names every instance: the Azure CLI sends it for a whole set.
		in.InstanceIDs = nil
	}
	q := r.URL.Query()
	req := lifecycle.Request{Kind: kind,
		SkipShutdown: strings.EqualFold(q.Get("skipShutdown"), "true"),
		Hibernate:    strings.EqualFold(q.Get("hibernate"), "true"),
		Force:        strings.EqualFold(q.Get("forceDeletion"), "true"),
	}
	res, err := s.eng.Do(ctxWithoutCancel(r.Context()), engine.Command{
		ID: armid.ComputeID(sub, rg, "virtualMachineScaleSets", name), Verb: engine.VerbAct,
		Input: engine.BatchRequest{Action: canonicalAction(action), Req: req, InstanceIDs: in.InstanceIDs}})
	if err != nil {
		s.writeErr(r, err)
		return
	}
	s.setLRO(r, res.Operation, true)
	r.w.WriteHeader(http.StatusAccepted)
}

// canonicalAction is an action's name as Azure's messages spell it.
func canonicalAction(action string) string {
	switch action {
	case "poweroff":
		return "powerOff"
	case "reimageall":
		return "reimageAll"
	case "runcommand":
		return "runCommand"
	}
	return action
}

// flexibleRefused is Azure's answer to a Uniform-only API on a Flexible set
// (D: the status and wording of the refusal).
func flexibleRefused(set *engine.ScaleSet, what string) *armerror.Error {
	e := armerror.New(armerror.CodeOperationNotAllowed,
		"The operation '%s' is not supported for Virtual Machine Scale Set '%s' with 'Flexible' orchestration mode.", what, set.Name)
	e.Status = http.StatusBadRequest // a bad request here, not a conflict with the state
	return e
}

type statusCount struct {
	Code  string `json:"code"`
	Count int    `json:"count"`
}

func (s *Server) getScaleSetInstanceView(r *request, sub, rg, name string) {
	set, err := s.eng.GetScaleSet(sub, rg, name)
	if err != nil {
		s.writeErr(r, err)
		return
	}
	if !set.Uniform() {
		s.writeError(r, flexibleRefused(set, "instanceView"))
		return
	}
	counts := map[string]int{}
	for _, v := range s.eng.Members(set) {
		for _, st := range v.Machine.State.Statuses() {
			counts[st.Code]++
		}
	}
	summary := make([]statusCount, 0, len(counts))
	for code, n := range counts {
		summary = append(summary, statusCount{Code: code, Count: n})
	}
	sort.Slice(summary, func(i, j int) bool { return summary[i].Code < summary[j].Code })
	s.writeJSON(r, http.StatusOK, map[string]any{
		"virtualMachine": map[string]any{"statusesSummary": summary},
		"extensions":     extensionsSummary(set, s.eng.Members(set)),
		"statuses":       []lifecycle.Status{scaleSetStatus(set)},
	})
}

// extensionsSummary counts, for each extension of the set's profile, its
// instances by extension status. Profile extensions install as part of
// each instance's create (D), so an instance's extension is transitioning
// while it is created, failed when it failed, and succeeded otherwise.
func extensionsSummary(set *engine.ScaleSet, members []*engine.VM) []any {
	var model map[string]any
	_ = json.Unmarshal(set.Spec.Model, &model)
	exts, _ := dig(model, "properties", "virtualMachineProfile", "extensionProfile")["extensions"].([]any)
	out := []any{}
	for _, x := range exts {
		name := str(x.(map[string]any)["name"])
		if name == "" {
			continue
		}
		counts := map[string]int{}
		for _, v := range members {
			code := "ProvisioningState/succeeded"
			switch v.Machine.State.Provisioning {
			case lifecycle.Creating:
				code = "ProvisioningState/transitioning"
			case lifecycle.Failed:
				code = "ProvisioningState/failed"
			}
			counts[code]++
		}
		summary := make([]statusCount, 0, len(counts))
		for code, n := range counts {
			summary = append(summary, statusCount{Code: code, Count: n})
		}
		sort.Slice(summary, func(i, j int) bool { return summary[i].Code < summary[j].Code })
		out = append(out, map[string]any{"name": name, "statusesSummary": summary})
	}
	return out
}

// scaleSetStatus is the set's own provisioning status.
func scaleSetStatus(set *engine.ScaleSet) lifecycle.Status {
	state := set.ProvisioningState
	display := state
	if state == "Succeeded" {
		display = "Provisioning succeeded"
	} else if state == "Failed" {
		display = "Provisioning failed"
	}
	level := lifecycle.Info
	if state == "Failed" {
		level = lifecycle.Error
	}
	return lifecycle.Status{Code: "ProvisioningState/" + strings.ToLower(state), Level: level, DisplayStatus: display,
		Time: statusTime(set.TimeCreated)}
}

func (s *Server) uniformSet(r *request, sub, rg, name, what string) (*engine.ScaleSet, bool) {
	set, err := s.eng.GetScaleSet(sub, rg, name)
	if err != nil {
		s.writeErr(r, err)
		return nil, false
	}
	if !set.Uniform() {
		s.writeError(r, flexibleRefused(set, what))
		return nil, false
	}
	return set, true
}

func (s *Server) listInstances(r *request, sub, rg, name string) {
	set, ok := s.uniformSet(r, sub, rg, name, "virtualMachines")
	if !ok {
		return
	}
	a := answerVM
	if strings.EqualFold(r.URL.Query().Get("$expand"), "instanceView") {
		a = answerVMInstanceView
	}
	writePage(r, instancePage(set, s.eng.Members(set), a)) // listrender.go
}

func (s *Server) getInstance(r *request, sub, rg, name, instanceID string, viewOnly bool) {
	set, ok := s.uniformSet(r, sub, rg, name, "virtualMachines")
	if !ok {
		return
	}
	v, err := s.eng.GetInstance(sub, rg, name, instanceID)
	if err != nil {
		s.writeErr(r, err)
		return
	}
	if viewOnly {
		iv := instanceView(v)
		writeBody(r, http.StatusOK, append(appendInstanceView(nil, &iv), '\n'))
		return
	}
	a := answerVM
	if strings.EqualFold(r.URL.Query().Get("$expand"), "instanceView") {
		a = answerVMInstanceView
	}
	r.w.Header().Set("ETag", v.ETag())
	writeBody(r, http.StatusOK, append(appendVMItem(nil, v, a, set), '\n')) // listrender.go
}

func (s *Server) deleteInstance(r *request, sub, rg, name, instanceID string) {
	if _, ok := s.uniformSet(r, sub, rg, name, "virtualMachines"); !ok {
		return
	}
	if _, err := s.eng.GetInstance(sub, rg, name, instanceID); err != nil {
		r.w.WriteHeader(http.StatusNoContent) // as for VMs: nothing to delete
		return
	}
	req := lifecycle.Request{Kind: lifecycle.Delete, Force: strings.EqualFold(r.URL.Query().Get("forceDeletion"), "true")}
	s.runInstanceAction(r, sub, rg, name, instanceID, req)
}

func (s *Server) instanceAction(r *request, sub, rg, name, instanceID, action string) {
	kind, ok := vmActions[action]
	if action == "reimageall" {
		kind, ok = lifecycle.Reimage, true
	}
	if !ok || kind == lifecycle.Generalize {
		s.notFound(r)
		return
	}
	if _, ok := s.uniformSet(r, sub, rg, name, "virtualMachines"); !ok {
		return
	}
	req, ok := s.actionRequest(r, kind)
	if !ok {
		return
	}
	s.runInstanceAction(r, sub, rg, name, instanceID, req)
}

func (s *Server) runInstanceAction(r *request, sub, rg, name, instanceID string, req lifecycle.Request) {
	vm, err := s.eng.GetInstance(sub, rg, name, instanceID)
	if err != nil {
		s.writeErr(r, err)
		return
	}
	res, err := s.eng.Do(ctxWithoutCancel(r.Context()), engine.Command{ID: vm.ID, Verb: engine.VerbAct, Input: req})
	if err != nil {
		s.writeErr(r, err)
		return
	}
	op := res.Operation
	if req.Kind == lifecycle.SimulateEviction {
		r.w.WriteHeader(http.StatusNoContent)
		return
	}
	s.setLRO(r, op, true)
	r.w.WriteHeader(http.StatusAccepted)
}
