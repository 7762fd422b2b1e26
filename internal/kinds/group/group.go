// Package group decides resource groups: a PUT keeps the group where it
// was created, and a DELETE cascades. Deleting a group deletes its VMs
// (each through its own lifecycle, by command); when the last is gone the
// group's remaining resources are removed with it and its operation ends.
package group

import (
	"fmt"
	"time"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/kinds/resource"
)

// Type is the ARM type of resource groups.
const Type = "Microsoft.Resources/resourceGroups"

// Commands this module asks of the resources in a group being deleted.
const (
	// VerbDelete asks a VM to run its delete, as the command's operation.
	VerbDelete = resource.VerbDelete
	// VerbRemove removes a resource that has no lifecycle of its own (a
	// disk, a scale set whose instances are gone) with the group, under
	// the group's delete operation.
	VerbRemove = "removeWithGroup"
)

// Group is a resource group snapshot.
type Group struct {
	resource.Meta `json:"-"`
	// Location and CreatedAt are columns of the group's row.
	Location  string            `json:"-"`
	Tags      map[string]string `json:"tags,omitempty"`
	ManagedBy string            `json:"managedBy,omitempty"`
	// DeleteOperation is set while the group is being deleted.
	DeleteOperation string    `json:"deleteOperation,omitempty"`
	CreatedAt       time.Time `json:"-"`
}

// ProvisioningState is the group's properties.provisioningState.
func (g *Group) ProvisioningState() string {
	return map[bool]string{false: "Succeeded", true: "Deleting"}[g.DeleteOperation != ""]
}

// ResourceType is Type.
func (g *Group) ResourceType() string { return Type }

// Row is the group as the store keeps it.
func (g *Group) Row() resource.Row {
	return resource.RowOf(g, g.Location, g.CreatedAt)
}

// Decode reads a group back from its stored row.
func Decode(row resource.Row, version int64) (*Group, error) {
	s, err := resource.Decode[Group](armid.ResourceGroupID(row.SubscriptionID, row.Name), row, version)
	if err != nil {
		return nil, err
	}
	g := s.(*Group)
	g.Location, g.CreatedAt = row.Location, row.CreatedAt
	return g, nil
}

// Key is the case-insensitive map key of a group.
func Key(sub, name string) string { return armid.Fold(sub) + "/" + armid.Fold(name) }

// NotFound is the error of a request naming a group that does not exist.
func NotFound(name string) error {
	return &resource.Error{Code: "ResourceGroupNotFound", Message: fmt.Sprintf("Resource group '%s' could not be found.", name)}
}

// BeingDeleted is the error of a request that would add to, or change, a
// group being deleted.
func BeingDeleted(g *Group) error {
	return &resource.Error{Code: "ResourceGroupBeingDeleted", Message: fmt.Sprintf(
		"The resource group '%s' is in deprovisioning state and cannot perform this operation.", g.Name)}
}

// Put decides creating or updating a group; old is the group as it is
// (nil when new). A group keeps the location and name casing it was
// created with.
func Put(old *Group, sub, name, location string, tags map[string]string, managedBy string, env resource.Env) (*Group, resource.Effects, error) {
	if old != nil && old.DeleteOperation != "" {
		return nil, resource.Effects{}, BeingDeleted(old)
	}
	if old != nil && !armid.SameLocation(old.Location, location) {
		return nil, resource.Effects{}, &resource.Error{Code: "InvalidResourceGroupLocation", Message: fmt.Sprintf(
			"Invalid resource group location '%s'. The Resource group already exists in location '%s'.", location, old.Location)}
	}
	g := &Group{Meta: resource.Meta{ID: armid.ResourceGroupID(armid.Fold(sub), name), SubscriptionID: armid.Fold(sub), Name: name}, Location: location, Tags: tags, ManagedBy: managedBy, CreatedAt: env.Now}
	if old != nil {
		g.Meta, g.Name, g.Location, g.CreatedAt = old.Meta, old.Name, old.Location, old.CreatedAt
	}
	return g, resource.Effects{Put: []resource.State{g}}, nil
}

// VM is what a group's deletion needs of a VM in it.
type VM struct {
	ID string
	// Deleting: a delete runs already, which the group's deletion waits
	// for rather than starting another.
	Deleting bool
}

// Delete decides deleting g, whose VMs are vms: every VM not being
// deleted is asked to delete. The group stays, Deleting, until Settle
// finds it empty; a group with no VMs goes at once. A group being deleted
// answers with the running operation.
func Delete(g *Group, vms []VM, others []string, env resource.Env) (opID string, eff resource.Effects) {
	if g.DeleteOperation != "" {
		return g.DeleteOperation, eff
	}
	opID = env.NewOperationID()
	ng := *g
	ng.DeleteOperation = opID
	eff.Started = append(eff.Started, resource.Operation{ID: opID, Kind: "deleteResourceGroup", TargetID: g.ResourceID(), Location: g.Location})
	eff.Put = append(eff.Put, &ng)
	for _, v := range vms {
		if !v.Deleting {
			eff.Commands = append(eff.Commands, resource.Command{Target: v.ID, Verb: VerbDelete, OperationID: env.NewOperationID()})
		}
	}
	if len(vms) == 0 {
		eff.Add(Settle(&ng, 0, others, env))
	}
	return opID, eff
}

// Settle decides a group being deleted once a VM in it is gone: when
// vmsLeft is 0, the other resources left in it (others, by ID) are removed
// with it and its operation succeeds.
func Settle(g *Group, vmsLeft int, others []string, env resource.Env) resource.Effects {
	var eff resource.Effects
	if g.DeleteOperation == "" || vmsLeft > 0 {
		return eff
	}
	eff.Removed = append(eff.Removed, g)
	eff.Ended = append(eff.Ended, resource.OperationEnd{ID: g.DeleteOperation, Status: resource.StatusSucceeded, At: env.Now})
	for _, id := range others {
		eff.Commands = append(eff.Commands, resource.Command{Target: id, Verb: VerbRemove, OperationID: g.DeleteOperation})
	}
	return eff
}
