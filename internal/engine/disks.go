package engine

import (
	"context"
	"fmt"
	"sort"

	"github.com/azemu/azemu/internal/armid"
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

// PutDiskRequest asks to create or update a standalone disk.
type PutDiskRequest struct {
	SubscriptionID, ResourceGroup, Name string
	IfMatch, IfNoneMatch                string
	// Build returns the spec to keep, given the disk as it is (nil when new).
	Build func(existing *Disk) (DiskSpec, error)
}

// PutDisk creates or updates a disk.
func (e *Engine) PutDisk(ctx context.Context, r PutDiskRequest) (*Disk, bool, error) {
	if err := e.checkOpen(); err != nil {
		return nil, false, err
	}
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	g := e.groups[groupKey(r.SubscriptionID, r.ResourceGroup)]
	if g == nil {
		return nil, false, notFoundGroup(r.ResourceGroup)
	}
	if g.DeleteOperation != "" {
		return nil, false, groupBeingDeleted(g)
	}
	sub := armid.Fold(r.SubscriptionID)
	id := diskID(sub, g.Name, r.Name)
	old, _ := e.res[DiskType][disk.Key(id)].(*Disk)
	var oldVersioned versioned
	if old != nil {
		oldVersioned = old
	}
	if err := checkETag(oldVersioned, r.IfMatch, r.IfNoneMatch); err != nil {
		return nil, false, err
	}
	spec, err := r.Build(old)
	if err != nil {
		return nil, false, err
	}
	t := e.begin(e.Now())
	_, eff, err := disk.Put(old, sub, g.Name, r.Name, spec, t.env())
	if err != nil {
		return nil, false, err
	}
	t.ensureSub(sub)
	t.apply(eff)
	if err := t.commit(ctx); err != nil {
		return nil, false, err
	}
	return t.res[disk.Key(id)].(*Disk), old == nil, nil
}

// DeleteDisk deletes an unattached disk; an attached one is refused.
func (e *Engine) DeleteDisk(ctx context.Context, sub, rg, name string) (found bool, err error) {
	if err := e.checkOpen(); err != nil {
		return false, err
	}
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	d, _ := e.res[DiskType][disk.Key(diskID(sub, rg, name))].(*Disk)
	if d == nil {
		return false, nil
	}
	t := e.begin(e.Now())
	eff, err := disk.Delete(d, t.env())
	if err != nil {
		return true, err
	}
	t.apply(eff)
	return true, t.commit(ctx)
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

// diskCommand runs a command a resource module asks of a disk.
func (t *tx) diskCommand(c resource.Command) error {
	d, ok := t.resource(DiskType, disk.Key(c.Target)).(*Disk)
	if !ok || d == nil || c.Verb != group.VerbRemove {
		return fmt.Errorf("engine: disk %s takes no command %q", c.Target, c.Verb)
	}
	t.apply(disk.Remove(d, c.OperationID, t.env()))
	return nil
}
