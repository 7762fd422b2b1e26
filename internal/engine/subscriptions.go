package engine

import (
	"time"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/kinds/resource"
)

// SubscriptionType is the ARM type of subscriptions. Any GUID names a
// valid subscription; the first write under one records it, by a put of
// the subscription's ID through Do.
const SubscriptionType = "Microsoft.Resources/subscriptions"

// subscription is a subscription as a command's target; the store keeps
// subscriptions in a table of their own.
type subscription struct {
	resource.Meta
	createdAt time.Time
}

func (s *subscription) ResourceType() string { return SubscriptionType }

func (s *subscription) Row() resource.Row {
	return resource.Row{SubscriptionID: s.SubscriptionID, Name: s.Name, CreatedAt: s.createdAt}
}

// subscriptionVerbs record a subscription: a put of one already known
// changes nothing.
func subscriptionVerbs() map[string]decision {
	return map[string]decision{
		VerbPut: func(t *tx, target resource.State, c resource.Command, env resource.Env) (string, resource.Effects, error) {
			if target != nil {
				return "", resource.Effects{}, nil
			}
			id, _ := armid.Parse(c.Target)
			sub := armid.Fold(id.SubscriptionID)
			return "", resource.Effects{Put: []resource.State{&subscription{Meta: resource.Meta{ID: id.String(), SubscriptionID: sub, Name: sub}, createdAt: env.Now}}}, nil
		},
	}
}

// loadSubscription is the subscription with the given ID as this change
// sees it.
func (t *tx) loadSubscription(id string) resource.State {
	parsed, err := armid.Parse(id)
	if err != nil {
		return nil
	}
	sub := armid.Fold(parsed.SubscriptionID)
	s, ok := t.sub(sub)
	if !ok {
		return nil
	}
	return &subscription{Meta: resource.Meta{ID: parsed.String(), SubscriptionID: sub, Name: sub}, createdAt: s.CreatedAt}
}

// putSubscription records a new subscription in the change.
func (t *tx) putSubscription(s resource.State) { t.ensureSub(s.ResourceMeta().SubscriptionID) }
