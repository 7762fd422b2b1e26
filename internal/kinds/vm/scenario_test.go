package vm

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/kinds/nic"
	"github.com/azemu/azemu/internal/kinds/resource"
	"github.com/azemu/azemu/internal/kinds/scenariotest"
	"github.com/azemu/azemu/internal/lifecycle"
)

// A VM scenario scripts the VMs of one resource group and the interfaces
// they use. The runner applies each decision's effects as the runtime does
// and carries out what a VM asks of its interfaces far enough to show
// whom each now serves (the interface and public IP rules are nic's and
// publicip's, with scenarios of their own). Commands:
//
//	nic NAME                           an interface that exists, unused
//	create VM [nics=REF,...] [size=S] [generalized] [spot] [fault=CODE] [capacity=spent]
//	                                   a client's PUT of a new VM; REF is
//	                                   NIC[:primary][:delete][:new] (:new: a
//	                                   configuration describes it, with a public IP)
//	put VM [nics=REF,...] [size=S] [location=L]
//	                                   a client's PUT of a VM that exists
//	act VM KIND [fault=CODE]           a lifecycle request (start, deallocate, delete, ...)
//	hold VM DURATION                   an extension holds the VM's create
//	advance DURATION                   move the clock, firing due steps in order
func TestScenarios(t *testing.T) {
	scenariotest.Run(t, func() scenariotest.Step { return newRunner().step })
}

const sub, rg = "00000000-0000-0000-0000-000000000001", "rg"

type runner struct {
	env  resource.Env
	vms  map[string]*VM
	nics map[string]*nic.NIC
	ips  map[string]bool
}

func newRunner() *runner {
	return &runner{env: resource.Env{Now: scenariotest.Start, NewID: scenariotest.IDs(), Speed: 1},
		vms: map[string]*VM{}, nics: map[string]*nic.NIC{}, ips: map[string]bool{}}
}

func nicID(name string) string { return armid.NetworkID(sub, rg, "networkInterfaces", name) }

func (r *runner) world() World {
	return World{NICs: r.nics, PublicIPs: r.ips}
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
	switch f[0] {
	case "nic":
		id := nicID(f[1])
		r.nics[armid.Key(id)] = &nic.NIC{}
		r.nics[armid.Key(id)].ID = id
		return nil
	case "create":
		id := armid.VirtualMachineID(sub, rg, f[1])
		var d Decision
		_, d, eff, err = Create(resource.Meta{ID: id, SubscriptionID: sub, ResourceGroup: rg, Name: f[1]}, nil, spec(args, nil), 0, "", fault(args), r.world(), r.env)
		if err == nil {
			fmt.Fprintf(out, "  runs as %s\n", d.Operation)
		}
	case "put":
		v := r.vms[f[1]]
		var d Decision
		_, d, eff, err = Put(v, nil, spec(args, v), 0, fault(args), r.world(), r.env)
		if err == nil {
			fmt.Fprintf(out, "  runs as %s\n", d.Operation)
		}
	case "act":
		v := r.vms[f[1]]
		var d Decision
		_, d, eff, err = Submit(v, lifecycle.Request{Kind: lifecycle.Kind(f[2])}, v.Model, v.Spec, r.env.NewID(), fault(args), r.world(), r.env)
		if err == nil {
			fmt.Fprintf(out, "  runs as %s\n", d.Operation)
		}
	case "hold":
		d, perr := time.ParseDuration(f[2])
		if perr != nil {
			return perr
		}
		_, eff, err = Hold(r.vms[f[1]], r.env.Now.Add(d), r.env.NewID(), r.world(), r.env)
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
	r.apply(eff, out)
	r.show(out)
	return nil
}

// apply writes a decision's effects and applies them: the VMs' snapshots,
// and what the commands ask of the interfaces.
func (r *runner) apply(eff resource.Effects, out *strings.Builder) {
	scenariotest.WriteEffects(out, eff)
	for _, s := range eff.Put {
		v := s.(*VM)
		v.Version++
		r.vms[v.Name] = v
	}
	for _, s := range eff.Removed {
		delete(r.vms, s.(*VM).Name)
	}
	for _, c := range eff.Commands {
		key := armid.Key(c.Target)
		switch c.Verb {
		case VerbCreateNIC, VerbCreatePublicIP:
			if c.Verb == VerbCreatePublicIP {
				r.ips[key] = true
				continue
			}
			r.nics[key] = &nic.NIC{}
			r.nics[key].ID = c.Target
		case VerbLinkNIC:
			a := c.Args.(LinkArgs)
			n := *r.nics[key]
			n.VirtualMachine, n.Primary, n.DeleteOption = a.Use.VM, a.Use.Primary, deleteOption(a.Use.DeleteOption)
			r.nics[key] = &n
		case VerbUnlinkNIC:
			n := *r.nics[key]
			n.VirtualMachine, n.Primary, n.DeleteOption = "", false, ""
			r.nics[key] = &n
		case VerbReleaseNIC:
			if r.nics[key].DeleteOption == "Delete" {
				delete(r.nics, key)
				continue
			}
			n := *r.nics[key]
			n.VirtualMachine, n.Primary, n.DeleteOption = "", false, ""
			r.nics[key] = &n
		}
	}
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
		_, _, eff := Fire(next, at, r.world())
		fmt.Fprintf(out, "  %s %s\n", scenariotest.Offset(at), next.Name)
		r.apply(eff, out)
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
	var keys []string
	for k := range r.nics {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
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
}

func (r *runner) names() []string {
	var names []string
	for n := range r.vms {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
