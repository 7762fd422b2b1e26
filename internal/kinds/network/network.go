// Package network holds what every Microsoft.Network kind's module shares:
// the identity a snapshot starts with and the rules that are the same for
// all of them (a resource stays in its region; Azure's not-found error).
package network

import (
	"fmt"
	"strings"
	"time"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/kinds/resource"
)

// NotFound is the error of a request naming a resource of type typ
// ("virtualNetworks") that does not exist.
func NotFound(typ, rg, name string) error {
	return &resource.Error{Code: "ResourceNotFound", Message: fmt.Sprintf(
		"The Resource '%s/%s/%s' under resource group '%s' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix", Namespace, typ, name, rg)}
}

// Namespace is the resource provider of the network kinds.
const Namespace = "Microsoft.Network"

// Base is embedded by every network snapshot: its ARM identity, the
// resourceGuid Azure gives it and when it was created.
type Base struct {
	resource.Meta `json:"-"`
	ResourceGUID  string    `json:"resourceGuid"`
	TimeCreated   time.Time `json:"timeCreated"`
}

// Fresh is the identity of a new resource of type typ ("virtualNetworks")
// in a group.
func Fresh(sub, rg, typ, name string, env resource.Env) Base {
	return FreshAt(At(sub, rg, typ, name), env)
}

// At is where a top-level resource of type typ named name in a group is.
func At(sub, rg, typ, name string) resource.Meta {
	return resource.Meta{ID: armid.NetworkID(sub, rg, typ, name), SubscriptionID: sub, ResourceGroup: rg, Name: name}
}

// FreshAt is the identity of a new resource at a place of any ID: the
// interfaces and public IPs of a Uniform scale set's instances are named
// under the instance, not as top-level resources of their group.
func FreshAt(at resource.Meta, env resource.Env) Base {
	return Base{Meta: at, ResourceGUID: env.NewID(), TimeCreated: env.Now}
}

// Row is what the store keeps of snapshot s, which embeds b.
func (b *Base) Row(s resource.State, location string) resource.Row {
	return resource.RowOf(s, location, b.TimeCreated)
}

// StayPut is Azure's refusal to move an existing resource m to another
// region: oldLocation is where it is.
func StayPut(m *resource.Meta, oldLocation, location string) error {
	if armid.SameLocation(oldLocation, location) {
		return nil
	}
	return &resource.Error{Code: "InvalidResourceLocation", Message: fmt.Sprintf(
		"The resource '%s' already exists in location '%s' in resource group '%s'. A resource with the same name cannot be created in location '%s'. Please select a new resource name.",
		m.Name, oldLocation, m.ResourceGroup, location)}
}

// Find returns the item of items whose name is name, ignoring case (a
// subnet of a network, a rule of a security group).
func Find[T any](items []T, nameOf func(T) string, name string) (T, bool) {
	for _, it := range items {
		if strings.EqualFold(nameOf(it), name) {
			return it, true
		}
	}
	var zero T
	return zero, false
}

// Upsert returns items with item in place of the one of the same name
// (which keeps its casing), or appended when there is none: a child
// resource's PUT.
func Upsert[T any](items []T, item T, name func(*T) *string) []T {
	out := append([]T(nil), items...)
	for i := range out {
		if strings.EqualFold(*name(&out[i]), *name(&item)) {
			*name(&item) = *name(&out[i])
			out[i] = item
			return out
		}
	}
	return append(out, item)
}

// Without returns items less the one named name: a child resource's DELETE.
func Without[T any](items []T, name func(*T) *string, drop string) []T {
	var out []T
	for i := range items {
		if !strings.EqualFold(*name(&items[i]), drop) {
			out = append(out, items[i])
		}
	}
	return out
}

// Located is a network snapshot: it knows its region.
type Located[T any] interface {
	*T
	resource.State
	Location() string
}

// Next is the snapshot a PUT decides on: fresh() when there is no old one,
// else a copy of old, which must stay in its region.
func Next[T any, P Located[T]](old P, location string, fresh func() P) (P, error) {
	if old == nil {
		return fresh(), nil
	}
	if err := StayPut(old.ResourceMeta(), old.Location(), location); err != nil {
		return nil, err
	}
	cp := *old
	return P(&cp), nil
}

// Refusal is a refusal of Microsoft.Network: it answers 400 Bad Request
// whatever its code, as Network does for every rule it enforces.
func Refusal(code, target, message string) *resource.Error {
	return &resource.Error{Code: code, Target: target, Message: message, Status: 400}
}
