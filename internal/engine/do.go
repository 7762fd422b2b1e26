package engine

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/azemu/azemu/internal/armerror"
	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/kinds/resource"
	"github.com/azemu/azemu/internal/store"
)

// The verbs every kind may take from a client.
const (
	// VerbPut creates or updates the target; Command.Build makes its input.
	VerbPut = resource.VerbPut
	// VerbDelete deletes the target; deleting nothing is no error.
	VerbDelete = resource.VerbDelete
	// VerbAct runs an action (a POST) on the target.
	VerbAct = resource.VerbAct
)

// Command is a client's request for one resource of any kind in the kinds
// table.
type Command struct {
	// ID is the target's ARM ID; for a create, the ID it is to have.
	ID string
	// Verb is VerbPut, VerbDelete, VerbAct, or another verb the target's
	// kind takes.
	Verb string
	// Input is the verb's input, of a type the target's kind defines.
	Input any
	// Build, when set, makes Input from the target as it is (nil when
	// there is none). It runs while the target cannot change, so a PATCH
	// merges safely; its error refuses the command.
	Build func(existing resource.State) (any, error)
	// IfMatch and IfNoneMatch are the request's conditions on the target's
	// entity tag.
	IfMatch, IfNoneMatch string
}

// Result is what a request did. A Command fills State, Found, Created and
// Operation; each control fills the field its documentation names.
type Result struct {
	// State is the target as it now is; nil when it is gone, or never was.
	State resource.State
	// Found reports that the target existed before the command; Created,
	// that a put made it.
	Found, Created bool
	// Operation is the asynchronous operation the command runs as (zero
	// when it runs none). It may already be done.
	Operation store.Operation

	// Clock is where the manual clock stands after AdvanceClock.
	Clock time.Time
	// Fault is the fault AddFault registered, with its ID.
	Fault Fault
	// Removed counts the faults RemoveFaults removed.
	Removed int
	// Compacted is what CompactHistory deleted.
	Compacted store.Compacted
	// Fired reports that ProbeFault's fault fires.
	Fired bool
}

// Build adapts a builder of one kind's input to Command.Build.
func Build[T resource.State](build func(existing T) (any, error)) func(resource.State) (any, error) {
	return func(s resource.State) (any, error) {
		old, _ := s.(T)
		return build(old)
	}
}

// Do is the one way to change the engine: it runs a request, a Command
// on a resource or one of the emulator's controls (requests.go), and
// returns what it did.
func (e *Engine) Do(ctx context.Context, r Request) (Result, error) {
	if err := e.checkOpen(); err != nil {
		return Result{}, err
	}
	return r.run(ctx, e)
}

// run runs a command through the kind that owns its target: it decides,
// commits every effect (follow-up commands included) in one store change,
// publishes the new snapshots and schedules their due times. A refusal
// anywhere changes nothing. Commands of concurrent callers are committed
// together, in one store transaction (batch.go); each returns once its
// change is committed.
func (c Command) run(ctx context.Context, e *Engine) (Result, error) {
	id, err := armid.Parse(c.ID)
	if err != nil {
		return Result{}, &Error{Code: armerror.CodeInvalidParameter, Message: fmt.Sprintf("'%s' is not a resource ID.", c.ID)}
	}
	k, ok := e.kinds[id.Type()]
	if !ok || k.verbs[c.Verb] == nil {
		return Result{}, fmt.Errorf("engine: %s takes no command %q", id.Type(), c.Verb)
	}
	var res Result
	err = e.decide(ctx, func(t *tx) error {
		old, err := t.checkTarget(id, c)
		if err != nil {
			return err
		}
		if old == nil && c.Verb == VerbDelete {
			return nil
		}
		input := c.Input
		if c.Build != nil {
			if input, err = c.Build(old); err != nil {
				return err
			}
		}
		if c.Verb == VerbPut {
			t.ensureSub(armid.Fold(id.SubscriptionID))
		}
		opID, err := t.command(k, old, resource.Command{Target: id.String(), Verb: c.Verb, Args: input})
		if err != nil {
			return err
		}
		// The result is the change as this command left it: later changes
		// of its batch may change the target again.
		res = Result{State: t.get(id), Found: old != nil}
		res.Created = c.Verb == VerbPut && old == nil && res.State != nil
		if opID != "" {
			res.Operation, _ = t.op(opID)
		}
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	return res, nil
}

// checkTarget finds a command's target as it is (nil when there is none),
// after checking what ARM checks first: the target's group and parent
// exist, a put's parent takes it, and the entity tag conditions hold.
func (t *tx) checkTarget(id armid.ID, c Command) (resource.State, error) {
	if id.ResourceGroup != "" && id.Namespace != "" {
		g := t.get(armid.ID{SubscriptionID: id.SubscriptionID, ResourceGroup: id.ResourceGroup})
		if g == nil {
			return nil, notFoundGroup(id.ResourceGroup)
		}
		parent := g
		if p, ok := id.Parent(); ok && p.Namespace != "" {
			if parent = t.get(p); parent == nil {
				return nil, &Error{Code: "ParentResourceNotFound", Message: fmt.Sprintf(
					"Can not perform requested operation on nested resource. Parent resource '%s' not found.", p.Name())}
			}
		}
		if adopt := t.e.kinds[parent.ResourceType()].adopt; c.Verb == VerbPut && adopt != nil {
			if err := adopt(parent); err != nil {
				return nil, err
			}
		}
	}
	old := t.get(id)
	var tagged versioned
	if old != nil {
		tagged = old.ResourceMeta()
	}
	if err := checkETag(tagged, c.IfMatch, c.IfNoneMatch); err != nil {
		return nil, err
	}
	if old == nil && c.Verb != VerbPut && c.Verb != VerbDelete {
		return nil, notFound(id)
	}
	return old, nil
}

// notFound is ARM's answer for a resource that does not exist.
func notFound(id armid.ID) error {
	if id.Namespace == "" {
		return notFoundGroup(id.ResourceGroup)
	}
	path := id.Namespace
	for i := range min(len(id.Types), len(id.Names)) {
		if i > 0 {
			path += "/" + id.Names[i-1]
		}
		path += "/" + id.Types[i]
	}
	return armerror.ResourceNotFound(path, id.ResourceGroup, id.Name())
}

// get returns the resource with the given ID as this change sees it, from
// whichever table its kind keeps it in; nil when there is none.
func (t *tx) get(id armid.ID) resource.State { return t.getAs(id.Type(), id) }

// getAs is get for a resource of the kind of type typ, whatever its ID
// says.
func (t *tx) getAs(typ string, id armid.ID) resource.State {
	k, ok := t.e.kinds[typ]
	if !ok {
		return nil
	}
	if k.load != nil {
		return k.load(t, id.String())
	}
	return t.resource(typ, armid.Fold(id.String()))
}

// command runs one command through its target's kind: the decision, then
// its effects and follow-ups. It returns the operation the command runs as.
func (t *tx) command(k kind, target resource.State, c resource.Command) (string, error) {
	env := t.env()
	if !c.At.IsZero() {
		env = t.envAt(c.At)
	}
	opID, eff, err := k.verbs[c.Verb](t, target, c, env)
	if err != nil {
		return "", err
	}
	return opID, t.run(eff)
}

// run applies a module's effects, then runs its follow-up commands, each
// through the kind that owns its target. A command refused refuses the
// whole change: the caller drops the tx.
func (t *tx) run(eff resource.Effects) error {
	t.apply(eff)
	for _, c := range eff.Commands {
		id, err := armid.Parse(c.Target)
		if err != nil {
			return fmt.Errorf("engine: a follow-up command for %q: %w", c.Target, err)
		}
		typ := id.Type()
		if c.Kind != "" {
			typ = c.Kind
		}
		k, ok := t.e.kinds[typ]
		if !ok || k.verbs[c.Verb] == nil {
			return fmt.Errorf("engine: %s takes no command %q", c.Target, c.Verb)
		}
		target := t.getAs(typ, id)
		if target == nil && !k.absent[c.Verb] {
			return &Error{Code: CodeResourceNotFound, Message: fmt.Sprintf("The Resource '%s' was not found.", c.Target)}
		}
		if _, err := t.command(k, target, c); err != nil {
			return err
		}
	}
	return nil
}

// taking adapts a decision whose verb takes an input of type T: a command
// with any other input is refused.
func taking[T any](decide func(t *tx, target resource.State, c resource.Command, args T, env resource.Env) (string, resource.Effects, error)) decision {
	return func(t *tx, target resource.State, c resource.Command, env resource.Env) (string, resource.Effects, error) {
		args, err := argsOf[T](c)
		if err != nil {
			return "", resource.Effects{}, err
		}
		return decide(t, target, c, args, env)
	}
}

// argsOf is a command's input as the type its verb takes.
func argsOf[T any](c resource.Command) (T, error) {
	a, ok := c.Args.(T)
	if !ok {
		return a, fmt.Errorf("engine: %s of %s takes %T, not %T", c.Verb, c.Target, a, c.Args)
	}
	return a, nil
}

// A place is where a resource is: its ID as the command names it, its
// subscription (folded), its group's name as the group was created, and
// its own name.
type place struct{ id, sub, rg, name string }

func (t *tx) placeOf(id string) place {
	parsed, _ := armid.Parse(id)
	at := place{id: id, sub: armid.Fold(parsed.SubscriptionID), rg: parsed.ResourceGroup, name: parsed.Name()}
	if g := t.group(groupKey(at.sub, at.rg)); g != nil {
		at.rg = g.Name
	}
	return at
}

// putting adapts a put decision: it takes the target as its kind's type
// (nil when new), where it is, and the put's input of type In.
func putting[T resource.State, In any](decide func(t *tx, old T, at place, in In, env resource.Env) (string, resource.Effects, error)) decision {
	return taking(func(t *tx, target resource.State, c resource.Command, in In, env resource.Env) (string, resource.Effects, error) {
		old, _ := target.(T)
		return decide(t, old, t.placeOf(c.Target), in, env)
	})
}

// find returns the committed resource with the given ID, or ARM's
// not-found error (ResourceGroupNotFound when its group is missing): what
// every kind's GET answers.
func find[T resource.State](e *Engine, id string) (T, error) {
	var none T
	parsed, err := armid.Parse(id)
	if err != nil {
		return none, &Error{Code: CodeResourceNotFound, Message: fmt.Sprintf("The Resource '%s' was not found.", id)}
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	committed := &tx{e: e} // a change with nothing in it reads what is committed
	if s, ok := committed.get(parsed).(T); ok {
		return s, nil
	}
	if committed.get(armid.ID{SubscriptionID: parsed.SubscriptionID, ResourceGroup: parsed.ResourceGroup}) == nil {
		return none, notFoundGroup(parsed.ResourceGroup)
	}
	return none, notFound(parsed)
}

// list returns the committed resources of type typ that match, in key
// order, starting after the key `after` (a page token) and up to limit of
// them; next is the token of the following page, empty on the last one.
func list[T resource.State](e *Engine, typ string, match func(T) bool, after string, limit int) (page []T, next string) {
	after = armid.Fold(after) // a token of a build whose keys were lower case
	e.mu.RLock()
	defer e.mu.RUnlock()
	all := e.res[typ]
	keys := make([]string, 0, len(all))
	for k := range all {
		if k > after {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		s := all[k].(T)
		if match != nil && !match(s) {
			continue
		}
		if limit > 0 && len(page) == limit {
			return page, armid.Fold(page[len(page)-1].ResourceID())
		}
		page = append(page, s)
	}
	return page, ""
}
