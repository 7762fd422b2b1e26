package extension

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/kinds/resource"
	"github.com/azemu/azemu/internal/kinds/scenariotest"
	"github.com/azemu/azemu/internal/lifecycle"
)

// An extension scenario scripts one VM's lifecycle and its extensions. The
// runner carries out the commands the module asks of the VM with the VM's
// own rules (internal/lifecycle), as the engine does. Commands:
//
//	vm create|running     the VM starts being created from a generalized
//	                      image, or is running
//	put NAME [install=D]  add or change an extension
//	delete NAME           remove an extension
//	vm-delete             the VM is removed, with its extensions
//	advance DURATION      move the clock, firing the VM's due steps
func TestScenarios(t *testing.T) {
	scenariotest.Run(t, func() scenariotest.Step { return newRunner().step })
}

const vmID = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"

type runner struct {
	env     resource.Env
	m       lifecycle.Machine
	waiting []string
	exts    map[string]*Extension
}

func newRunner() *runner {
	return &runner{env: resource.Env{Now: scenariotest.Start, NewID: scenariotest.IDs(), Speed: 1},
		m: lifecycle.Machine{Name: "vm1"}, exts: map[string]*Extension{}}
}

func (r *runner) vm() VM {
	return VM{ID: vmID, SubscriptionID: "00000000-0000-0000-0000-000000000001", ResourceGroup: "rg", Name: "vm1", Location: "eastus", Machine: r.m}
}

func (r *runner) step(f []string, out *strings.Builder) error {
	args := scenariotest.Args(f[1:])
	var eff resource.Effects
	switch f[0] {
	case "vm":
		if len(f) > 1 && f[1] == "running" {
			r.m = lifecycle.Machine{Name: "vm1", State: lifecycle.State{Provisioning: lifecycle.Succeeded, Power: lifecycle.Running}}
		} else {
			id := r.env.NewID()
			next, _, err := r.m.Submit(lifecycle.Request{Kind: lifecycle.Create, GeneralizedImage: true}, id, r.env.Now, 1)
			if err != nil {
				return err
			}
			r.m = next
			fmt.Fprintf(out, "  operation %s InProgress: create on virtualMachines/vm1\n", id)
		}
	case "put":
		var install time.Duration
		if v := args["install"]; v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				return err
			}
			install = d
		}
		_, eff = Put(r.vm(), r.exts[Key(ID(vmID, f[1]))], f[1], Spec{Location: "eastus", Publisher: "Microsoft.Azure.Extensions", Type: "CustomScript", Install: install}, r.env)
	case "delete":
		x := r.exts[Key(ID(vmID, f[1]))]
		if x == nil {
			return fmt.Errorf("no extension %s", f[1])
		}
		_, eff = Delete(r.vm(), x, r.env)
	case "vm-delete":
		// The VM asks each of its extensions in turn.
		for _, k := range r.keys() {
			eff.Add(Remove(r.exts[k]))
		}
	case "advance":
		d, err := time.ParseDuration(f[1])
		if err != nil {
			return err
		}
		r.advance(r.env.Now.Add(d), out)
	default:
		return fmt.Errorf("unknown command %q", f[0])
	}
	scenariotest.WriteEffects(out, eff)
	if refused, err := r.vmCommands(eff.Commands, out); err != nil || refused {
		return err
	}
	for _, s := range eff.Put {
		r.exts[Key(s.ResourceID())] = s.(*Extension)
	}
	for _, s := range eff.Removed {
		delete(r.exts, Key(s.ResourceID()))
	}
	r.show(out)
	return nil
}

// vmCommands carries out what the module asks of the VM; refused is true
// when the VM refused, and with it the whole request.
func (r *runner) vmCommands(cmds []resource.Command, out *strings.Builder) (refused bool, err error) {
	for _, c := range cmds {
		switch a := c.Args.(type) {
		case HoldArgs:
			held, ok := r.m.HoldOSComplete(a.Until)
			if !ok {
				return false, fmt.Errorf("the VM cannot hold")
			}
			r.m = held
			r.waiting = append(r.waiting, c.OperationID)
		case InstallArgs:
			next, _, err := r.m.Submit(lifecycle.Request{Kind: lifecycle.Update, Extensions: a.Duration}, c.OperationID, r.env.Now, 1)
			var refusal *lifecycle.Refusal
			if errors.As(err, &refusal) {
				fmt.Fprintf(out, "  the VM refuses, and so the request: %s: %s\n", refusal.Code, refusal.Message)
				return true, nil
			}
			if err != nil {
				return false, err
			}
			r.m = next
		default:
			return false, fmt.Errorf("unknown command %s", c.Verb)
		}
	}
	return false, nil
}

func (r *runner) advance(until time.Time, out *strings.Builder) {
	for {
		due, ok := r.m.Due()
		if !ok || due.After(until) {
			break
		}
		r.env.Now = due
		var fired lifecycle.Fired
		r.m, fired = r.m.Fire(due)
		fmt.Fprintf(out, "  %s ", scenariotest.Offset(due))
		r.showVM(out)
		ended := ""
		if fired.Finished != "" {
			ended = "Succeeded"
			fmt.Fprintf(out, "  operation %s Succeeded %s\n", fired.Finished, scenariotest.Offset(due))
		}
		if fired.Failed != "" {
			ended = "Failed"
			fmt.Fprintf(out, "  operation %s Failed %s\n", fired.Failed, scenariotest.Offset(due))
		}
		if ended != "" {
			for _, id := range r.waiting {
				fmt.Fprintf(out, "  operation %s %s %s (waited on the VM's plan)\n", id, ended, scenariotest.Offset(due))
			}
			r.waiting = nil
		}
	}
	r.env.Now = until
}

func (r *runner) show(out *strings.Builder) {
	out.WriteString("  = ")
	r.showVM(out)
	for _, k := range r.keys() {
		x := r.exts[k]
		fmt.Fprintf(out, "  = %s installs as %s in %s\n", scenariotest.Short(x.ID), x.OperationID, x.Spec.Install)
	}
}

func (r *runner) showVM(out *strings.Builder) {
	st := r.m.State
	fmt.Fprintf(out, "VM %s %s", st.ProvisioningCode(), st.Power)
	if st.OS != "" {
		fmt.Fprintf(out, " %s", st.OS)
	}
	if due, ok := r.m.Due(); ok {
		fmt.Fprintf(out, " (%s next due %s)", r.m.Run.Plan.Kind, scenariotest.Offset(due))
	}
	out.WriteString("\n")
}

func (r *runner) keys() []string {
	var keys []string
	for k := range r.exts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
