package lifecycle

import "time"

// Run is an operation in progress on a VM: its plan and how far it got.
type Run struct {
	OperationID string    `json:"operationId"`
	Plan        Plan      `json:"plan"`
	Step        int       `json:"step"`
	StepStarted time.Time `json:"stepStarted"`
	// Speed divides the plan's realistic durations; kept with the run so a
	// restart with another speed does not change a plan already under way.
	Speed float64 `json:"speed"`
	// Failure, when set, ends the run at the end of step FailAt instead of
	// going on: decided when the run starts, so a restart keeps it.
	Failure *Failure `json:"failure,omitempty"`
	FailAt  int      `json:"failAt,omitempty"`
	// HoldUntil keeps the OS-provisioning-complete step going until then:
	// extensions added while the VM is created are still installing.
	HoldUntil time.Time `json:"holdUntil,omitzero"`
}

// Due is when the current step ends.
func (r *Run) Due() time.Time {
	due := r.StepStarted.Add(Scale(r.Plan.Steps[r.Step].Duration, r.Speed))
	if r.HoldUntil.After(due) && r.Plan.Steps[r.Step].OS == OSProvisioningComplete {
		return r.HoldUntil
	}
	return due
}

// Scale divides a realistic duration by speed (speed <= 0 means 1).
func Scale(d time.Duration, speed float64) time.Duration {
	if speed <= 0 || speed == 1 {
		return d
	}
	return time.Duration(float64(d) / speed)
}

// Machine is a VM's whole lifecycle state: its facets and the operation in
// progress, if any. Its methods are pure: they take the time and IDs they
// need and return the next Machine, never changing the receiver.
type Machine struct {
	Name  string `json:"name"`
	State State  `json:"state"`
	Run   *Run   `json:"run,omitempty"`
}

// Submitted tells what Submit did besides changing the machine.
type Submitted struct {
	Plan Plan
	// Preempted is the ID of the operation this one displaced; it ends
	// Canceled with OperationPreempted.
	Preempted string
	// Joined is the ID of a running delete that a repeated delete joins;
	// nothing else changed.
	Joined string
	// Done: the operation completed at once (a no-op or a synchronous change).
	Done bool
	// Removed: the VM is gone (only with Done).
	Removed bool
	// Faulted: req.Fault applies to this plan, which will fail with it.
	Faulted bool
}

// Submit starts operation opID at now. On a refusal the machine is returned
// unchanged with a *Refusal.
func (m Machine) Submit(req Request, opID string, now time.Time, speed float64) (Machine, Submitted, error) {
	var out Submitted
	if m.Run != nil {
		preempt, join, err := Preempts(m.Name, m.Run.Plan.Kind, req.Kind)
		if err != nil {
			return m, out, err
		}
		if join {
			out.Joined = m.Run.OperationID
			return m, out, nil
		}
		if preempt {
			out.Preempted = m.Run.OperationID
		}
		// A VM on its way to deallocation is "marked to be deallocated":
		// operations that need it allocated are refused, not queued.
		if m.Run.Plan.End.Power == Deallocated && !m.Run.Plan.Removes {
			switch req.Kind {
			case PowerOff, Restart, Reimage, RunCommand:
				return m, Submitted{}, refuse(msgDeallocated, req.Kind, m.Name)
			}
		}
	}
	plan, err := Decide(m.Name, m.State, req)
	if err != nil {
		return m, out, err
	}
	out.Plan = plan
	next := m
	next.Run = nil
	if len(plan.Steps) == 0 {
		next.State = settle(m.State, plan.End, now)
		out.Done, out.Removed = true, plan.Removes
		return next, out, nil
	}
	next.Run = &Run{OperationID: opID, Plan: plan, StepStarted: now, Speed: speed}
	if req.Fault != nil {
		if at, ok := FailurePoint(plan, req.Fault.Code); ok {
			f := *req.Fault
			if f.Message == "" {
				f.Message, _ = FaultMessage(f.Code, m.Name)
			}
			next.Run.Failure, next.Run.FailAt, out.Faulted = &f, at, true
		}
	}
	next.State = enter(m.State, plan.Steps[0], now)
	return next, out, nil
}

// Due is when the machine must next Fire; ok is false when it is idle.
func (m Machine) Due() (t time.Time, ok bool) {
	if m.Run == nil {
		return time.Time{}, false
	}
	return m.Run.Due(), true
}

// Fired tells what one Fire did.
type Fired struct {
	// Finished is the ID of the operation that completed (Succeeded).
	Finished string
	// Failed is the ID of the operation that failed at this step, with
	// Failure its error.
	Failed  string
	Failure *Failure
	// Removed: the completed operation removed the VM.
	Removed bool
}

// Fire ends the current step at `at` (its due time): the machine enters the
// next step, or the plan's end state. Firing an idle machine changes nothing.
func (m Machine) Fire(at time.Time) (Machine, Fired) {
	if m.Run == nil {
		return m, Fired{}
	}
	if f := m.Run.Failure; f != nil && m.Run.Step == m.Run.FailAt {
		failed, id := m.Fail(*f, at)
		return failed, Fired{Failed: id, Failure: f}
	}
	next := m
	run := *m.Run
	run.Step++
	if run.Step < len(run.Plan.Steps) {
		run.StepStarted = at
		next.Run = &run
		next.State = enter(m.State, run.Plan.Steps[run.Step], at)
		return next, Fired{}
	}
	next.Run = nil
	next.State = settle(m.State, run.Plan.End, at)
	return next, Fired{Finished: run.OperationID, Removed: run.Plan.Removes}
}

// Fail ends the running plan at `at` with failure f: provisioning becomes
// Failed and the power state stays where the current step left it. It
// returns the failed operation's ID ("" when the machine was idle, in which
// case it is unchanged).
func (m Machine) Fail(f Failure, at time.Time) (Machine, string) {
	if m.Run == nil {
		return m, ""
	}
	next := m
	next.Run = nil
	fail := f
	next.State.Provisioning, next.State.OS, next.State.Failure = Failed, "", &fail
	next.State.ProvisionedAt = at
	return next, m.Run.OperationID
}

// enter is st while step s is under way.
func enter(st State, s Step, at time.Time) State {
	next := st
	next.Provisioning, next.OS, next.Power, next.Failure = s.Provisioning, s.OS, s.Power, nil
	if s.Power != Deallocated {
		next.Hibernated = false
	}
	if next.ProvisioningCode() != st.ProvisioningCode() {
		next.ProvisionedAt = at
	}
	return next
}

// settle is the end state of a plan reached at `at`.
func settle(st, end State, at time.Time) State {
	next := end
	next.ProvisionedAt = st.ProvisionedAt
	if next.ProvisioningCode() != st.ProvisioningCode() || next.ProvisionedAt.IsZero() {
		next.ProvisionedAt = at
	}
	return next
}

// HoldOSComplete makes a running create or reimage stay in
// osProvisioningComplete until at least `until`, as Azure does while
// extensions install. ok is false when the plan has no such step still
// ahead (nothing to hold).
func (m Machine) HoldOSComplete(until time.Time) (Machine, bool) {
	if m.Run == nil {
		return m, false
	}
	for i := m.Run.Step; i < len(m.Run.Plan.Steps); i++ {
		if m.Run.Plan.Steps[i].OS == OSProvisioningComplete {
			run := *m.Run
			if until.After(run.HoldUntil) {
				run.HoldUntil = until
			}
			next := m
			next.Run = &run
			return next, true
		}
	}
	return m, false
}
