package engine

import (
	"sort"
	"strings"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/kinds/group"
	"github.com/azemu/azemu/internal/kinds/resource"
	"github.com/azemu/azemu/internal/kinds/vm"
)

// loadGroup is the group with the given ID as this change sees it.
func (t *tx) loadGroup(id string) resource.State {
	parsed, err := armid.Parse(id)
	if err != nil {
		return nil
	}
	if g := t.group(groupKey(parsed.SubscriptionID, parsed.ResourceGroup)); g != nil {
		return g
	}
	return nil
}

// groupAdopts refuses a new or changed resource in a group being deleted.
func groupAdopts(parent resource.State) error {
	if g := parent.(*Group); g.DeleteOperation != "" {
		return groupBeingDeleted(g)
	}
	return nil
}

// groupVerbs are the resource group kind's decisions
// (internal/kinds/group).
func groupVerbs() map[string]decision {
	return map[string]decision{
		VerbPut: putting(func(t *tx, old *Group, at place, in GroupPut, env resource.Env) (string, resource.Effects, error) {
			_, eff, err := group.Put(old, at.sub, at.rg, in.Location, in.Tags, in.ManagedBy, env)
			return "", eff, err
		}),
		// A delete deletes every VM in the group; its operation ends when the
		// last is gone and the group with it.
		VerbDelete: func(t *tx, target resource.State, c resource.Command, env resource.Env) (string, resource.Effects, error) {
			g := target.(*Group)
			var vms []group.VM
			for _, v := range t.vmsIn(g) {
				vms = append(vms, group.VM{ID: v.ID, Deleting: deleting(v)})
			}
			opID, eff := group.Delete(g, vms, t.othersIn(g), env)
			return opID, eff, nil
		},
		// A VM is gone: a group being deleted goes once its last VM has,
		// with what is left in it.
		vm.VerbGone: func(t *tx, target resource.State, c resource.Command, env resource.Env) (string, resource.Effects, error) {
			g, _ := target.(*Group)
			if g == nil || g.DeleteOperation == "" || len(t.vmsIn(g)) > 0 {
				return "", resource.Effects{}, nil
			}
			return "", group.Settle(g, 0, t.othersIn(g), env), nil
		},
	}
}

// GroupPut is the input of a resource group's put.
type GroupPut struct {
	Location  string
	Tags      map[string]string
	ManagedBy string
}

// vmsIn lists the VMs in group g as this change sees them, in ID order.
func (t *tx) vmsIn(g *Group) []*VM {
	prefix := armid.Fold(armid.ResourceGroupID(g.SubscriptionID, g.Name)) + "/"
	var out []*VM
	t.eachVM(func(k string, v *VM) {
		if strings.HasPrefix(k, prefix) {
			out = append(out, v)
		}
	})
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// othersIn lists the IDs of the resources other than VMs left in group g,
// as this change sees them: what goes with the group once its VMs are gone.
func (t *tx) othersIn(g *Group) []string {
	var ids []string
	for _, typ := range t.e.storedKinds() {
		for _, s := range t.resourcesIn(typ, g) {
			ids = append(ids, s.ResourceID())
		}
	}
	return ids
}
