package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/kinds/extension"
	"github.com/azemu/azemu/internal/lifecycle"
)

// The schedule check: every step of every operation in a VM's history
// fired at its due time. The lifecycle is pure, so the check replays each
// operation through lifecycle.Machine from the state the history shows
// when it was submitted, at speed 1 (the manual clock's): the events the
// replay writes, and their instants, are what the history must hold,
// exactly. An operation another one preempted holds a prefix of them, and
// the step it was in was not yet due when the other arrived. No tolerance
// is needed under a real clock either: a step is stamped with its due
// time, not when it was processed, so only the submission instant comes
// from the clock, and the replay starts there.
//
// A history does not say everything a request asked, only its kind, so an
// operation matches when one of the requests of that kind the churn sends
// (scheduleRequests) replays it exactly: an update is a model change or an
// extension's install, each with its own duration.

// scheduleRequests are the requests of one kind that the chaos churn
// sends: what an operation in a history may have been.
func scheduleRequests(kind lifecycle.Kind) []lifecycle.Request {
	switch kind {
	case lifecycle.Create:
		return []lifecycle.Request{{Kind: kind, GeneralizedImage: true}, {Kind: kind}}
	case lifecycle.Update:
		return []lifecycle.Request{{Kind: kind}, {Kind: kind, Extensions: extension.DefaultInstall}}
	}
	return []lifecycle.Request{{Kind: kind}}
}

// stateOf is the VM's state a history event shows.
func stateOf(e historyEvent) lifecycle.State {
	st := lifecycle.State{Provisioning: lifecycle.Provisioning(e.ProvisioningState), Power: lifecycle.Power(e.PowerState)}
	rest, _ := strings.CutPrefix(e.Code, "ProvisioningState/"+strings.ToLower(e.ProvisioningState))
	rest = strings.TrimPrefix(rest, "/")
	switch {
	case rest == "":
	case st.Provisioning == lifecycle.Failed:
		st.Failure = &lifecycle.Failure{Code: rest}
	default:
		st.OS = lifecycle.OSProvisioning(rest)
	}
	return st
}

// replay is the events operation opID writes, at their instants, when
// submitted as req at `at` on a VM in state st, if it runs to its end.
func replay(st lifecycle.State, req lifecycle.Request, opID string, at time.Time) ([]historyEvent, error) {
	m := lifecycle.Machine{Name: "vm", State: st}
	next, sub, err := m.Submit(req, opID, at, 1)
	if err != nil {
		return nil, err
	}
	var out []historyEvent
	note := func(before, after lifecycle.State, at time.Time) {
		if before.ProvisioningCode() != after.ProvisioningCode() || before.Power != after.Power {
			out = append(out, historyEvent{Time: at, ProvisioningState: string(after.Provisioning),
				Code: after.ProvisioningCode(), PowerState: string(after.Power), OperationID: opID})
		}
	}
	if req.Kind == lifecycle.Create {
		st = lifecycle.State{Provisioning: "none"} // a create is always written
	}
	note(st, next.State, at)
	if sub.Done && sub.Removed {
		out = append(out, historyEvent{Time: at, ProvisioningState: "Deleted", OperationID: opID})
	}
	for next.Run != nil {
		due, _ := next.Due()
		before := next.State
		var fired lifecycle.Fired
		next, fired = next.Fire(due)
		if fired.Removed {
			out = append(out, historyEvent{Time: due, ProvisioningState: "Deleted", OperationID: opID})
			break
		}
		note(before, next.State, due)
	}
	return out, nil
}

// sameStep reports whether two events show the same step at the same instant.
func sameStep(got, want historyEvent) bool {
	return got.Time.Equal(want.Time) && got.ProvisioningState == want.ProvisioningState &&
		(want.ProvisioningState == "Deleted" || got.Code == want.Code && got.PowerState == want.PowerState)
}

// opRun is one operation's events in a history, the state before it and
// the instant of the event before it (zero for none).
type opRun struct {
	events []historyEvent
	prev   lifecycle.State
	after  time.Time
}

// plan is what an operation would have written had it been req.
type plan struct {
	req       lifecycle.Request
	submitted time.Time
	want      []historyEvent
}

// plans replays o under each request the churn sends. A step that changes
// nothing shows no event (a start preempting an update shows its first
// step, Updating and deallocated, as the update did), so an operation was
// submitted before its first event by as long as the replay's steps took
// to show one: its submission is put there, no earlier than the event
// before it.
func (o opRun) plans() (out []plan, tried []string) {
	first := o.events[0]
	for _, req := range scheduleRequests(lifecycle.Kind(first.Operation)) {
		probe, err := replay(o.prev, req, first.OperationID, first.Time)
		if err != nil {
			tried = append(tried, fmt.Sprintf("%s (extensions %s) refused: %v", req.Kind, req.Extensions, err))
			continue
		}
		if len(probe) == 0 {
			continue
		}
		submitted := first.Time.Add(-probe[0].Time.Sub(first.Time))
		if submitted.Before(o.after) {
			tried = append(tried, fmt.Sprintf("%s (extensions %s) submitted at %s, before the event before it", req.Kind, req.Extensions, submitted.Format(time.RFC3339Nano)))
			continue
		}
		want, _ := replay(o.prev, req, first.OperationID, submitted)
		out = append(out, plan{req: req, submitted: submitted, want: want})
	}
	return out, tried
}

// scheduleProblems checks a VM's whole history (oldest first, all its
// lives) and says what is off schedule; nothing when all is on time.
func scheduleProblems(events []historyEvent) []string {
	var runs []opRun
	var prev lifecycle.State // the state before the next operation
	for i := 0; i < len(events); {
		j := i + 1
		for j < len(events) && events[j].OperationID == events[i].OperationID {
			j++
		}
		if events[i].OperationID != "" {
			run := opRun{events: events[i:j], prev: prev}
			if i > 0 {
				run.after = events[i-1].Time
			}
			runs = append(runs, run)
		}
		prev = stateOf(events[j-1])
		if events[j-1].ProvisioningState == "Deleted" {
			prev = lifecycle.State{}
		}
		i = j
	}
	var problems []string
	for k, run := range runs {
		// When the next operation was submitted, if this one was cut.
		var next []time.Time
		if k+1 < len(runs) {
			nextPlans, _ := runs[k+1].plans()
			for _, p := range nextPlans {
				next = append(next, p.submitted)
			}
		}
		candidates, tried := run.plans()
		matched := false
		for _, p := range candidates {
			if onSchedule(run.events, p.want, next) {
				matched = true
				break
			}
			tried = append(tried, fmt.Sprintf("%s (extensions %s) plans %s", p.req.Kind, p.req.Extensions, describeSteps(p.want)))
		}
		if !matched {
			first := run.events[0]
			problems = append(problems, fmt.Sprintf("operation %s (%s) from %s/%s is off schedule: history %s; %s",
				first.OperationID, first.Operation, run.prev.ProvisioningCode(), run.prev.Power, describeSteps(run.events), strings.Join(tried, "; ")))
		}
	}
	return problems
}

// onSchedule: got is want whole, or a prefix of want whose next step was
// not yet due when the next operation was submitted (at one of next).
func onSchedule(got, want []historyEvent, next []time.Time) bool {
	if len(got) > len(want) {
		return false
	}
	for k := range got {
		if !sameStep(got[k], want[k]) {
			return false
		}
	}
	if len(got) == len(want) {
		return true
	}
	for _, at := range next {
		if !want[len(got)].Time.Before(at) {
			return true
		}
	}
	return false
}

func describeSteps(es []historyEvent) string {
	var b strings.Builder
	for _, e := range es {
		step := strings.TrimPrefix(e.Code, "ProvisioningState/") + " " + e.PowerState
		if e.ProvisioningState == "Deleted" {
			step = "deleted"
		}
		fmt.Fprintf(&b, "[%s %s]", e.Time.UTC().Format("15:04:05.999999999"), step)
	}
	return b.String()
}

// The check catches a step that fired early or late, a step missing from a
// plan that was not preempted, and a preemption that came after the step
// it cut was due; and it accepts real schedules.
func TestScheduleCheck(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	create, err := replay(lifecycle.State{}, lifecycle.Request{Kind: lifecycle.Create, GeneralizedImage: true}, "op1", t0)
	if err != nil {
		t.Fatal(err)
	}
	settled := stateOf(create[len(create)-1])
	dealloc, err := replay(settled, lifecycle.Request{Kind: lifecycle.Deallocate}, "op2", t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// A start 3 s into the deallocation's stop (10 s) preempts it.
	startAt := dealloc[0].Time.Add(3 * time.Second)
	start, err := replay(stateOf(dealloc[0]), lifecycle.Request{Kind: lifecycle.Start}, "op3", startAt)
	if err != nil {
		t.Fatal(err)
	}
	lateStart, err := replay(stateOf(dealloc[0]), lifecycle.Request{Kind: lifecycle.Start}, "op3", dealloc[0].Time.Add(11*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	install, err := replay(stateOf(start[len(start)-1]), lifecycle.Request{Kind: lifecycle.Update, Extensions: extension.DefaultInstall}, "op4", startAt.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	del, err := replay(stateOf(install[len(install)-1]), lifecycle.Request{Kind: lifecycle.Delete}, "op5", startAt.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// On a deallocated VM, an update (Updating, deallocated) that a start
	// preempts 2 s in: the start's first step shows the same, no event.
	deallocated := stateOf(dealloc[len(dealloc)-1])
	update, err := replay(deallocated, lifecycle.Request{Kind: lifecycle.Update}, "op6", t0.Add(5*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	restart, err := replay(stateOf(update[0]), lifecycle.Request{Kind: lifecycle.Start}, "op7", update[0].Time.Add(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if !restart[0].Time.After(update[0].Time.Add(2 * time.Second)) {
		t.Fatalf("the start's first step shows an event: %s", describeSteps(restart))
	}
	kinds := map[string]string{"op1": "create", "op2": "deallocate", "op3": "start", "op4": "update", "op5": "delete", "op6": "update", "op7": "start"}
	history := func(parts ...[]historyEvent) []historyEvent {
		var out []historyEvent
		for _, p := range parts {
			for _, e := range p {
				e.Operation = kinds[e.OperationID]
				out = append(out, e)
			}
		}
		return out
	}
	shift := func(es []historyEvent, k int, d time.Duration) []historyEvent {
		out := append([]historyEvent(nil), es...)
		out[k].Time = out[k].Time.Add(d)
		return out
	}
	if len(create) < 4 || len(dealloc) < 2 || len(install) != 2 || len(del) != 2 {
		t.Fatalf("unexpected plans: %s %s %s %s", describeSteps(create), describeSteps(dealloc), describeSteps(install), describeSteps(del))
	}
	for _, tc := range []struct {
		name    string
		history []historyEvent
		ok      bool
	}{
		{"on schedule", history(create, dealloc[:1], start, install, del), true},
		{"a deallocation run to its end", history(create, dealloc), true},
		{"a start preempting an update, silent at first", history(create, dealloc, update[:1], restart), true},
		{"that start's steps a second late", history(create, dealloc, update[:1], shift(restart, 1, time.Second)), false},
		{"that start submitted after the update's end was due", history(create, dealloc, update[:1], shift(shift(shift(restart, 0, 4*time.Second), 1, 4*time.Second), 2, 4*time.Second)), false},
		{"a step a nanosecond late", history(shift(create, 2, time.Nanosecond), dealloc[:1], start), false},
		{"a step a second early", history(shift(create, 3, -time.Second), dealloc[:1], start), false},
		{"the end of an install late", history(create, dealloc[:1], start, shift(install, 1, time.Second)), false},
		{"a deletion's end early", history(create, shift(del, 1, -time.Millisecond)), false},
		{"a step missing", history(create[:len(create)-1]), false},
		{"a step twice", history(create, create[len(create)-1:]), false},
		// The start arrives 11 s into the stop, which was due at 10 s.
		{"a preemption after the cut step was due", history(create, dealloc[:1], lateStart), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			problems := scheduleProblems(tc.history)
			if tc.ok && len(problems) > 0 {
				t.Errorf("a schedule kept was refused: %v", problems)
			}
			if !tc.ok && len(problems) == 0 {
				t.Errorf("a schedule broken was accepted: %s", describeSteps(tc.history))
			}
		})
	}
}
