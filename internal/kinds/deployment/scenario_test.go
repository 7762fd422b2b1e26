package deployment

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/kinds/resource"
	"github.com/azemu/azemu/internal/kinds/scenariotest"
)

// A deployment scenario drives one deployment's run as the runtime would.
// Commands:
//
//	start NAME TYPE/NAME[<DEP,DEP]...   a client's PUT: one operation per
//	                                    resource, each after the indexes it names
//	ready                               which operations may start now
//	request I                           operation I's request is about to be sent
//	provisioning I CODE [poll]          its request was answered CODE
//	settle I [CODE] [fail=CODE:MESSAGE] its resource ended (_ in MESSAGE is a space)
//	finish                              every resource succeeded: outputs {}
//	fail [CODE:MESSAGE]                 the run cannot go on
//	cancel                              a client's cancel
//	delete                              a client's DELETE
//	remove                              the group is deleted
//	stale VERB                          a step of another run
//	advance DURATION                    move the clock
func TestScenarios(t *testing.T) {
	scenariotest.Run(t, func() scenariotest.Step { return newRunner().step })
}

const sub, rg = "00000000-0000-0000-0000-000000000001", "rg"

type runner struct {
	env resource.Env
	d   *Deployment
}

func newRunner() *runner {
	return &runner{env: resource.Env{Now: scenariotest.Start, NewID: scenariotest.IDs(), Speed: 1}}
}

func failure(s string) *Failure {
	code, msg, _ := strings.Cut(s, ":")
	return &Failure{Code: code, Message: strings.ReplaceAll(msg, "_", " ")}
}

func (r *runner) step(f []string, out *strings.Builder) error {
	var eff resource.Effects
	var err error
	var nd *Deployment
	index := func() (int, error) {
		if len(f) < 2 {
			return 0, fmt.Errorf("%s needs an operation index", f[0])
		}
		return strconv.Atoi(f[1])
	}
	if f[0] != "start" && f[0] != "advance" && r.d == nil {
		return fmt.Errorf("no deployment yet")
	}
	switch f[0] {
	case "start":
		var planned []Planned
		for _, spec := range f[2:] {
			res, deps, _ := strings.Cut(spec, "<")
			typ, name, _ := strings.Cut(res, "/")
			p := Planned{ResourceID: "/subscriptions/" + sub + "/resourceGroups/" + rg + "/providers/Microsoft.Compute/" + typ + "/" + name,
				Type: "Microsoft.Compute/" + typ, Name: name, APIVersion: "2024-07-01"}
			for _, d := range strings.Split(deps, ",") {
				if d != "" {
					n, err := strconv.Atoi(d)
					if err != nil {
						return err
					}
					p.DependsOn = append(p.DependsOn, n)
				}
			}
			planned = append(planned, p)
		}
		meta := resource.Meta{ID: ID(sub, rg, f[1]), SubscriptionID: sub, ResourceGroup: rg, Name: f[1]}
		nd, eff, err = Start(r.d, meta, Spec{Template: json.RawMessage(`{}`), Mode: "Incremental"}, planned, "corr", r.env)
	case "ready":
		fmt.Fprintf(out, "  ready %v\n", Ready(r.d))
		return nil
	case "request":
		i, ierr := index()
		if ierr != nil {
			return ierr
		}
		nd, eff, err = Apply(r.d, VerbRequest, Step{Run: r.d.OperationID, Index: i}, r.env)
	case "provisioning":
		i, ierr := index()
		if ierr != nil {
			return ierr
		}
		poll := ""
		if len(f) > 3 {
			poll = f[3]
		}
		nd, eff, err = Apply(r.d, VerbProvisioning, Step{Run: r.d.OperationID, Index: i, StatusCode: f[2], Poll: poll}, r.env)
	case "settle":
		i, ierr := index()
		if ierr != nil {
			return ierr
		}
		args := scenariotest.Args(f[2:])
		var fl *Failure
		code := ""
		for _, a := range f[2:] {
			if !strings.Contains(a, "=") {
				code = a
			}
		}
		if v, ok := args["fail"]; ok {
			fl = failure(v)
		}
		nd, eff, err = Apply(r.d, VerbSettle, Step{Run: r.d.OperationID, Index: i, StatusCode: code, Failure: fl}, r.env)
	case "finish":
		nd, eff, err = Apply(r.d, VerbFinish, Step{Run: r.d.OperationID, Outputs: json.RawMessage(`{}`)}, r.env)
	case "fail":
		var cause *Failure
		if len(f) > 1 {
			cause = failure(f[1])
		}
		nd, eff, err = Apply(r.d, VerbFail, Step{Run: r.d.OperationID, Failure: cause}, r.env)
	case "stale":
		// A step of another run, or of one that no longer runs.
		nd, eff, err = Apply(r.d, f[1], Step{Run: "an-earlier-run"}, r.env)
	case "cancel":
		nd, eff, err = Cancel(r.d, r.env)
	case "delete":
		eff, err = Delete(r.d)
	case "remove":
		eff = Remove(r.d, r.env)
	case "advance":
		d, perr := time.ParseDuration(f[1])
		if perr != nil {
			return perr
		}
		r.env.Now = r.env.Now.Add(d)
		return nil
	default:
		return fmt.Errorf("unknown command %q", f[0])
	}
	if err != nil {
		return scenariotest.WriteError(out, err)
	}
	scenariotest.WriteEffects(out, eff)
	if len(eff.Removed) > 0 {
		r.d = nil
		return nil
	}
	if nd != nil {
		r.d = nd
	}
	r.write(out)
	return nil
}

func (r *runner) write(out *strings.Builder) {
	d := r.d
	fmt.Fprintf(out, "  = %s %s since %s", d.Name, d.State, scenariotest.Offset(d.Started))
	done, failed := Settled(d)
	fmt.Fprintf(out, " settled=%v failed=%v inFlight=%v\n", done, failed, InFlight(d))
	for i, op := range d.Ops {
		fmt.Fprintf(out, "    %d %s %s", i, scenariotest.Short(op.ResourceID), or(op.State, "Waiting"))
		if op.StatusCode != "" {
			fmt.Fprintf(out, " %s", op.StatusCode)
		}
		if op.Poll != "" {
			fmt.Fprintf(out, " poll=%s", op.Poll)
		}
		if !op.Started.IsZero() {
			fmt.Fprintf(out, " from %s", scenariotest.Offset(op.Started))
		}
		if !op.Ended.IsZero() {
			fmt.Fprintf(out, " to %s", scenariotest.Offset(op.Ended))
		}
		if op.Error != nil {
			fmt.Fprintf(out, " error %s: %s", op.Error.Code, op.Error.Message)
		}
		out.WriteString("\n")
	}
	if d.Error != nil {
		b, _ := json.Marshal(d.Error)
		fmt.Fprintf(out, "    error %s\n", b)
	}
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
