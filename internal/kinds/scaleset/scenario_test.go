package scaleset

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/kinds/resource"
	"github.com/azemu/azemu/internal/kinds/scenariotest"
	"github.com/azemu/azemu/internal/lifecycle"
)

// A scale set scenario scripts one set and its instances. Instances' own
// operations are the VM lifecycle's; the script says how each ends.
// Commands:
//
//	put [capacity=N] [mode=Flexible] [noprofile]   a client's PUT (no capacity: keep the instances)
//	act KIND [instances=0,2]                       a batch action over all or some instances
//	delete [force]                                 a client's DELETE of the set
//	instance N succeeded|preempted|failed CODE     instance N's running operation ends so
//	group-delete                                   the set goes with its group
//	advance DURATION                               move the clock
func TestScenarios(t *testing.T) {
	scenariotest.Run(t, func() scenariotest.Step { return newRunner().step })
}

const sub, rg, name = "00000000-0000-0000-0000-000000000001", "rg", "pool"

// instance is the runner's stand-in for an instance VM: the operation it
// runs, if any.
type instance struct {
	id, name string
	running  string // operation ID
	kind     lifecycle.Kind
}

type runner struct {
	env       resource.Env
	s         *ScaleSet
	instances map[string]*instance
}

func newRunner() *runner {
	return &runner{env: resource.Env{Now: scenariotest.Start, NewID: scenariotest.IDs(), Speed: 1}, instances: map[string]*instance{}}
}

func (r *runner) members() []Member {
	var out []Member
	for _, in := range r.instances {
		m := Member{ID: in.id, Name: in.name}
		if in.kind == lifecycle.Delete {
			m.Deleting = in.running
		}
		out = append(out, m)
	}
	return out
}

func (r *runner) step(f []string, out *strings.Builder) error {
	args := scenariotest.Args(f[1:])
	var eff resource.Effects
	var err error
	switch f[0] {
	case "put":
		spec := Spec{Location: "eastus", Mode: Uniform, Capacity: -1, HasProfile: true}
		if m := args["mode"]; m != "" {
			spec.Mode = m
		}
		if _, ok := args["noprofile"]; ok {
			spec.HasProfile = false
		}
		if c := args["capacity"]; c != "" {
			spec.Capacity, _ = strconv.ParseInt(c, 10, 64)
		}
		var opID string
		_, opID, eff, err = Put(r.s, sub, rg, name, spec, r.members(), r.env)
		if err == nil {
			fmt.Fprintf(out, "  answers with operation %s\n", opID)
		}
	case "act":
		var ids []string
		if v, ok := args["instances"]; ok {
			ids = strings.Split(v, ",")
		}
		var opID string
		opID, eff, err = Act(r.s, r.members(), f[1], lifecycle.Request{Kind: lifecycle.Kind(f[1])}, ids, r.env)
		if err == nil {
			fmt.Fprintf(out, "  answers with operation %s\n", opID)
		}
	case "delete":
		_, force := args["force"]
		var opID string
		opID, eff = Delete(r.s, r.members(), force, r.env)
		fmt.Fprintf(out, "  answers with operation %s\n", opID)
	case "instance":
		in := r.instances[f[1]]
		if in == nil || in.running == "" {
			return fmt.Errorf("instance %s runs nothing", f[1])
		}
		o := Outcome{Status: resource.StatusSucceeded}
		switch f[2] {
		case "preempted":
			o = Outcome{Status: resource.StatusCanceled, Error: &resource.OperationError{Code: lifecycle.CodeOperationPreempted, Message: lifecycle.MsgPreempted}}
		case "failed":
			o = Outcome{Status: resource.StatusFailed, Error: &resource.OperationError{Code: f[3], Message: "The operation failed."}}
		}
		child := in.running
		if in.kind == lifecycle.Delete && o.Status == resource.StatusSucceeded {
			delete(r.instances, f[1])
		}
		in.running, in.kind = "", ""
		fmt.Fprintf(out, "  operation %s %s\n", child, o.Status)
		if r.s != nil {
			eff = ChildDone(r.s, child, o, r.env)
		}
	case "group-delete":
		eff = Remove(r.s, r.env)
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
	if err != nil {
		return scenariotest.WriteError(out, err)
	}
	scenariotest.WriteEffects(out, eff)
	for _, st := range eff.Put {
		v := int64(1)
		if r.s != nil {
			v = r.s.Version + 1
		}
		st.SetVersion(v)
		r.s = st.(*ScaleSet)
	}
	if len(eff.Removed) > 0 {
		r.s = nil
	}
	for _, c := range eff.Commands {
		switch c.Verb {
		case VerbCreateInstance:
			n := strconv.Itoa(c.Args.(CreateArgs).Counter)
			r.instances[n] = &instance{id: InstanceID(ID(sub, rg, name), n), name: name + "_" + n, running: c.OperationID, kind: lifecycle.Create}
		case VerbRun:
			for _, in := range r.instances {
				if in.id == c.Target {
					in.running, in.kind = c.OperationID, c.Args.(RunArgs).Request.Kind
				}
			}
		}
	}
	r.show(out)
	return nil
}

func (r *runner) show(out *strings.Builder) {
	if r.s == nil {
		out.WriteString("  = no set\n")
		return
	}
	s := r.s
	fmt.Fprintf(out, "  = set %s %s, version %d, next instance %d, capacity %d\n", s.Name, s.ProvisioningState, s.Version, s.NextInstance, s.Spec.Capacity)
	var parents []string
	for p := range s.Batches {
		parents = append(parents, p)
	}
	sort.Strings(parents)
	for _, p := range parents {
		fmt.Fprintf(out, "  = batch %s (%s):", p, s.BatchKinds[p])
		for _, c := range s.Batches[p] {
			if o, ok := s.Outcomes[c]; ok {
				fmt.Fprintf(out, " %s=%s", c, o.Status)
			} else {
				fmt.Fprintf(out, " %s", c)
			}
		}
		out.WriteString("\n")
	}
	var ms []Member
	for _, in := range r.instances {
		ms = append(ms, Member{ID: in.id})
	}
	Sort(ms)
	for _, m := range ms {
		in := r.instances[lastSegment(m.ID)]
		fmt.Fprintf(out, "  = instance %s", lastSegment(in.id))
		if in.running != "" {
			fmt.Fprintf(out, " runs %s as %s", in.kind, in.running)
		}
		out.WriteString("\n")
	}
}
