package group

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/kinds/resource"
	"github.com/azemu/azemu/internal/kinds/scenariotest"
)

// A group scenario scripts one resource group and what is in it. The VMs'
// own deletions are the VM lifecycle's; the script says when each is gone.
// Commands:
//
//	put [location=L] [managedBy=ID]   a client's PUT of the group (_ in L is a space)
//	vm NAME [deleting]                a VM in the group (one being deleted already)
//	disk NAME | set NAME              a disk or a scale set in the group
//	delete                            a client's DELETE of the group
//	vm-gone NAME                      the VM's delete finished
//	advance DURATION                  move the clock
func TestScenarios(t *testing.T) {
	scenariotest.Run(t, func() scenariotest.Step { return newRunner().step })
}

const sub, name = "00000000-0000-0000-0000-000000000001", "rg"

type runner struct {
	env    resource.Env
	g      *Group
	vms    []VM
	others []string
}

func newRunner() *runner {
	return &runner{env: resource.Env{Now: scenariotest.Start, NewID: scenariotest.IDs(), Speed: 1}}
}

func (r *runner) step(f []string, out *strings.Builder) error {
	args := scenariotest.Args(f[1:])
	var eff resource.Effects
	switch f[0] {
	case "put":
		g, e, err := Put(r.g, sub, name, strings.ReplaceAll(or(args["location"], "eastus"), "_", " "), nil, args["managedBy"], r.env)
		if err != nil {
			return scenariotest.WriteError(out, err)
		}
		_ = g
		eff = e
	case "vm":
		_, deleting := args["deleting"]
		r.vms = append(r.vms, VM{ID: armid.VirtualMachineID(sub, name, f[1]), Deleting: deleting})
		return nil
	case "disk":
		r.others = append(r.others, armid.ComputeID(sub, name, "disks", f[1]))
		return nil
	case "set":
		r.others = append(r.others, armid.ComputeID(sub, name, "virtualMachineScaleSets", f[1]))
		return nil
	case "delete":
		if r.g == nil {
			return scenariotest.WriteError(out, NotFound(name))
		}
		var opID string
		opID, eff = Delete(r.g, r.vms, r.others, r.env)
		fmt.Fprintf(out, "  answers with operation %s\n", opID)
		// The commands ask each VM to start its delete.
		for _, c := range eff.Commands {
			for i := range r.vms {
				if c.Verb == VerbDelete && armid.Equal(r.vms[i].ID, c.Target) {
					r.vms[i].Deleting = true
				}
			}
		}
	case "vm-gone":
		id := armid.VirtualMachineID(sub, name, f[1])
		var left []VM
		for _, v := range r.vms {
			if !armid.Equal(v.ID, id) {
				left = append(left, v)
			}
		}
		r.vms = left
		if r.g != nil {
			eff = Settle(r.g, len(r.vms), r.others, r.env)
		}
	case "advance":
		d, err := time.ParseDuration(f[1])
		if err != nil {
			return err
		}
		r.env.Now = r.env.Now.Add(d)
		return nil
	default:
		return fmt.Errorf("unknown command %q", f[0])
	}
	scenariotest.WriteEffects(out, eff)
	for _, s := range eff.Put {
		g := s.(*Group)
		v := int64(1)
		if r.g != nil {
			v = r.g.Version + 1
		}
		g.SetVersion(v)
		r.g = g
	}
	for _, c := range eff.Commands {
		if c.Verb == VerbRemove {
			r.others = nil
		}
	}
	if len(eff.Removed) > 0 {
		r.g = nil
	}
	if r.g == nil {
		out.WriteString("  = no group\n")
		return nil
	}
	fmt.Fprintf(out, "  = group %s in %s, version %d, %s", r.g.Name, r.g.Location, r.g.Version, r.g.ProvisioningState())
	if r.g.ManagedBy != "" {
		fmt.Fprintf(out, ", managed by %s", r.g.ManagedBy)
	}
	fmt.Fprintf(out, "; %d VMs\n", len(r.vms))
	return nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
