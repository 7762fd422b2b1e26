package engine

import (
	"sort"

	"github.com/azemu/azemu/internal/kinds/disk"
	"github.com/azemu/azemu/internal/kinds/group"
	"github.com/azemu/azemu/internal/kinds/resource"
)

func diskID(sub, rg, name string) string { return disk.ID(sub, rg, name) }

// GetDisk returns one disk, or the ARM not-found error.
func (e *Engine) GetDisk(sub, rg, name string) (*Disk, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if d, ok := e.res[DiskType][disk.Key(diskID(sub, rg, name))]; ok {
		return d.(*Disk), nil
	}
	if _, ok := e.groups[groupKey(sub, rg)]; !ok {
		return nil, notFoundGroup(rg)
	}
	return nil, disk.NotFound(rg, name)
}

// ListDisks returns the disks that match, in ID order, paged like ListVMs.
func (e *Engine) ListDisks(match func(*Disk) bool, after string, limit int) (page []*Disk, next string) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	all := e.res[DiskType]
	keys := make([]string, 0, len(all))
	for k := range all {
		if k > after {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		d := all[k].(*Disk)
		if match != nil && !match(d) {
			continue
		}
		if limit > 0 && len(page) == limit {
			return page, disk.Key(page[len(page)-1].ID)
		}
		page = append(page, d)
	}
	return page, ""
}

// diskVerbs are the disk kind's decisions (internal/kinds/disk): a
// standalone disk's put and delete, and its removal with its group.
func diskVerbs() map[string]decision {
	return map[string]decision{
		VerbPut: taking(func(t *tx, target resource.State, c resource.Command, spec DiskSpec, env resource.Env) (string, resource.Effects, error) {
			old, _ := target.(*Disk)
			sub, rg, name := t.placeOf(c.Target)
			_, eff, err := disk.Put(old, sub, rg, name, spec, env)
			return "", eff, err
		}),
		VerbDelete: func(t *tx, target resource.State, c resource.Command, env resource.Env) (string, resource.Effects, error) {
			eff, err := disk.Delete(target.(*Disk), env)
			return "", eff, err
		},
		group.VerbRemove: func(t *tx, target resource.State, c resource.Command, env resource.Env) (string, resource.Effects, error) {
			return "", disk.Remove(target.(*Disk), c.OperationID, env), nil
		},
	}
}

// disksNamed returns the disks ids name as this change sees them, by key:
// what the disk module decides over.
func (t *tx) disksNamed(ids []string) map[string]*Disk {
	out := make(map[string]*Disk, len(ids))
	for _, id := range ids {
		k := disk.Key(id)
		if d, ok := t.resource(DiskType, k).(*Disk); ok && d != nil {
			out[k] = d
		}
	}
	return out
}

func diskOwner(v *VM) disk.Owner {
	return disk.Owner{ID: v.ID, SubscriptionID: v.SubscriptionID, ResourceGroup: v.ResourceGroup, Location: v.Spec.Location, OSType: v.Spec.OSType}
}

// attachDisks makes the disks a VM's model names exist and belong to it;
// old is the VM before this change (nil when new).
func (t *tx) attachDisks(v, old *VM, refs []DiskRef) error {
	o := diskOwner(v)
	var previous []DiskRef
	if old != nil {
		previous = old.Spec.Disks
	}
	eff, err := disk.Attach(o, refs, previous, t.disksNamed(disk.Named(o, refs, previous)), t.env())
	if err != nil {
		return err
	}
	t.apply(eff)
	return nil
}

// releaseDisks applies each disk's deleteOption when its VM is removed.
func (t *tx) releaseDisks(v *VM, opID string) {
	o := diskOwner(v)
	t.apply(disk.Release(o, v.Spec.Disks, t.disksNamed(disk.Named(o, v.Spec.Disks)), opID, t.env()))
}
