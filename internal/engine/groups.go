package engine

import (
	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/kinds/resource"
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
	return map[string]decision{}
}
