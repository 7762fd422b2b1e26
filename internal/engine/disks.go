package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/store"
)

// DiskType is the ARM type of managed disks.
const DiskType = "Microsoft.Compute/disks"

// Disk is a managed disk snapshot. Disks bill from creation to deletion
// whatever the state of the VM they belong to, so they are resources of
// their own with their own history.
type Disk struct {
	ID             string
	SubscriptionID string
	ResourceGroup  string
	Name           string
	Spec           DiskSpec
	// ManagedBy is the ID of the VM the disk is attached to; empty when
	// unattached.
	ManagedBy string
	// DeleteOption is what happens to the disk when its VM is deleted:
	// Delete, or Detach (Azure's default).
	DeleteOption string
	UniqueID     string
	TimeCreated  time.Time
	Version      int64
}

// ETag is the disk's entity tag.
func (d *Disk) ETag() string { return fmt.Sprintf("\"%d\"", d.Version) }

// State is the disk's properties.diskState.
func (d *Disk) State() string {
	if d.ManagedBy != "" {
		return "Attached"
	}
	return "Unattached"
}

// DiskSpec is what the engine keeps of a disk's model.
type DiskSpec struct {
	Location     string          `json:"location"`
	SKU          string          `json:"sku"` // Premium_LRS, StandardSSD_LRS, Standard_LRS, ...
	SizeGB       int             `json:"sizeGB"`
	CreateOption string          `json:"createOption"` // Empty, FromImage, Attach (implicit OS disks use FromImage)
	OSType       string          `json:"osType,omitempty"`
	Model        json.RawMessage `json:"model,omitempty"` // tags, zones, and the rest of the body as written
}

type diskDoc struct {
	Spec         DiskSpec  `json:"spec"`
	ManagedBy    string    `json:"managedBy,omitempty"`
	DeleteOption string    `json:"deleteOption,omitempty"`
	UniqueID     string    `json:"uniqueId"`
	TimeCreated  time.Time `json:"timeCreated"`
}

// DiskRef is a disk a VM's storage profile names: the OS disk or a data disk.
type DiskRef struct {
	Name         string `json:"name"`
	ID           string `json:"id,omitempty"` // managedDisk.id; derived from Name when empty
	CreateOption string `json:"createOption"` // FromImage, Empty, Attach
	SizeGB       int    `json:"sizeGB,omitempty"`
	SKU          string `json:"sku,omitempty"`
	DeleteOption string `json:"deleteOption,omitempty"`
	OS           bool   `json:"os,omitempty"`
}

// diskDetail is what billing needs of a disk at the time of an event.
type diskDetail struct {
	Location  string `json:"location"`
	SKU       string `json:"diskSku"`
	SizeGB    int    `json:"diskSizeGB"`
	ManagedBy string `json:"managedBy,omitempty"`
}

func diskKey(id string) string { return store.Key(id) }

// GetDisk returns one disk, or the ARM not-found error.
func (e *Engine) GetDisk(sub, rg, name string) (*Disk, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if d, ok := e.disks[diskKey(diskID(sub, rg, name))]; ok {
		return d, nil
	}
	if _, ok := e.groups[groupKey(sub, rg)]; !ok {
		return nil, notFoundGroup(rg)
	}
	return nil, &Error{Code: CodeResourceNotFound, Message: fmt.Sprintf(
		"The Resource 'Microsoft.Compute/disks/%s' under resource group '%s' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix", name, rg)}
}

func diskID(sub, rg, name string) string {
	return armid.ResourceGroupID(sub, rg) + "/providers/Microsoft.Compute/disks/" + name
}

// ListDisks returns the disks that match, in ID order, paged like ListVMs.
func (e *Engine) ListDisks(match func(*Disk) bool, after string, limit int) (page []*Disk, next string) {
	e.mu.RLock()
	keys := make([]string, 0, len(e.disks))
	for k := range e.disks {
		if k > after {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	defer e.mu.RUnlock()
	for _, k := range keys {
		d := e.disks[k]
		if match != nil && !match(d) {
			continue
		}
		if limit > 0 && len(page) == limit {
			return page, k0(page)
		}
		page = append(page, d)
	}
	return page, ""
}

func k0(page []*Disk) string { return diskKey(page[len(page)-1].ID) }

// PutDiskRequest asks to create or update a standalone disk.
type PutDiskRequest struct {
	SubscriptionID, ResourceGroup, Name string
	IfMatch, IfNoneMatch                string
	// Build returns the spec to keep, given the disk as it is (nil when new).
	Build func(existing *Disk) (DiskSpec, error)
}

// PutDisk creates or updates a disk. A disk is ready at once (its
// provisioning is not modelled as a plan).
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
	id := diskID(strings.ToLower(r.SubscriptionID), g.Name, r.Name)
	old := e.disks[diskKey(id)]
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
	t.ensureSub(strings.ToLower(r.SubscriptionID))
	if old == nil {
		d := &Disk{ID: id, SubscriptionID: strings.ToLower(r.SubscriptionID), ResourceGroup: g.Name, Name: r.Name,
			Spec: spec, UniqueID: e.cfg.NewID(), TimeCreated: t.now}
		t.putDisk(d, "create")
		if err := t.commit(ctx); err != nil {
			return nil, false, err
		}
		return t.disks[diskKey(id)], true, nil
	}
	if err := checkDiskUpdate(old, spec); err != nil {
		return nil, false, err
	}
	d := *old
	d.Spec = spec
	t.putDisk(&d, "update")
	if err := t.commit(ctx); err != nil {
		return nil, false, err
	}
	return t.disks[diskKey(id)], false, nil
}

// checkDiskUpdate holds Azure's rules for changing a disk: it only grows,
// and its location never changes.
func checkDiskUpdate(old *Disk, spec DiskSpec) error {
	if !strings.EqualFold(armLocation(old.Spec.Location), armLocation(spec.Location)) {
		return &Error{Code: CodeInvalidResourceLocation, Message: fmt.Sprintf(
			"The resource '%s' already exists in location '%s' in resource group '%s'. A resource with the same name cannot be created in location '%s'. Please select a new resource name.",
			old.Name, old.Spec.Location, old.ResourceGroup, spec.Location)}
	}
	if spec.SizeGB < old.Spec.SizeGB {
		return &Error{Code: "InvalidParameter", Target: "diskSizeGB", Message: fmt.Sprintf(
			"Disk size may not be decreased: the disk '%s' is %d GB and the request asks for %d GB.", old.Name, old.Spec.SizeGB, spec.SizeGB)}
	}
	return nil
}

// DeleteDisk deletes an unattached disk; an attached one is refused.
func (e *Engine) DeleteDisk(ctx context.Context, sub, rg, name string) (found bool, err error) {
	if err := e.checkOpen(); err != nil {
		return false, err
	}
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	d := e.disks[diskKey(diskID(sub, rg, name))]
	if d == nil {
		return false, nil
	}
	if d.ManagedBy != "" {
		vm := d.ManagedBy
		if id, err := armid.Parse(vm); err == nil {
			vm = id.Name()
		}
		return true, &Error{Code: "OperationNotAllowed", Message: fmt.Sprintf(
			"Disk %s is attached to VM %s.", d.Name, d.ManagedBy), Target: vm}
	}
	t := e.begin(e.Now())
	t.removeDisk(d, "")
	return true, t.commit(ctx)
}

// putDisk records d's next snapshot and a history event when its billed
// attributes or its attachment changed (or it is new).
func (t *tx) putDisk(d *Disk, opKind string) {
	key := diskKey(d.ID)
	next := *d
	next.Version = 1
	var prev *Disk
	if committed, ok := t.e.disks[key]; ok {
		next.Version = committed.Version + 1
		prev = committed
	}
	if p, ok := t.disks[key]; ok && p != nil {
		prev = p
	}
	body, _ := json.Marshal(diskDoc{Spec: d.Spec, ManagedBy: d.ManagedBy, DeleteOption: d.DeleteOption, UniqueID: d.UniqueID, TimeCreated: d.TimeCreated})
	t.resRows[key] = store.Resource{ID: d.ID, Type: DiskType, SubscriptionID: d.SubscriptionID,
		ResourceGroup: d.ResourceGroup, Name: d.Name, Location: d.Spec.Location, Body: body, Version: next.Version,
		CreatedAt: d.TimeCreated, UpdatedAt: t.now}
	if prev == nil || prev.Spec.SKU != d.Spec.SKU || prev.Spec.SizeGB != d.Spec.SizeGB || prev.ManagedBy != d.ManagedBy {
		detail, _ := json.Marshal(diskDetail{Location: d.Spec.Location, SKU: d.Spec.SKU, SizeGB: d.Spec.SizeGB, ManagedBy: d.ManagedBy})
		t.ch.Events = append(t.ch.Events, store.Event{VMID: d.ID, At: t.now, ProvisioningState: "Succeeded",
			ProvisioningCode: "ProvisioningState/succeeded", OperationKind: opKind, Detail: detail})
	}
	t.disks[key] = &next
}

func (t *tx) removeDisk(d *Disk, opID string) {
	key := diskKey(d.ID)
	delete(t.resRows, key)
	t.ch.DeletedResources = append(t.ch.DeletedResources, d.ID)
	detail, _ := json.Marshal(diskDetail{Location: d.Spec.Location, SKU: d.Spec.SKU, SizeGB: d.Spec.SizeGB})
	t.ch.Events = append(t.ch.Events, store.Event{VMID: d.ID, At: t.now, ProvisioningState: "Deleted",
		OperationID: opID, OperationKind: "delete", Detail: detail})
	t.disks[key] = nil
}

func (t *tx) disk(key string) *Disk {
	if d, ok := t.disks[key]; ok {
		return d
	}
	return t.e.disks[key]
}

// attachDisks makes the disks a VM's model names exist and belong to it:
// new ones are created (FromImage, Empty), named ones attached (Attach);
// disks that old (the VM before this change, nil when new) named and the
// model no longer does are detached.
func (t *tx) attachDisks(v, old *VM, refs []DiskRef) error {
	want := map[string]bool{}
	for _, ref := range refs {
		id := ref.ID
		if id == "" {
			id = diskID(v.SubscriptionID, v.ResourceGroup, ref.Name)
		}
		key := diskKey(id)
		want[key] = true
		d := t.disk(key)
		if d == nil {
			if strings.EqualFold(ref.CreateOption, "Attach") {
				return &Error{Code: "NotFound", Target: "managedDisk.id", Message: fmt.Sprintf("Disk %s does not exist.", id)}
			}
			parsed, err := armid.Parse(id)
			if err != nil {
				return &Error{Code: "InvalidParameter", Target: "managedDisk.id", Message: fmt.Sprintf("'%s' is not a disk ID.", id)}
			}
			sku := ref.SKU
			if sku == "" {
				sku = "Premium_LRS"
			}
			d = &Disk{ID: parsed.String(), SubscriptionID: strings.ToLower(parsed.SubscriptionID), ResourceGroup: parsed.ResourceGroup, Name: parsed.Name(),
				Spec:     DiskSpec{Location: v.Spec.Location, SKU: sku, SizeGB: ref.SizeGB, CreateOption: ref.CreateOption, OSType: osTypeIf(ref.OS, v.Spec.OSType)},
				UniqueID: t.e.cfg.NewID(), TimeCreated: t.now}
		} else if d.ManagedBy != "" && !strings.EqualFold(d.ManagedBy, v.ID) {
			return &Error{Code: "OperationNotAllowed", Target: "managedDisk.id", Message: fmt.Sprintf(
				"Disk %s is already attached to VM %s.", d.Name, d.ManagedBy)}
		}
		if d.ManagedBy == v.ID && d.DeleteOption == deleteOptionOf(ref) && t.disk(key) != nil {
			continue
		}
		nd := *d
		nd.ManagedBy, nd.DeleteOption = v.ID, deleteOptionOf(ref)
		kind := "attach"
		if t.disk(key) == nil {
			kind = "create"
		}
		t.putDisk(&nd, kind)
	}
	if old == nil {
		return nil
	}
	for _, d := range t.disksOf(old) {
		if !want[diskKey(d.ID)] {
			nd := *d
			nd.ManagedBy, nd.DeleteOption = "", ""
			t.putDisk(&nd, "detach")
		}
	}
	return nil
}

func osTypeIf(os bool, osType string) string {
	if os {
		return osType
	}
	return ""
}

func deleteOptionOf(ref DiskRef) string {
	if strings.EqualFold(ref.DeleteOption, "Delete") {
		return "Delete"
	}
	return "Detach"
}

// disksOf lists the disks attached to VM v among those its spec names, as
// this change sees them. Going by the spec keeps this independent of how
// many disks the fleet holds.
func (t *tx) disksOf(v *VM) []*Disk {
	var out []*Disk
	seen := map[string]bool{}
	for _, ref := range v.Spec.Disks {
		id := ref.ID
		if id == "" {
			id = diskID(v.SubscriptionID, v.ResourceGroup, ref.Name)
		}
		key := diskKey(id)
		if seen[key] {
			continue
		}
		seen[key] = true
		if d := t.disk(key); d != nil && strings.EqualFold(d.ManagedBy, v.ID) {
			out = append(out, d)
		}
	}
	return out
}

// releaseDisks applies each disk's deleteOption when its VM is removed:
// Delete removes it, Detach leaves it unattached, and billing.
func (t *tx) releaseDisks(v *VM, opID string) {
	for _, d := range t.disksOf(v) {
		if d.DeleteOption == "Delete" {
			t.removeDisk(d, opID)
			continue
		}
		nd := *d
		nd.ManagedBy, nd.DeleteOption = "", ""
		t.putDisk(&nd, "detach")
	}
}

// removeGroupDisks deletes every disk left in a group being deleted.
func (t *tx) removeGroupDisks(g *Group, opID string) {
	prefix := strings.ToLower(armid.ResourceGroupID(g.SubscriptionID, g.Name)) + "/"
	seen := map[string]bool{}
	for k, d := range t.disks {
		seen[k] = true
		if d != nil && strings.HasPrefix(k, prefix) {
			t.removeDisk(d, opID)
		}
	}
	for k, d := range t.e.disks {
		if !seen[k] && strings.HasPrefix(k, prefix) {
			t.removeDisk(d, opID)
		}
	}
}
