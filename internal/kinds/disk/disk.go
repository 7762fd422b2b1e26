// Package disk decides managed disks: a standalone PUT or DELETE, the disks
// a VM's storage profile creates and attaches, and what a VM's deletion
// does to each by its deleteOption (the VM asks each disk in turn). It is pure: the caller passes the disks as
// they are, the time and fresh IDs, and applies the returned effects.
package disk

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/kinds/resource"
)

// Type is the ARM type of managed disks.
const Type = "Microsoft.Compute/disks"

// Disk is a managed disk snapshot. Disks bill from creation to deletion
// whatever the state of the VM they belong to, so they are resources of
// their own with their own history.
type Disk struct {
	resource.Meta `json:"-"`
	Spec          Spec `json:"spec"`
	// ManagedBy is the ID of the VM the disk is attached to; empty when
	// unattached.
	ManagedBy string `json:"managedBy,omitempty"`
	// DeleteOption is what happens to the disk when its VM is deleted:
	// Delete, or Detach (Azure's default).
	DeleteOption string    `json:"deleteOption,omitempty"`
	UniqueID     string    `json:"uniqueId"`
	TimeCreated  time.Time `json:"timeCreated"`
}

// State is the disk's properties.diskState.
func (d *Disk) State() string {
	if d.ManagedBy != "" {
		return "Attached"
	}
	return "Unattached"
}

// ResourceType is Type.
func (d *Disk) ResourceType() string { return Type }

// Row is the disk as the store keeps it: the fields above, as JSON.
func (d *Disk) Row() resource.Row { return resource.RowOf(d, d.Spec.Location, d.TimeCreated) }

// Decode reads a disk back from its stored row.
var Decode = resource.Decode[Disk]

// Spec is what azemu keeps of a disk's model.
type Spec struct {
	Location     string          `json:"location"`
	SKU          string          `json:"sku"` // Premium_LRS, StandardSSD_LRS, Standard_LRS, ...
	SizeGB       int             `json:"sizeGB"`
	CreateOption string          `json:"createOption"` // Empty, FromImage, Attach (implicit OS disks use FromImage)
	OSType       string          `json:"osType,omitempty"`
	Model        json.RawMessage `json:"model,omitempty"` // tags, zones, and the rest of the body as written
}

// Ref is a disk a VM's storage profile names: the OS disk or a data disk.
type Ref struct {
	Name         string `json:"name"`
	ID           string `json:"id,omitempty"` // managedDisk.id; derived from Name when empty
	CreateOption string `json:"createOption"` // FromImage, Empty, Attach
	SizeGB       int    `json:"sizeGB,omitempty"`
	SKU          string `json:"sku,omitempty"`
	DeleteOption string `json:"deleteOption,omitempty"`
	OS           bool   `json:"os,omitempty"`
}

// Detail is what billing needs of a disk at the time of a history event.
type Detail struct {
	Location  string `json:"location"`
	SKU       string `json:"diskSku"`
	SizeGB    int    `json:"diskSizeGB"`
	ManagedBy string `json:"managedBy,omitempty"`
}

// Owner is what the disk rules need of the VM whose storage profile names
// disks.
type Owner struct {
	ID, SubscriptionID, ResourceGroup, Location, OSType string
}

// Key is the case-insensitive map key of a disk ID.
func Key(id string) string { return armid.Fold(id) }

// ID is the ID of the disk named name in a group.
func ID(sub, rg, name string) string { return armid.ComputeID(sub, rg, "disks", name) }

// RefID is the ID of the disk a storage profile entry names.
func RefID(o Owner, ref Ref) string {
	if ref.ID != "" {
		return ref.ID
	}
	return ID(o.SubscriptionID, o.ResourceGroup, ref.Name)
}

// Named lists the IDs of the disks refs name, once each: what the caller
// looks up before deciding for a VM.
func Named(o Owner, refs ...[]Ref) []string {
	var out []string
	seen := map[string]bool{}
	for _, list := range refs {
		for _, ref := range list {
			id := RefID(o, ref)
			if k := Key(id); !seen[k] {
				seen[k] = true
				out = append(out, id)
			}
		}
	}
	return out
}

// Put decides a client's PUT of a standalone disk. old is the disk as it
// is (nil when new). A disk is ready at once: its provisioning is not
// modelled as a plan.
func Put(old *Disk, sub, rg, name string, spec Spec, env resource.Env) (*Disk, resource.Effects, error) {
	if old == nil {
		d := &Disk{Meta: resource.Meta{ID: ID(sub, rg, name), SubscriptionID: sub, ResourceGroup: rg, Name: name},
			Spec: spec, UniqueID: env.NewID(), TimeCreated: env.Now}
		return d, put(nil, d, "create", env.Now), nil
	}
	if err := checkUpdate(old, spec); err != nil {
		return nil, resource.Effects{}, err
	}
	d := *old
	d.Spec = spec
	return &d, put(old, &d, "update", env.Now), nil
}

// checkUpdate holds Azure's rules for changing a disk: it only grows, and
// its location never changes.
func checkUpdate(old *Disk, spec Spec) error {
	if !armid.SameLocation(old.Spec.Location, spec.Location) {
		return &resource.Error{Code: "InvalidResourceLocation", Message: fmt.Sprintf(
			"The resource '%s' already exists in location '%s' in resource group '%s'. A resource with the same name cannot be created in location '%s'. Please select a new resource name.",
			old.Name, old.Spec.Location, old.ResourceGroup, spec.Location)}
	}
	if spec.SizeGB < old.Spec.SizeGB {
		return &resource.Error{Code: "InvalidParameter", Target: "diskSizeGB", Message: fmt.Sprintf(
			"Disk size may not be decreased: the disk '%s' is %d GB and the request asks for %d GB.", old.Name, old.Spec.SizeGB, spec.SizeGB)}
	}
	return nil
}

// Delete decides a client's DELETE: an attached disk is refused.
func Delete(d *Disk, env resource.Env) (resource.Effects, error) {
	if d.ManagedBy != "" {
		vm := d.ManagedBy
		if id, err := armid.Parse(vm); err == nil {
			vm = id.Name()
		}
		return resource.Effects{}, &resource.Error{Code: "OperationNotAllowed", Message: fmt.Sprintf(
			"Disk %s is attached to VM %s.", d.Name, d.ManagedBy), Target: vm}
	}
	return remove(d, "", env.Now), nil
}

// Remove decides the deletion of a disk whatever its state: its group is
// being deleted, or its VM went with deleteOption Delete. opID is the
// operation that removes it.
func Remove(d *Disk, opID string, env resource.Env) resource.Effects { return remove(d, opID, env.Now) }

// put records d's next snapshot, with a history event when its billed
// attributes or its attachment changed (or it is new). prev is the disk
// as it was (nil when new).
func put(prev, d *Disk, opKind string, at time.Time) resource.Effects {
	eff := resource.Effects{Put: []resource.State{d}}
	if prev == nil || prev.Spec.SKU != d.Spec.SKU || prev.Spec.SizeGB != d.Spec.SizeGB || prev.ManagedBy != d.ManagedBy {
		detail, _ := json.Marshal(Detail{Location: d.Spec.Location, SKU: d.Spec.SKU, SizeGB: d.Spec.SizeGB, ManagedBy: d.ManagedBy})
		eff.Events = append(eff.Events, resource.Event{ResourceID: d.ID, At: at, ProvisioningState: "Succeeded",
			ProvisioningCode: "ProvisioningState/succeeded", OperationKind: opKind, Detail: detail})
	}
	return eff
}

func remove(d *Disk, opID string, at time.Time) resource.Effects {
	detail, _ := json.Marshal(Detail{Location: d.Spec.Location, SKU: d.Spec.SKU, SizeGB: d.Spec.SizeGB})
	return resource.Effects{Removed: []resource.State{d}, Events: []resource.Event{{ResourceID: d.ID, At: at, ProvisioningState: "Deleted",
		OperationID: opID, OperationKind: "delete", Detail: detail}}}
}

// Attach decides the disks of a VM's storage profile: new ones are created
// (FromImage, Empty), named ones attached (Attach), and disks the profile
// named before (previous) and no longer does are detached. current holds
// the disks Named finds, by Key; the caller passes what it has.
func Attach(o Owner, refs, previous []Ref, current map[string]*Disk, env resource.Env) (resource.Effects, error) {
	var eff resource.Effects
	cur := func(id string) *Disk { return current[Key(id)] }
	changed := map[string]*Disk{}
	want := map[string]bool{}
	for _, ref := range refs {
		id := RefID(o, ref)
		key := Key(id)
		want[key] = true
		d := cur(id)
		if c, ok := changed[key]; ok {
			d = c
		}
		existed := d != nil
		if d == nil {
			if strings.EqualFold(ref.CreateOption, "Attach") {
				return resource.Effects{}, &resource.Error{Code: "NotFound", Target: "managedDisk.id", Message: fmt.Sprintf("Disk %s does not exist.", id)}
			}
			parsed, err := armid.Parse(id)
			if err != nil {
				return resource.Effects{}, &resource.Error{Code: "InvalidParameter", Target: "managedDisk.id", Message: fmt.Sprintf("'%s' is not a disk ID.", id)}
			}
			sku := ref.SKU
			if sku == "" {
				sku = "Premium_LRS"
			}
			d = &Disk{Meta: resource.Meta{ID: parsed.String(), SubscriptionID: armid.Fold(parsed.SubscriptionID), ResourceGroup: parsed.ResourceGroup, Name: parsed.Name()},
				Spec:     Spec{Location: o.Location, SKU: sku, SizeGB: ref.SizeGB, CreateOption: ref.CreateOption, OSType: osTypeIf(ref.OS, o.OSType)},
				UniqueID: env.NewID(), TimeCreated: env.Now}
		} else if d.ManagedBy != "" && !strings.EqualFold(d.ManagedBy, o.ID) {
			return resource.Effects{}, &resource.Error{Code: "OperationNotAllowed", Target: "managedDisk.id", Message: fmt.Sprintf(
				"Disk %s is already attached to VM %s.", d.Name, d.ManagedBy)}
		}
		if existed && d.ManagedBy == o.ID && d.DeleteOption == deleteOptionOf(ref) {
			continue
		}
		nd := *d
		nd.ManagedBy, nd.DeleteOption = o.ID, deleteOptionOf(ref)
		kind := "attach"
		var prev *Disk
		if existed {
			prev = d
		} else {
			kind = "create"
		}
		eff.Add(put(prev, &nd, kind, env.Now))
		changed[key] = &nd
	}
	for _, d := range attached(o, previous, current) {
		if !want[Key(d.ID)] {
			nd := *d
			nd.ManagedBy, nd.DeleteOption = "", ""
			eff.Add(put(d, &nd, "detach", env.Now))
		}
	}
	return eff, nil
}

// Release decides what the deletion of the VM with ID vm does to disk d,
// by the disk's deleteOption: Delete removes it, Detach leaves it
// unattached, still billing. opID is the deleting operation. A disk no
// longer attached to that VM is left alone.
func Release(d *Disk, vm, opID string, env resource.Env) resource.Effects {
	if !strings.EqualFold(d.ManagedBy, vm) {
		return resource.Effects{}
	}
	if d.DeleteOption == "Delete" {
		return remove(d, opID, env.Now)
	}
	nd := *d
	nd.ManagedBy, nd.DeleteOption = "", ""
	return put(d, &nd, "detach", env.Now)
}

// attached lists the disks refs name that are attached to o. Going by the
// profile keeps this independent of how many disks the fleet holds.
func attached(o Owner, refs []Ref, current map[string]*Disk) []*Disk {
	var out []*Disk
	for _, id := range Named(o, refs) {
		if d := current[Key(id)]; d != nil && strings.EqualFold(d.ManagedBy, o.ID) {
			out = append(out, d)
		}
	}
	return out
}

func osTypeIf(os bool, osType string) string {
	if os {
		return osType
	}
	return ""
}

func deleteOptionOf(ref Ref) string {
	if strings.EqualFold(ref.DeleteOption, "Delete") {
		return "Delete"
	}
	return "Detach"
}
