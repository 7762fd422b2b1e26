package armapi

import (
	"encoding/json"
	"maps"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/azemu/azemu/internal/armerror"
	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/lifecycle"
)

// readComputeBody checks the name of a VM or scale set being put, by
// Compute's rule for VM names, and reads the request's body; on an error it
// has answered and returns false.
func (s *Server) readComputeBody(r *request, name string, body *map[string]any) bool {
	if err := armid.ValidName("virtualMachines", name); err != nil {
		s.writeError(r, errorf("InvalidResourceName", "", "Resource name %s is invalid: %v.", name, err))
		return false
	}
	return s.readJSON(r, body)
}

func (s *Server) putVM(r *request, sub, rg, name string) {
	var body map[string]any
	if !s.readComputeBody(r, name, &body) {
		return
	}
	canonicalKeys(body, vmKeys)
	s.upsertVM(r, sub, rg, name, func(*engine.VM) (map[string]any, error) { return body, nil })
}

func (s *Server) patchVM(r *request, sub, rg, name string) {
	var patch map[string]any
	if !s.readJSON(r, &patch) {
		return
	}
	// The patch is merged key by key: its keys must be the model's.
	canonicalKeys(patch, vmKeys)
	if _, err := s.eng.GetVM(sub, rg, name); err != nil {
		s.writeErr(r, err)
		return
	}
	for _, k := range []string{"location", "id", "name", "type"} {
		delete(patch, k)
	}
	s.upsertVM(r, sub, rg, name, func(old *engine.VM) (map[string]any, error) {
		if old == nil {
			return nil, armerror.ResourceNotFound("Microsoft.Compute/virtualMachines", rg, name)
		}
		var model map[string]any
		if err := json.Unmarshal(old.Model.Bytes(), &model); err != nil {
			return nil, err
		}
		// Tags are replaced whole, as Resource Manager does on PATCH; the
		// rest of the model merges.
		if tags, ok := patch["tags"]; ok {
			delete(model, "tags")
			if tags != nil {
				model["tags"] = tags
			}
			delete(patch, "tags")
		}
		return mergePatch(model, patch), nil
	})
}

// upsertVM validates the body that build returns and hands it to the engine,
// answering 201 (new) or 200 with the VM and the operation's headers.
func (s *Server) upsertVM(r *request, sub, rg, name string, build func(*engine.VM) (map[string]any, error)) {
	res, err := s.eng.Do(ctxWithoutCancel(r.Context()), engine.Command{
		ID: armid.VirtualMachineID(sub, rg, name), Verb: engine.VerbPut,
		IfMatch: r.Header.Get("If-Match"), IfNoneMatch: r.Header.Get("If-None-Match"),
		Build: engine.Build(func(old *engine.VM) (any, error) {
			body, err := build(old)
			if err != nil {
				return nil, err
			}
			if old != nil {
				keepImageReference(old.Model.Bytes(), body, "properties", "storageProfile")
			}
			spec, aerr := checkVM(name, body, old != nil)
			if aerr != nil {
				return nil, aerr
			}
			if old != nil {
				keepOSDiskIdentity(old, body)
			}
			normalised := normaliseVMModel(armid.Fold(sub), rgName(s, sub, rg), name, body, spec, s.eng.NewID)
			if spec.Disks, aerr = diskRefs(normalised); aerr != nil {
				return nil, aerr
			}
			if spec.NICs, aerr = nicRefs(spec.Location, normalised, vmNaming(armid.Fold(sub), rgName(s, sub, rg), name)); aerr != nil {
				return nil, aerr
			}
			model, err := json.Marshal(normalised)
			return engine.VMPut{Model: model, Spec: spec}, err
		}),
	})
	if err != nil {
		s.writeErr(r, err)
		return
	}
	vm := res.State.(*engine.VM)
	s.writePut(r, res.Operation, vm.ETag(), res.Created, renderVM(vm, false))
}

// keepOSDiskIdentity carries the OS disk's name and ID over to an update
// that leaves them out, so a PUT of a fresh body does not swap the disk.
func keepOSDiskIdentity(old *engine.VM, body map[string]any) {
	var prev map[string]any
	if json.Unmarshal(old.Model.Bytes(), &prev) != nil {
		return
	}
	pod := dig(prev, "properties", "storageProfile", "osDisk")
	od := dig(body, "properties", "storageProfile", "osDisk")
	if pod == nil {
		return
	}
	if od == nil {
		sp := dig(body, "properties", "storageProfile")
		if sp == nil {
			return
		}
		od = map[string]any{}
		sp["osDisk"] = od
	}
	setDefault(od, "name", pod["name"])
	if pmd, ok := pod["managedDisk"].(map[string]any); ok {
		md, _ := od["managedDisk"].(map[string]any)
		if md == nil {
			md = map[string]any{}
			od["managedDisk"] = md
		}
		setDefault(md, "id", pmd["id"])
	}
}

// keepImageReference carries the image a VM (or a scale set's profile) was
// made from over to an update whose storage profile leaves it out. The
// image cannot change after the create, and the Azure CLI drops it on
// purpose before it PUTs back what it read (so that the caller needs no
// permission on the image), for vm update, resize and disk attach alike.
func keepImageReference(prevModel json.RawMessage, body map[string]any, path ...string) {
	sp := dig(body, path...)
	if sp == nil {
		return
	}
	if ir, ok := sp["imageReference"]; ok && ir != nil {
		return
	}
	var prev map[string]any
	if json.Unmarshal(prevModel, &prev) != nil {
		return
	}
	if ir, ok := dig(prev, path...)["imageReference"].(map[string]any); ok {
		sp["imageReference"] = ir
	}
}

// dig walks nested objects; nil when a step is missing.
func dig(m map[string]any, path ...string) map[string]any {
	for _, p := range path {
		next, ok := m[p].(map[string]any)
		if !ok {
			return nil
		}
		m = next
	}
	return m
}

// rgName is the resource group's name with the casing it was created with.
func rgName(s *Server, sub, rg string) string {
	if g, ok := s.eng.Group(sub, rg); ok {
		return g.Name
	}
	return rg
}

func (s *Server) getVM(r *request, sub, rg, name string) {
	vm, exts, err := s.eng.GetVMWithExtensions(sub, rg, name)
	if err != nil {
		s.writeErr(r, err)
		return
	}
	expand := r.queryGet("$expand")
	answer := answerVM
	switch {
	case expand == "":
	case strings.EqualFold(expand, "instanceView"):
		answer = answerVMInstanceView
	case strings.EqualFold(expand, "userData"):
		answer = answerVMUserData
	default:
		// The spec's InstanceViewTypes; Compute answers any other value so.
		s.writeError(r, invalidParameter("$expand", "The request URL is not valid."))
		return
	}
	s.writeVMAnswer(r, vm, exts, answer)
}

func (s *Server) getInstanceView(r *request, sub, rg, name string) {
	vm, exts, err := s.eng.GetVMWithExtensions(sub, rg, name)
	if err != nil {
		s.writeErr(r, err)
		return
	}
	s.writeVMAnswer(r, vm, exts, answerInstanceView)
}

// writeVMAnswer answers 200 with the VM's answer a: the one kept for this
// snapshot, or one rendered (vmrender.go), kept when it depends on the
// snapshot alone and the cache admits it. A VM with extensions (exts) is
// rendered every time, as their states move on their own. An answer not
// kept is rendered into a pooled buffer: it leaves no garbage.
func (s *Server) writeVMAnswer(r *request, vm *engine.VM, exts []*engine.Extension, a vmAnswer) {
	cacheable := len(exts) == 0
	if cacheable {
		if e, ok := s.renders.getRendering(vm, a); ok {
			if a.tagged() {
				if e.etag == nil { // kept by a listing
					e.etag = []string{vm.ETag()}
				}
				r.w.Header()["Etag"] = e.etag
			}
			writeSized(r, http.StatusOK, e.body, e.length)
			return
		}
	}
	if a.tagged() {
		r.w.Header()["Etag"] = []string{vm.ETag()}
	}
	if cacheable && s.renders.admits() {
		body, err := s.appendVMAnswer(r.Context(), nil, vm, a, exts)
		if err != nil {
			s.writeErr(r, err)
			return
		}
		s.renders.put(vm, a, body)
		writeBody(r, http.StatusOK, body)
		return
	}
	buf := answerBuffers.Get().(*[]byte)
	body, err := s.appendVMAnswer(r.Context(), (*buf)[:0], vm, a, exts)
	if err != nil {
		answerBuffers.Put(buf)
		s.writeErr(r, err)
		return
	}
	writeBody(r, http.StatusOK, body) // net/http has copied it when this returns
	if cap(body) <= maxPooledAnswer {
		*buf = body
	}
	answerBuffers.Put(buf)
}

// answerBuffers hold the answers rendered and not kept.
var answerBuffers = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledAnswer bounds the buffers answerBuffers keeps: a VM with many
// extensions renders a long answer, which is not worth keeping for all.
const maxPooledAnswer = 16 << 10

func (s *Server) deleteVM(r *request, sub, rg, name string) {
	req := lifecycle.Request{Kind: lifecycle.Delete, Force: strings.EqualFold(r.URL.Query().Get("forceDeletion"), "true")}
	if _, err := s.eng.GetVM(sub, rg, name); err != nil {
		if armerror.HasCode(err, armerror.CodeResourceNotFound) {
			// Deleting what is not there succeeds with 204, as ARM does.
			r.w.WriteHeader(http.StatusNoContent)
			return
		}
		s.writeErr(r, err)
		return
	}
	s.runAction(r, sub, rg, name, req)
}

// powerActions are the POST actions (lower case) that a VM and a scale
// set both take, with the operation each runs.
var powerActions = map[string]lifecycle.Kind{
	"start":      lifecycle.Start,
	"poweroff":   lifecycle.PowerOff,
	"deallocate": lifecycle.Deallocate,
	"restart":    lifecycle.Restart,
	"redeploy":   lifecycle.Redeploy,
	"reimage":    lifecycle.Reimage,
}

// withPowerActions is powerActions and more, those of one resource type.
func withPowerActions(more map[string]lifecycle.Kind) map[string]lifecycle.Kind {
	all := maps.Clone(powerActions)
	maps.Copy(all, more)
	return all
}

// vmActions maps the POST action segment (lower case) to its operation.
var vmActions = withPowerActions(map[string]lifecycle.Kind{
	"generalize":       lifecycle.Generalize,
	"simulateeviction": lifecycle.SimulateEviction,
	"runcommand":       lifecycle.RunCommand,
})

// shutdownCommand finds a command that shuts the guest down, whatever the
// shell: it stops the VM from inside, which Azure still bills. The command
// must stand where a command can (line start, after a separator or an
// opening quote, after sudo and the like, optionally by path): the old
// pattern took any word after a space, so "echo shutdown-done" or a grep
// for "poweroff" stopped the VM. Group 2 is the rest of the line.
var shutdownCommand = regexp.MustCompile(`(?im)(?:^|[;&|("'` + "`" + `]|\b(?:sudo|exec|nohup|doas)\s)\s*(?:/usr)?(?:/s?bin/)?` +
	`(shutdown|poweroff|halt|init\s+0|systemctl\s+(?:poweroff|halt)|stop-computer)(?:$|[\s;&|)"'` + "`" + `](.*))`)

// rebootArg marks a shutdown that reboots (shutdown -r, /r, --reboot): the
// guest comes back, so the VM does not stop.
var rebootArg = regexp.MustCompile(`(?:^|\s)(?:--reboot|/[rR]|-[a-z]{0,2}r[a-z]{0,2})(?:$|\s)`)

// shutsDownGuest reports whether a runCommand script shuts the guest down.
func shutsDownGuest(script string) bool {
	for _, m := range shutdownCommand.FindAllStringSubmatch(script, -1) {
		args := m[2]
		if i := strings.IndexAny(args, ";&|)"); i >= 0 {
			args = args[:i] // the command's own arguments only
		}
		if !rebootArg.MatchString(args) {
			return true
		}
	}
	return false
}

func (s *Server) vmAction(r *request, sub, rg, name, action string) {
	kind, ok := vmActions[action]
	if !ok {
		s.notFound(r)
		return
	}
	req, ok := s.actionRequest(r, kind)
	if !ok {
		return
	}
	s.runAction(r, sub, rg, name, req)
}

// actionRequest reads a POST action's query and body into a lifecycle
// request, for VMs and scale set instances alike; on a bad body it has
// answered and returns false.
func (s *Server) actionRequest(r *request, kind lifecycle.Kind) (lifecycle.Request, bool) {
	q := r.URL.Query()
	req := lifecycle.Request{Kind: kind,
		SkipShutdown: strings.EqualFold(q.Get("skipShutdown"), "true"),
		Hibernate:    strings.EqualFold(q.Get("hibernate"), "true"),
	}
	if kind != lifecycle.RunCommand {
		return req, s.readOptionalJSON(r, &map[string]any{})
	}
	var in struct {
		CommandID string   `json:"commandId"`
		Script    []string `json:"script"`
	}
	if !s.readJSON(r, &in) {
		return req, false
	}
	if in.CommandID == "" {
		s.writeError(r, missingParameter("commandId"))
		return req, false
	}
	req.ShutsDownGuest = shutsDownGuest(strings.Join(in.Script, "\n"))
	return req, true
}

func (s *Server) runAction(r *request, sub, rg, name string, req lifecycle.Request) {
	res, err := s.eng.Do(ctxWithoutCancel(r.Context()), engine.Command{ID: armid.VirtualMachineID(sub, rg, name), Verb: engine.VerbAct, Input: req})
	if err != nil {
		s.writeErr(r, err)
		return
	}
	op := res.Operation
	switch req.Kind {
	case lifecycle.Generalize:
		// Synchronous in Azure: 200 with no LRO.
		r.w.WriteHeader(http.StatusOK)
	case lifecycle.SimulateEviction:
		r.w.WriteHeader(http.StatusNoContent)
	default:
		s.setLRO(r, op, true)
		r.w.WriteHeader(http.StatusAccepted)
	}
}

func (s *Server) listVMsInGroup(r *request, sub, rg string) {
	if _, ok := s.eng.Group(sub, rg); !ok {
		s.writeErr(r, armerror.ResourceGroupNotFound(rg))
		return
	}
	// List takes the same $filter as listAll (Azure's VirtualMachines_List
	// has it too); it used to be ignored here, listing the whole group.
	scaleSet, ok := s.scaleSetFilter(r)
	if !ok {
		return
	}
	prefix := armid.Fold(armid.ResourceGroupID(sub, rg)) + "/providers/Microsoft.Compute/virtualMachines/"
	s.listVMs(r, prefix, func(v *engine.VM) bool {
		return scaleSet == "" || armid.Equal(v.Spec.ScaleSetID, scaleSet)
	}, false)
}

// scaleSetFilterPattern is the one $filter list and listAll support.
var scaleSetFilterPattern = regexp.MustCompile(`(?i)^\s*'?virtualMachineScaleSet/id'?\s+eq\s+'([^']+)'\s*$`)

// scaleSetFilter returns the scale set ID a list's $filter asks for ("" for
// none); on an unsupported filter it answers 400 and returns false.
func (s *Server) scaleSetFilter(r *request) (string, bool) {
	f := r.URL.Query().Get("$filter")
	if f == "" {
		return "", true
	}
	m := scaleSetFilterPattern.FindStringSubmatch(f)
	if m == nil {
		s.writeError(r, invalidParameter("$filter", "The $filter '%s' is not supported. Only 'virtualMachineScaleSet/id' eq '<id>' is.", f))
		return "", false
	}
	return m[1], true
}

func (s *Server) listVMsInSubscription(r *request, sub, location string) {
	q := r.URL.Query()
	subKey := "/subscriptions/" + armid.Fold(sub) + "/"
	scaleSet, ok := s.scaleSetFilter(r)
	if !ok {
		return
	}
	loc := armLocation(location)
	match := func(v *engine.VM) bool {
		// Uniform scale set instances are reached only through their set.
		if containsFold(v.ID, "/virtualmachinescalesets/") || !r.readable(v.ID) {
			return false
		}
		if loc != "" && v.Spec.Location != loc {
			return false
		}
		return scaleSet == "" || armid.Equal(v.Spec.ScaleSetID, scaleSet)
	}
	if strings.EqualFold(q.Get("statusOnly"), "true") {
		s.listVMsStatusOnly(r, subKey, match) // faults.go: powerStateUnavailable
		return
	}
	s.listVMs(r, subKey, match, false)
}

// listVMs answers a page of the VMs under prefix (a folded ID's start)
// that match.
func (s *Server) listVMs(r *request, prefix string, match func(*engine.VM) bool, withInstanceView bool) {
	q := r.URL.Query()
	withInstanceView = withInstanceView || strings.EqualFold(q.Get("$expand"), "instanceView")
	page, next := s.eng.ListVMsIn(prefix, match, q.Get("$skiptoken"), s.pageSize)
	a := answerVM
	if withInstanceView {
		a = answerVMInstanceView
	}
	writePage(r, s.vmPage(page, nextLink(r, next), a)) // listrender.go
}
