package lifecycle

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/azemu/azemu/internal/kinds/scenariotest"
)

// TestLifecycleDoc keeps docs/lifecycle.md generated from the code: the
// diagram and the table come from Decide itself, so they cannot drift.
// Run with -update to rewrite the file after a deliberate change.
func TestLifecycleDoc(t *testing.T) {
	const path = "../../docs/lifecycle.md"
	scenariotest.Compare(t, path, renderLifecycleDoc())
}

// docCase is one row of the generated table: an operation from a state.
type docCase struct {
	label string
	state State
	req   Request
}

func docCases() []docCase {
	var cases []docCase
	add := func(label string, st State, req Request) {
		cases = append(cases, docCase{label, st, req})
	}
	add("create (generalized image)", State{}, Request{Kind: Create, GeneralizedImage: true})
	add("create (specialized disk)", State{}, Request{Kind: Create})
	for _, k := range Kinds {
		if k == Create {
			continue
		}
		for _, p := range []Power{Running, Stopped, Deallocated} {
			req := Request{Kind: k}
			label := string(k)
			switch k {
			case SimulateEviction:
				req.Spot = true
				label += " (Spot)"
			case RunCommand:
				req.ShutsDownGuest = p == Running
				if p == Running {
					label += " (script shuts down)"
				}
			}
			add(label, State{Provisioning: Succeeded, Power: p}, req)
		}
	}
	add("powerOff skipShutdown", State{Provisioning: Succeeded, Power: Running}, Request{Kind: PowerOff, SkipShutdown: true})
	add("deallocate hibernate", State{Provisioning: Succeeded, Power: Running}, Request{Kind: Deallocate, Hibernate: true, HibernationEnabled: true})
	add("update (vmSize change)", State{Provisioning: Succeeded, Power: Running}, Request{Kind: Update, Resize: true})
	add("simulateEviction (Spot, Delete)", State{Provisioning: Succeeded, Power: Running}, Request{Kind: SimulateEviction, Spot: true, EvictionPolicy: "Delete"})
	add("delete forceDeletion", State{Provisioning: Succeeded, Power: Running}, Request{Kind: Delete, Force: true})
	add("start (generalized VM)", State{Provisioning: Succeeded, Power: Stopped, Generalized: true}, Request{Kind: Start})
	add("start (VM being deleted)", State{Provisioning: Deleting, Power: Deallocating}, Request{Kind: Start})
	return cases
}

func powerName(p Power) string {
	if p == "" {
		return "none"
	}
	return string(p)
}

func stepText(s Step) string {
	prov := strings.ToLower(string(s.Provisioning))
	if s.OS != "" {
		prov += "/" + string(s.OS)
	}
	return fmt.Sprintf("%s, %s, %s", prov, powerName(s.Power), s.Duration)
}

func renderLifecycleDoc() string {
	var b strings.Builder
	b.WriteString(`# VM lifecycle

This page is generated from the code by ` + "`go test ./internal/lifecycle -run TestLifecycleDoc -update`" + `;
the test fails when it drifts from ` + "`internal/lifecycle`" + `. Durations are the realistic
profile at speed 1: ` + "`azemu serve --speed F`" + ` divides them, and the manual clock makes them exact.

## Power states

Arrows follow the steps of each operation's plan, labelled with the operations that take them.
Compute is billed in starting, running, stopping and stopped; not in deallocating or deallocated.

` + "```mermaid\nstateDiagram-v2\n")
	edges := map[[2]string]map[string]bool{}
	for _, c := range docCases() {
		p, err := Decide("vm1", c.state, c.req)
		if err != nil || len(p.Steps) == 0 {
			continue
		}
		from := powerName(c.state.Power)
		if c.req.Kind == Create {
			from = "[*]"
		}
		kind := string(c.req.Kind)
		chain := []string{from}
		for _, s := range p.Steps {
			if s.Power == "" {
				chain = append(chain, "allocating") // before the first power state
				continue
			}
			chain = append(chain, string(s.Power))
		}
		end := powerName(p.End.Power)
		if p.Removes {
			end = "[*]"
		}
		chain = append(chain, end)
		for i := 0; i+1 < len(chain); i++ {
			if chain[i] == chain[i+1] {
				continue
			}
			e := [2]string{chain[i], chain[i+1]}
			if edges[e] == nil {
				edges[e] = map[string]bool{}
			}
			edges[e][kind] = true
		}
	}
	var keys [][2]string
	for e := range edges {
		keys = append(keys, e)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i][0] != keys[j][0] {
			return keys[i][0] < keys[j][0]
		}
		return keys[i][1] < keys[j][1]
	})
	for _, e := range keys {
		var kinds []string
		for k := range edges[e] {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		fmt.Fprintf(&b, "    %s --> %s: %s\n", e[0], e[1], strings.Join(kinds, ", "))
	}
	b.WriteString("```\n\n## Operations\n\n")
	b.WriteString("Each row is an operation asked of a VM in a state: the steps it shows (provisioning, power, duration) and where it ends, or Azure's refusal.\n\n")
	b.WriteString("| operation | from | steps | ends | compute billed at the end |\n|---|---|---|---|---|\n")
	for _, c := range docCases() {
		from := fmt.Sprintf("%s, %s", strings.ToLower(string(c.state.Provisioning)), powerName(c.state.Power))
		if c.req.Kind == Create {
			from = "(new)"
		}
		if c.state.Generalized {
			from += ", generalized"
		}
		p, err := Decide("vm1", c.state, c.req)
		var r *Refusal
		if errors.As(err, &r) {
			fmt.Fprintf(&b, "| %s | %s | refused: 409 `%s`: %s | unchanged | |\n", c.label, from, r.Code, r.Message)
			continue
		}
		var steps []string
		for _, s := range p.Steps {
			steps = append(steps, "("+stepText(s)+")")
		}
		stepCol := strings.Join(steps, " ")
		if stepCol == "" {
			stepCol = "none: completes at once"
		}
		end := fmt.Sprintf("%s, %s", strings.ToLower(string(p.End.Provisioning)), powerName(p.End.Power))
		switch {
		case p.Removes:
			end = "removed (GET answers 404)"
		case p.End.Generalized:
			end += ", generalized"
		case p.End.Hibernated:
			end += ", hibernated"
		}
		billed := "no"
		if p.End.Power.Billed() && !p.Removes {
			billed = "**yes**"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", c.label, from, stepCol, end, billed)
	}
	b.WriteString(`
## Rules

- A power operation arriving while another runs preempts it: the older operation ends ` + "`Canceled`" + `
  with ` + "`OperationPreempted`" + `, and the new plan starts from the current intermediate state.
- Delete preempts everything; a repeated delete joins the running one; anything else on a VM being
  deleted is refused.
- While a create runs, or for a model update (PUT/PATCH) while any operation runs, the request is
  refused with ` + "`OperationNotAllowed`" + ` ("... since another operation is in progress.").
- migrate, runCommand and a guest shutdown keep the VM's states as their own, so they are refused
  while another operation runs rather than taking over a half-way plan.
- While a deallocation runs the VM is "marked to be deallocated": powerOff, restart, reimage and
  runCommand are refused; start preempts it.
- A failed step ends the plan with ` + "`ProvisioningState/failed/<Code>`" + ` (level Error); the power
  state stays where the step left it, and the VM accepts new operations.
`)
	return b.String()
}
