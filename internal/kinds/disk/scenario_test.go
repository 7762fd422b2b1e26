package disk

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/kinds/resource"
	"github.com/azemu/azemu/internal/kinds/scenariotest"
)

// A disk scenario scripts VMs' storage profiles and clients' disk requests
// in one resource group. Commands:
//
//	vm NAME [location=L] [os=T]      a VM that storage profiles belong to
//	put NAME [sku=S] [size=N] [location=L]   a client's PUT of a disk (_ in L is a space)
//	delete NAME                      a client's DELETE of a disk
//	attach VM REF...                 the VM's storage profile is now REFs:
//	                                 name[,create=C][,size=N][,sku=S][,delete=Delete][,os]
//	release VM                       the VM is deleted
//	group-delete                     the group is deleted with what is left in it
//	advance DURATION                 move the clock
func TestScenarios(t *testing.T) {
	scenariotest.Run(t, func() scenariotest.Step { return newRunner().step })
}

const sub, rg = "00000000-0000-0000-0000-000000000001", "rg"

type runner struct {
	env      resource.Env
	disks    map[string]*Disk
	vms      map[string]Owner
	profiles map[string][]Ref
}

func newRunner() *runner {
	return &runner{env: resource.Env{Now: scenariotest.Start, NewID: scenariotest.IDs(), Speed: 1},
		disks: map[string]*Disk{}, vms: map[string]Owner{}, profiles: map[string][]Ref{}}
}

func (r *runner) step(f []string, out *strings.Builder) error {
	args := scenariotest.Args(f[1:])
	var eff resource.Effects
	var err error
	switch f[0] {
	case "vm":
		o := Owner{ID: "/subscriptions/" + sub + "/resourceGroups/" + rg + "/providers/Microsoft.Compute/virtualMachines/" + f[1],
			SubscriptionID: sub, ResourceGroup: rg, Location: or(args["location"], "eastus"), OSType: or(args["os"], "Linux")}
		r.vms[f[1]] = o
		return nil
	case "put":
		size, _ := strconv.Atoi(or(args["size"], "32"))
		spec := Spec{Location: strings.ReplaceAll(or(args["location"], "eastus"), "_", " "), SKU: or(args["sku"], "Standard_LRS"), SizeGB: size, CreateOption: "Empty"}
		_, eff, err = Put(r.disks[Key(ID(sub, rg, f[1]))], sub, rg, f[1], spec, r.env)
	case "delete":
		d := r.disks[Key(ID(sub, rg, f[1]))]
		if d == nil {
			return fmt.Errorf("no disk %s", f[1])
		}
		eff, err = Delete(d, r.env)
	case "attach":
		o, ok := r.vms[f[1]]
		if !ok {
			return fmt.Errorf("no vm %s", f[1])
		}
		var refs []Ref
		for _, spec := range f[2:] {
			refs = append(refs, parseRef(spec))
		}
		eff, err = Attach(o, refs, r.profiles[f[1]], r.named(o, refs, r.profiles[f[1]]), r.env)
		if err == nil {
			r.profiles[f[1]] = refs
		}
	case "release":
		// The VM asks each disk its profile names that exists.
		o := r.vms[f[1]]
		op := r.env.NewID()
		for _, id := range Named(o, r.profiles[f[1]]) {
			if d := r.disks[Key(id)]; d != nil {
				eff.Add(Release(d, o.ID, op, r.env))
			}
		}
		delete(r.vms, f[1])
	case "group-delete":
		op := r.env.NewID()
		for _, k := range r.keys() {
			eff.Add(Remove(r.disks[k], op, r.env))
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
	if err != nil {
		return scenariotest.WriteError(out, err)
	}
	scenariotest.WriteEffects(out, eff)
	for _, s := range eff.Put {
		r.disks[Key(s.ResourceID())] = s.(*Disk)
	}
	for _, s := range eff.Removed {
		delete(r.disks, Key(s.ResourceID()))
	}
	for _, k := range r.keys() {
		d := r.disks[k]
		fmt.Fprintf(out, "  = %s %s %s %dGB", scenariotest.Short(d.ID), d.State(), d.Spec.SKU, d.Spec.SizeGB)
		if d.ManagedBy != "" {
			fmt.Fprintf(out, " managedBy %s deleteOption %s", scenariotest.Short(d.ManagedBy), d.DeleteOption)
		}
		out.WriteString("\n")
	}
	return nil
}

// named looks the disks up as a runtime would: only those the profiles name.
func (r *runner) named(o Owner, refs ...[]Ref) map[string]*Disk {
	out := map[string]*Disk{}
	for _, id := range Named(o, refs...) {
		if d := r.disks[Key(id)]; d != nil {
			out[Key(id)] = d
		}
	}
	return out
}

func (r *runner) keys() []string {
	var keys []string
	for k := range r.disks {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func parseRef(spec string) Ref {
	parts := strings.Split(spec, ",")
	ref := Ref{Name: parts[0], CreateOption: "Empty"}
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(p, "=")
		switch k {
		case "create":
			ref.CreateOption = v
		case "size":
			ref.SizeGB, _ = strconv.Atoi(v)
		case "sku":
			ref.SKU = v
		case "delete":
			ref.DeleteOption = v
		case "os":
			ref.OS = true
		}
	}
	return ref
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
