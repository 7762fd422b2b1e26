package lifecycle

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/kinds/scenariotest"
)

// A scenario file scripts operations and clock advances on one VM; the
// runner writes a transcript of every state change, and the test compares it
// with the .golden file beside the script. Commands:
//
//	state power=P provisioning=X [generalized] [hibernated]   the VM's state before the script
//	do KIND [flags]    submit an operation; flags: generalized skipShutdown hibernate
//	                   hibernationEnabled force spot evict=Delete resize shutdown ext=30s
//	                   fault=CODE (the plan fails where Azure's fails with CODE)
//	advance DURATION   move the clock, firing every step that falls due, in order
//	hold DURATION      keep a create in osProvisioningComplete until now+DURATION
//	                   (an extension installing)
//	fail CODE MESSAGE  fail the running plan now
func TestScenarios(t *testing.T) {
	scenariotest.Run(t, func() scenariotest.Step { return newRunner().step })
}

var scenarioStart = scenariotest.Start

type runner struct {
	m   Machine
	now time.Time
	ops int
}

func newRunner() *runner { return &runner{m: Machine{Name: "vm1"}, now: scenarioStart} }

func (r *runner) show(out *strings.Builder) {
	fmt.Fprintf(out, "  %-6s %s\n", fmtOffset(r.now.Sub(scenarioStart)), codes(r.m.State))
}

func (r *runner) step(fields []string, out *strings.Builder) error {
	switch fields[0] {
	case "state":
		st, err := parseState(fields[1:])
		if err != nil {
			return err
		}
		r.m = Machine{Name: "vm1", State: st}
		r.show(out)
	case "do":
		if len(fields) < 2 {
			return fmt.Errorf("do needs an operation")
		}
		req, err := parseRequest(fields[1:])
		if err != nil {
			return err
		}
		r.ops++
		id := fmt.Sprintf("op%d", r.ops)
		next, sub, err := r.m.Submit(req, id, r.now, 1)
		var refusal *Refusal
		switch {
		case errors.As(err, &refusal):
			fmt.Fprintf(out, "  refused %s: %s\n", refusal.Code, refusal.Message)
			return nil
		case err != nil:
			return err
		}
		r.m = next
		if sub.Preempted != "" {
			fmt.Fprintf(out, "  %s Canceled %s\n", sub.Preempted, CodeOperationPreempted)
		}
		switch {
		case sub.Joined != "":
			fmt.Fprintf(out, "  joins %s\n", sub.Joined)
		case sub.Done:
			fmt.Fprintf(out, "  %s Succeeded at once\n", id)
			r.show(out)
		default:
			fmt.Fprintf(out, "  %s InProgress, plan %s\n", id, sub.Plan.Total())
			if req.Fault != nil && !sub.Faulted {
				fmt.Fprintf(out, "  fault %s does not apply\n", req.Fault.Code)
			}
			r.show(out)
		}
	case "advance":
		if len(fields) != 2 {
			return fmt.Errorf("advance DURATION")
		}
		d, err := time.ParseDuration(fields[1])
		if err != nil {
			return err
		}
		until := r.now.Add(d)
		for {
			due, ok := r.m.Due()
			if !ok || due.After(until) {
				break
			}
			r.now = due
			var fired Fired
			r.m, fired = r.m.Fire(due)
			r.show(out)
			if fired.Finished != "" {
				fmt.Fprintf(out, "  %s Succeeded\n", fired.Finished)
			}
			if fired.Failed != "" {
				fmt.Fprintf(out, "  %s Failed %s\n", fired.Failed, fired.Failure.Code)
			}
			if fired.Removed {
				fmt.Fprintf(out, "  removed: GET answers 404 ResourceNotFound\n")
				r.m = Machine{Name: "vm1"}
			}
		}
		r.now = until
	case "hold":
		if len(fields) != 2 {
			return fmt.Errorf("hold DURATION")
		}
		d, err := time.ParseDuration(fields[1])
		if err != nil {
			return err
		}
		var held bool
		r.m, held = r.m.HoldOSComplete(r.now.Add(d))
		fmt.Fprintf(out, "  held until %s: %v\n", fmtOffset(r.now.Add(d).Sub(scenarioStart)), held)
	case "fail":
		if len(fields) < 3 {
			return fmt.Errorf("fail CODE MESSAGE")
		}
		var id string
		r.m, id = r.m.Fail(Failure{Code: fields[1], Message: strings.Join(fields[2:], " ")}, r.now)
		fmt.Fprintf(out, "  %s Failed %s\n", id, fields[1])
		r.show(out)
	default:
		return fmt.Errorf("unknown command %q", fields[0])
	}
	return nil
}

func fmtOffset(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	return "+" + d.String()
}

// codes renders the instance-view statuses in one line, as the transcript
// shows them: code "displayStatus" (level), with the failure message.
func codes(st State) string {
	var parts []string
	for _, s := range st.Statuses() {
		p := fmt.Sprintf("%s %q", s.Code, s.DisplayStatus)
		if s.Level != Info {
			p += " " + string(s.Level)
		}
		if s.Message != "" {
			p += fmt.Sprintf(" (%s)", s.Message)
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, " | ")
}

func parseState(args []string) (State, error) {
	st := State{Provisioning: Succeeded, ProvisionedAt: scenarioStart}
	for _, a := range args {
		k, v, _ := strings.Cut(a, "=")
		switch k {
		case "power":
			st.Power = Power(v)
		case "provisioning":
			st.Provisioning = Provisioning(v)
		case "generalized":
			st.Generalized = true
		case "hibernated":
			st.Hibernated = true
		default:
			return st, fmt.Errorf("unknown state field %q", k)
		}
	}
	return st, nil
}

func parseRequest(args []string) (Request, error) {
	req := Request{Kind: Kind(args[0])}
	known := map[Kind]bool{}
	for _, k := range Kinds {
		known[k] = true
	}
	if !known[req.Kind] {
		return req, fmt.Errorf("unknown operation %q", args[0])
	}
	for _, a := range args[1:] {
		k, v, _ := strings.Cut(a, "=")
		switch k {
		case "generalized":
			req.GeneralizedImage = true
		case "skipShutdown":
			req.SkipShutdown = true
		case "hibernate":
			req.Hibernate = true
		case "hibernationEnabled":
			req.HibernationEnabled = true
		case "force":
			req.Force = true
		case "spot":
			req.Spot = true
		case "evict":
			req.EvictionPolicy = v
		case "resize":
			req.Resize = true
		case "shutdown":
			req.ShutsDownGuest = true
		case "fault":
			req.Fault = &Failure{Code: v}
		case "ext":
			d, err := time.ParseDuration(v)
			if err != nil {
				return req, err
			}
			req.Extensions = d
		default:
			return req, fmt.Errorf("unknown flag %q", k)
		}
	}
	return req, nil
}

// TestScenariosCoverEveryOperation keeps the scenario files honest: every
// operation kind is exercised by at least one script, and so is every
// refusal message template.
func TestScenariosCoverEveryOperation(t *testing.T) {
	files, _ := filepath.Glob("testdata/scenarios/*.scenario")
	seen := map[string]bool{}
	var transcripts strings.Builder
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "do" {
				seen[f[1]] = true
			}
		}
		g, _ := os.ReadFile(strings.TrimSuffix(file, ".scenario") + ".golden")
		transcripts.Write(g)
	}
	var missing []string
	for _, k := range Kinds {
		if !seen[string(k)] {
			missing = append(missing, string(k))
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("no scenario runs: %v", missing)
	}
	for _, tmpl := range []string{msgDeallocated, msgDeleting, msgGeneralized, msgNotRunning, msgBusy, msgNotSpot, msgNotStopped, msgNoHibernate} {
		head, _, _ := strings.Cut(tmpl, "%s")
		tail := tmpl[strings.LastIndex(tmpl, "%s")+2:]
		if !strings.Contains(transcripts.String(), head) || !strings.Contains(transcripts.String(), tail) {
			t.Errorf("no scenario shows the refusal %q", tmpl)
		}
	}
}
