package engine

import (
	"github.com/azemu/azemu/internal/kinds/disk"
	"github.com/azemu/azemu/internal/kinds/group"
	"github.com/azemu/azemu/internal/kinds/resource"
	"github.com/azemu/azemu/internal/kinds/vm"
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
		// The VM the disk is attached to is removed.
		vm.VerbReleaseDisk: taking(func(t *tx, target resource.State, c resource.Command, args vm.ReleaseDiskArgs, env resource.Env) (string, resource.Effects, error) {
			return "", disk.Release(target.(*Disk), args.VM, c.OperationID, env), nil
		}),
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
