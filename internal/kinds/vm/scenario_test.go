package vm

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/jsonshape"
	"github.com/azemu/azemu/internal/kinds/disk"
	"github.com/azemu/azemu/internal/kinds/extension"
	"github.com/azemu/azemu/internal/kinds/group"
	"github.com/azemu/azemu/internal/kinds/nic"
	"github.com/azemu/azemu/internal/kinds/resource"
	"github.com/azemu/azemu/internal/kinds/scaleset"
	"github.com/azemu/azemu/internal/kinds/scenariotest"
	"github.com/azemu/azemu/internal/lifecycle"
)

// A VM scenario scripts the VMs of one resource group and the resources
// they use. The runner applies each decision's effects as the runtime does
// and carries out what a VM asks of its interfaces far enough to show
// whom each now serves (the interface and public IP rules are nic's and
// publicip's, with scenarios of their own). What a VM asks of its disks
// and extensions, and what its group and scale set ask of it, it carries
// out through those kinds' own modules, writing each follow-up's decision
// beneath the one that asked for it, as the runtime runs them: depth
// first, in order. Commands:
//
//	nic NAME                           an interface that exists, unused
//	create VM [nics=REF,...] [disks=DISK,...] [size=S] [generalized] [spot] [fault=CODE] [capacity=spent]
//	                                   a client's PUT of a new VM; REF is
//	                                   NIC[:primary][:delete][:new] (:new: a
//	                                   configuration describes it, with a public IP);
//	                                   DISK is NAME[:os][:delete] (the first an
//	                                   OS disk from the image, the others empty)
//	put VM [nics=REF,...] [disks=DISK,...] [size=S] [location=L] [set=SET]
//	                                   a client's PUT of a VM that exists
//	act VM KIND [fault=CODE]           a lifecycle request (start, deallocate, delete, ...)
//	hold VM DURATION                   an extension holds the VM's create
//	extension VM NAME [install=D]      a client's PUT of an extension of the VM
//	group-delete                       a client's DELETE of the VMs' group
//	set NAME capacity=N [mode=Flexible] [disks=DISK,...]
//	                                   a client's PUT of a scale set (Uniform
//	                                   unless said); DISK as above, the OS disk
//	                                   given (deleteOption Delete, as a set does)
//	set-act SET KIND [instances=ID,...]
//	                                   a batch action over the set's instances
//	set-delete SET                     a client's DELETE of the set
//	join VM SET [disks=DISK,...]       a client's PUT of a new VM naming the set
//	advance DURATION                   move the clock, firing due steps in order
func TestScenarios(t *testing.T) {
	scenariotest.Run(t, func() scenariotest.Step { return newRunner().step })
}

const sub, rg = "00000000-0000-0000-0000-000000000001", "rg"

type runner struct {
	env   resource.Env
	vms   map[string]*VM
	nics  map[string]*nic.NIC
	ips   map[string]bool
	disks map[string]*disk.Disk
	exts  map[string]*extension.Extension
	sets  map[string]*scaleset.ScaleSet
	// setDisks are the data disks each set's profile gives its instances.
	setDisks map[string][]disk.Ref
	group    *group.Group
}

func newRunner() *runner {
	return &runner{env: resource.Env{Now: scenariotest.Start, NewID: scenariotest.IDs(), Speed: 1},
		vms: map[string]*VM{}, nics: map[string]*nic.NIC{}, ips: map[string]bool{}, disks: map[string]*disk.Disk{},
		exts: map[string]*extension.Extension{}, sets: map[string]*scaleset.ScaleSet{}, setDisks: map[string][]disk.Ref{},
		group: &group.Group{Meta: resource.Meta{ID: armid.ResourceGroupID(sub, rg), SubscriptionID: sub, Name: rg}, Location: "eastus"}}
}

func nicID(name string) string { return armid.NetworkID(sub, rg, "networkInterfaces", name) }

// world is what a decision of v (nil when new) reads: the runner's
// interfaces, public IPs and disks, and v's extensions.
func (r *runner) world(v *VM) World {
	w := World{NICs: r.nics, PublicIPs: r.ips, Disks: r.disks}
	if v != nil {
		for _, k := range keys(r.exts) {
			if x := r.exts[k]; strings.HasPrefix(k, extension.Prefix(v.ID)) {
				w.Extensions = append(w.Extensions, x.ID)
			}
		}
	}
	return w
}

// spec reads a VM's spec from a command's arguments.
func spec(args map[string]string, old *VM) Spec {
	s := Spec{Location: "eastus", VMSize: "Standard_D2s_v3", OSType: "Linux"}
	if old != nil {
		s = old.Spec
	}
	if v, ok := args["size"]; ok {
		s.VMSize = v
	}
	if v, ok := args["location"]; ok {
		s.Location = v
	}
	if _, ok := args["generalized"]; ok {
		s.GeneralizedImage = true
	}
	if _, ok := args["spot"]; ok {
		s.Priority, s.EvictionPolicy = "Spot", "Deallocate"
	}
	if v, ok := args["set"]; ok {
		s.ScaleSetID = scaleset.ID(sub, rg, v)
	}
	if v, ok := args["disks"]; ok {
		s.Disks = diskRefs(v)
	}
	if v, ok := args["nics"]; ok {
		s.NICs = nil
		for _, ref := range strings.Split(v, ",") {
			parts := strings.Split(ref, ":")
			n := NICRef{ID: nicID(parts[0]), DeleteOption: "Detach"}
			for _, p := range parts[1:] {
				switch p {
				case "primary":
					n.Primary = true
				case "delete":
					n.DeleteOption = "Delete"
				case "new":
					pip := armid.NetworkID(sub, rg, "publicIPAddresses", parts[0]+"-ip")
					n.Create = &NICTemplate{Spec: nic.Spec{Location: s.Location}, PublicIPs: []PublicIPTemplate{{ID: pip}}}
				}
			}
			s.NICs = append(s.NICs, n)
		}
	}
	return s
}

// diskRefs reads a storage profile: NAME[:os][:delete], comma-separated.
func diskRefs(v string) []disk.Ref {
	var refs []disk.Ref
	for _, ref := range strings.Split(v, ",") {
		parts := strings.Split(ref, ":")
		d := disk.Ref{Name: parts[0], CreateOption: "Empty", SizeGB: 32, SKU: "Premium_LRS", DeleteOption: "Detach"}
		for _, p := range parts[1:] {
			switch p {
			case "os":
				d.OS, d.CreateOption, d.SizeGB = true, "FromImage", 30
			case "delete":
				d.DeleteOption = "Delete"
			}
		}
		refs = append(refs, d)
	}
	return refs
}

// fault is the fault a command's arguments inject; capacity=spent fails a
// plan that takes a host.
func fault(args map[string]string) Fault {
	return func(v *VM, _ Spec, req *lifecycle.Request) {
		if code := args["fault"]; code != "" {
			req.Fault = &lifecycle.Failure{Code: code}
			return
		}
		if args["capacity"] == "spent" && NeedsHost(v, *req) {
			req.Fault = &lifecycle.Failure{Code: "AllocationFailed"}
		}
	}
}

func (r *runner) step(f []string, out *strings.Builder) error {
	args := scenariotest.Args(f[1:])
	var eff resource.Effects
	var err error
	runs := func(op string) {
		if err == nil {
			fmt.Fprintf(out, "  runs as %s\n", op)
		}
	}
	switch f[0] {
	case "nic":
		id := nicID(f[1])
		r.nics[armid.Key(id)] = &nic.NIC{}
		r.nics[armid.Key(id)].ID = id
		return nil
	case "create", "join":
		id := armid.VirtualMachineID(sub, rg, f[1])
		if f[0] == "join" {
			args["set"] = f[2]
		}
		sp := spec(args, nil)
		if f[0] == "join" {
			err = CheckScaleSet(nil, sp, r.sets[f[2]])
		}
		if err == nil {
			var d Decision
			_, d, eff, err = Create(resource.Meta{ID: id, SubscriptionID: sub, ResourceGroup: rg, Name: f[1]}, jsonshape.Doc{}, sp, 0, "", fault(args), r.world(nil), r.env)
			runs(d.Operation)
		}
	case "put":
		v := r.vms[f[1]]
		sp := spec(args, v)
		if err = CheckScaleSet(v, sp, nil); err == nil {
			var d Decision
			_, d, eff, err = Put(v, jsonshape.Doc{}, sp, 0, fault(args), r.world(v), r.env)
			runs(d.Operation)
		}
	case "act":
		v := r.vms[f[1]]
		var d Decision
		_, d, eff, err = Submit(v, lifecycle.Request{Kind: lifecycle.Kind(f[2])}, v.Model, v.Spec, r.env.NewID(), fault(args), r.world(v), r.env)
		runs(d.Operation)
	case "hold":
		d, perr := time.ParseDuration(f[2])
		if perr != nil {
			return perr
		}
		v := r.vms[f[1]]
		_, eff, err = Hold(v, r.env.Now.Add(d), r.env.NewID(), r.world(v), r.env)
	case "extension":
		v := r.vms[f[1]]
		var install time.Duration
		if s := args["install"]; s != "" {
			if install, err = time.ParseDuration(s); err != nil {
				return err
			}
		}
		xv := extension.VM{ID: v.ID, SubscriptionID: sub, ResourceGroup: rg, Name: v.Name, Location: v.Spec.Location, Machine: v.Machine}
		var x *extension.Extension
		x, eff = extension.Put(xv, r.exts[extension.Key(extension.ID(v.ID, f[2]))], f[2], extension.Spec{Location: v.Spec.Location, Install: install}, r.env)
		fmt.Fprintf(out, "  runs as %s\n", x.OperationID)
	case "group-delete":
		var vms []group.VM
		for _, name := range r.names() {
			v := r.vms[name]
			vms = append(vms, group.VM{ID: v.ID, Deleting: deleting(v)})
		}
		var op string
		op, eff = group.Delete(r.group, vms, r.others(), r.env)
		runs(op)
	case "set":
		var capacity int
		if _, err := fmt.Sscan(args["capacity"], &capacity); err != nil {
			return err
		}
		mode := scaleset.Uniform
		if args["mode"] != "" {
			mode = args["mode"]
		}
		r.setDisks[f[1]] = nil
		if v := args["disks"]; v != "" {
			r.setDisks[f[1]] = diskRefs(v)
		}
		var op string
		_, op, eff, err = scaleset.Put(r.sets[f[1]], sub, rg, f[1], scaleset.Spec{Location: "eastus", Mode: mode, Capacity: int64(capacity), HasProfile: true}, r.members(r.sets[f[1]]), r.env)
		runs(op)
	case "set-act":
		s := r.sets[f[1]]
		var ids []string
		if v := args["instances"]; v != "" {
			ids = strings.Split(v, ",")
		}
		var op string
		op, eff, err = scaleset.Act(s, r.members(s), f[2], lifecycle.Request{Kind: lifecycle.Kind(f[2])}, ids, r.env)
		runs(op)
	case "set-delete":
		s := r.sets[f[1]]
		var op string
		op, eff = scaleset.Delete(s, r.members(s), false, r.env)
		runs(op)
	case "advance":
		d, perr := time.ParseDuration(f[1])
		if perr != nil {
			return perr
		}
		return r.advance(r.env.Now.Add(d), out)
	default:
		return fmt.Errorf("unknown command %q", f[0])
	}
	if err != nil {
		return scenariotest.WriteError(out, err)
	}
	if err := r.apply(eff, "  ", out); err != nil {
		return err
	}
	r.show(out)
	return nil
}

func deleting(v *VM) bool {
	return v.Machine.Run != nil && v.Machine.Run.Plan.Kind == lifecycle.Delete
}

// others lists what a group's deletion removes once its VMs are gone: the
// disks, extensions and scale sets left, by ID.
func (r *runner) others() []string {
	var ids []string
	for _, k := range keys(r.disks) {
		ids = append(ids, r.disks[k].ID)
	}
	for _, k := range keys(r.exts) {
		ids = append(ids, r.exts[k].ID)
	}
	for _, k := range keys(r.sets) {
		ids = append(ids, r.sets[k].ID)
	}
	return ids
}

// members is what the set rules need of s's instances (Uniform) or
// members (Flexible).
func (r *runner) members(s *scaleset.ScaleSet) []scaleset.Member {
	if s == nil {
		return nil
	}
	var out []scaleset.Member
	for _, name := range r.names() {
		v := r.vms[name]
		if strings.HasPrefix(armid.Fold(v.ID), armid.Fold(s.ID)+"/") || armid.Equal(v.Spec.ScaleSetID, s.ID) {
			m := scaleset.Member{ID: v.ID, Name: v.Name}
			if deleting(v) {
				m.Deleting = v.Machine.Run.OperationID
			}
			out = append(out, m)
		}
	}
	return out
}

// apply writes a decision's effects at indent and applies them as the
// runtime does: the snapshots, the operations ended (which the scale sets
// tracking them hear of), then each follow-up command in order, depth
// first.
func (r *runner) apply(eff resource.Effects, indent string, out *strings.Builder) error {
	var b strings.Builder
	scenariotest.WriteEffects(&b, eff)
	for _, line := range strings.SplitAfter(b.String(), "\n") {
		if line != "" {
			out.WriteString(indent[2:] + line)
		}
	}
	for _, s := range eff.Put {
		switch x := s.(type) {
		case *VM:
			x.Version++
			r.vms[x.Name] = x
		case *disk.Disk:
			r.disks[disk.Key(x.ID)] = x
		case *extension.Extension:
			r.exts[extension.Key(x.ID)] = x
		case *group.Group:
			r.group = x
		case *scaleset.ScaleSet:
			r.sets[x.Name] = x
		}
	}
	for _, s := range eff.Removed {
		switch x := s.(type) {
		case *VM:
			delete(r.vms, x.Name)
		case *disk.Disk:
			delete(r.disks, disk.Key(x.ID))
		case *extension.Extension:
			delete(r.exts, extension.Key(x.ID))
		case *group.Group:
			r.group = nil
		case *scaleset.ScaleSet:
			delete(r.sets, x.Name)
		}
	}
	for _, end := range eff.Ended {
		for _, name := range keys(r.sets) {
			if s := r.sets[name]; s != nil && s.Tracks(end.ID) {
				env := r.env
				env.Now = end.At
				done := scaleset.ChildDone(s, end.ID, scaleset.Outcome{Status: end.Status, Error: end.Error}, env)
				fmt.Fprintf(out, "%sset %s hears %s ended:\n", indent, name, end.ID)
				if err := r.apply(done, indent+"  ", out); err != nil {
					return err
				}
			}
		}
	}
	for _, c := range eff.Commands {
		if err := r.follow(c, indent, out); err != nil {
			return err
		}
	}
	return nil
}

// follow carries out a follow-up command: what it asks of an interface
// far enough to show whom it serves; what it asks of a VM, a disk, an
// extension, the group or a scale set through that kind's module, whose
// decision it writes and applies.
func (r *runner) follow(c resource.Command, indent string, out *strings.Builder) error {
	key := armid.Key(c.Target)
	var eff resource.Effects
	var err error
	switch c.Verb {
	case VerbCreateNIC, VerbCreatePublicIP:
		if c.Verb == VerbCreatePublicIP {
			r.ips[key] = true
			return nil
		}
		r.nics[key] = &nic.NIC{}
		r.nics[key].ID = c.Target
		return nil
	case VerbLinkNIC:
		a := c.Args.(LinkArgs)
		n := *r.nics[key]
		n.VirtualMachine, n.Primary, n.DeleteOption = a.Use.VM, a.Use.Primary, deleteOption(a.Use.DeleteOption)
		r.nics[key] = &n
		return nil
	case VerbUnlinkNIC:
		n := *r.nics[key]
		n.VirtualMachine, n.Primary, n.DeleteOption = "", false, ""
		r.nics[key] = &n
		return nil
	case VerbReleaseNIC:
		if r.nics[key].DeleteOption == "Delete" {
			delete(r.nics, key)
			return nil
		}
		n := *r.nics[key]
		n.VirtualMachine, n.Primary, n.DeleteOption = "", false, ""
		r.nics[key] = &n
		return nil
	case VerbPowerNIC:
		return nil
	case VerbAttachDisks:
		v := r.vmByID(c.Target)
		eff, err = disk.Attach(v.DiskOwner(), v.Spec.Disks, c.Args.(AttachArgs).Previous, r.disks, r.env)
	case VerbReleaseDisk:
		eff = disk.Release(r.disks[disk.Key(c.Target)], c.Args.(ReleaseDiskArgs).VM, c.OperationID, r.env)
	case VerbRemoveExtension:
		eff = extension.Remove(r.exts[extension.Key(c.Target)])
	case VerbGone:
		if r.group == nil || r.group.DeleteOperation == "" || len(r.vms) > 0 {
			return nil
		}
		eff = group.Settle(r.group, 0, r.others(), r.env)
	case group.VerbRemove:
		if d := r.disks[disk.Key(c.Target)]; d != nil {
			eff = disk.Remove(d, c.OperationID, r.env)
		} else if x := r.exts[extension.Key(c.Target)]; x != nil {
			eff = extension.Remove(x)
		} else if p, perr := armid.Parse(c.Target); perr == nil && r.sets[p.Name()] != nil {
			eff = scaleset.Remove(r.sets[p.Name()], r.env)
		} else {
			return fmt.Errorf("%s: nothing to remove at %s", c.Verb, c.Target)
		}
	case group.VerbDelete:
		v := r.vmByID(c.Target)
		_, _, eff, err = Submit(v, lifecycle.Request{Kind: lifecycle.Delete}, v.Model, v.Spec, c.OperationID, nil, r.world(v), r.env)
	case scaleset.VerbRun:
		v := r.vmByID(c.Target)
		_, _, eff, err = Submit(v, c.Args.(scaleset.RunArgs).Request, v.Model, v.Spec, c.OperationID, nil, r.world(v), r.env)
	case scaleset.VerbCreateInstance:
		p, _ := armid.Parse(c.Target)
		eff, err = r.createInstance(r.sets[p.Name()], c.Args.(scaleset.CreateArgs).Counter, c.OperationID)
	case extension.VerbHold:
		v := r.vmByID(c.Target)
		_, eff, err = Hold(v, c.Args.(extension.HoldArgs).Until, c.OperationID, r.world(v), r.env)
	case extension.VerbInstall:
		v := r.vmByID(c.Target)
		req := lifecycle.Request{Kind: lifecycle.Update, Extensions: c.Args.(extension.InstallArgs).Duration}
		_, _, eff, err = Submit(v, req, v.Model, v.Spec, c.OperationID, nil, r.world(v), r.env)
	default:
		return fmt.Errorf("no runner for command %s", c.Verb)
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", c.Verb, c.Target, err)
	}
	if isEmpty(eff) {
		return nil
	}
	fmt.Fprintf(out, "%s%s %s:\n", indent, c.Verb, scenariotest.Short(c.Target))
	return r.apply(eff, indent+"  ", out)
}

func isEmpty(e resource.Effects) bool {
	return len(e.Put)+len(e.Removed)+len(e.Events)+len(e.Started)+len(e.Ended)+len(e.Commands)+len(e.Due) == 0
}

// createInstance creates instance n of set s as a scale set does: a
// Uniform instance under the set, a Flexible member as a VM naming it,
// with an OS disk of its own that goes with it and the profile's data
// disks.
func (r *runner) createInstance(s *scaleset.ScaleSet, n int, opID string) (resource.Effects, error) {
	name := fmt.Sprintf("%s_%d", s.Name, n)
	id := scaleset.InstanceID(s.ID, fmt.Sprint(n))
	if !s.Uniform() {
		id = armid.VirtualMachineID(sub, rg, name)
	}
	sp := Spec{Location: s.Spec.Location, VMSize: "Standard_D2s_v3", OSType: "Linux", ScaleSetID: s.ID,
		Disks: []disk.Ref{{Name: name + "_os", OS: true, CreateOption: "FromImage", SizeGB: 30, SKU: "Premium_LRS", DeleteOption: "Delete"}}}
	for _, ref := range r.setDisks[s.Name] {
		ref.Name = name + "_" + ref.Name
		sp.Disks = append(sp.Disks, ref)
	}
	_, _, eff, err := Create(resource.Meta{ID: id, SubscriptionID: sub, ResourceGroup: rg, Name: name}, jsonshape.Doc{}, sp, 0, opID, nil, r.world(nil), r.env)
	return eff, err
}

func (r *runner) vmByID(id string) *VM {
	for _, v := range r.vms {
		if armid.Equal(v.ID, id) {
			return v
		}
	}
	return nil
}

// advance fires every VM's due steps up to until, in time order.
func (r *runner) advance(until time.Time, out *strings.Builder) error {
	for {
		var next *VM
		var at time.Time
		for _, name := range r.names() {
			v := r.vms[name]
			if due, ok := v.Machine.Due(); ok && !due.After(until) && (next == nil || due.Before(at)) {
				next, at = v, due
			}
		}
		if next == nil {
			break
		}
		r.env.Now = at
		_, _, eff := Fire(next, at, r.world(next))
		fmt.Fprintf(out, "  %s %s\n", scenariotest.Offset(at), next.Name)
		if err := r.apply(eff, "  ", out); err != nil {
			return err
		}
	}
	r.env.Now = until
	r.show(out)
	return nil
}

func (r *runner) show(out *strings.Builder) {
	for _, name := range r.names() {
		v := r.vms[name]
		st := v.Machine.State
		fmt.Fprintf(out, "  = %s %s %s", scenariotest.Short(v.ID), st.ProvisioningCode(), st.Power)
		if due, ok := v.Machine.Due(); ok {
			fmt.Fprintf(out, " (%s next due %s)", v.Machine.Run.Plan.Kind, scenariotest.Offset(due))
		}
		if len(v.Waiting) > 0 {
			fmt.Fprintf(out, " waiting %s", strings.Join(v.Waiting, ","))
		}
		out.WriteString("\n")
	}
	for _, k := range keys(r.nics) {
		n := r.nics[k]
		if n.VirtualMachine != "" {
			fmt.Fprintf(out, "  = %s serves %s (%s", scenariotest.Short(n.ID), scenariotest.Short(n.VirtualMachine), n.DeleteOption)
			if n.Primary {
				out.WriteString(", primary")
			}
			out.WriteString(")\n")
		} else {
			fmt.Fprintf(out, "  = %s unused\n", scenariotest.Short(n.ID))
		}
	}
	for _, k := range keys(r.disks) {
		d := r.disks[k]
		fmt.Fprintf(out, "  = %s %s", scenariotest.Short(d.ID), d.State())
		if d.ManagedBy != "" {
			fmt.Fprintf(out, " to %s (%s)", scenariotest.Short(d.ManagedBy), d.DeleteOption)
		}
		out.WriteString("\n")
	}
	for _, k := range keys(r.exts) {
		fmt.Fprintf(out, "  = %s\n", scenariotest.Short(r.exts[k].ID))
	}
	for _, k := range keys(r.sets) {
		s := r.sets[k]
		fmt.Fprintf(out, "  = %s %s", scenariotest.Short(s.ID), s.ProvisioningState)
		var parents []string
		for p := range s.Batches {
			parents = append(parents, p)
		}
		sort.Strings(parents)
		for _, p := range parents {
			fmt.Fprintf(out, ", batch %s (%s) of %s", p, s.BatchKinds[p], strings.Join(s.Batches[p], " "))
		}
		out.WriteString("\n")
	}
	if r.group == nil {
		out.WriteString("  = resourceGroups/rg gone\n")
	} else if r.group.DeleteOperation != "" {
		fmt.Fprintf(out, "  = resourceGroups/rg Deleting (%s)\n", r.group.DeleteOperation)
	}
}

func (r *runner) names() []string { return keys(r.vms) }

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
