package engine

import (
	"github.com/azemu/azemu/internal/kinds/disk"
	"github.com/azemu/azemu/internal/kinds/group"
	"github.com/azemu/azemu/internal/kinds/resource"
)

func diskID(sub, rg, name string) string { return disk.ID(sub, rg, name) }

// GetDisk returns one disk, or the ARM not-found error.
func (e *Engine) GetDisk(sub, rg, name string) (*Disk, error) {
	return find[*Disk](e, diskID(sub, rg, name))
}

// ListDisks returns the disks that match, in ID order, paged like ListVMs.
func (e *Engine) ListDisks(match func(*Disk) bool, after string, limit int) (page []*Disk, next string) {
	return list(e, DiskType, match, after, limit)
}

// diskVerbs are the disk kind's decisions (internal/kinds/disk): a
// standalone disk's put and delete, and its removal with its group.
func diskVerbs() map[string]decision {
	return map[string]decision{
		VerbPut: putting(func(t *tx, old *Disk, at place, spec DiskSpec, env resource.Env) (string, resource.Effects, error) {
			_, eff, err := disk.Put(old, at.sub, at.rg, at.name, spec, env)
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
