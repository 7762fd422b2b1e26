package main

// azemu clock, faults, reset and vm: the emulator's own controls, as
// clients of a running server's /_azemu endpoints.

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/azemu/azemu/internal/armapi"
	"github.com/azemu/azemu/internal/engine"
)

// controlCommand is one control subcommand's flags, parsed: where the
// server is, how to print, and the positional arguments.
type controlCommand struct {
	endpoint
	output string
	args   []string
}

// openControl parses the flags every control takes, plus those extra adds,
// checks the positional arguments with check (when set), and makes the
// client for the server. A request for help is flag.ErrHelp (see helpOK).
func openControl(name, usage string, args []string, stderr io.Writer, check func(args []string) error,
	extra func(str func(p *string, name, def, help string))) (controlCommand, *client, error) {
	var c controlCommand
	fs, str := newFlags(name, stderr)
	c.addFlags(fs, str)
	out := outputFlag(str)
	if extra != nil {
		extra(str)
	}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: azemu %s\n\nFlags:\n", usage)
		fs.PrintDefaults()
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return c, nil, err
	}
	c.output, c.args = *out, pos
	if err := checkOutput(c.output); err != nil {
		return c, nil, err
	}
	if check != nil {
		if err := check(c.args); err != nil {
			return c, nil, err
		}
	}
	cl, err := c.client()
	return c, cl, err
}

// needsVerb checks the arguments of a control that takes a verb (list,
// add, ...): with none, the error is usage.
func needsVerb(usage string) func(args []string) error {
	return func(args []string) error {
		if len(args) == 0 {
			return errors.New(usage)
		}
		return nil
	}
}

// noArguments checks the arguments of a control that takes none.
func noArguments(args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected argument %q", args[0])
	}
	return nil
}

// clockAnswer mirrors GET /_azemu/clock.
type clockAnswer struct {
	Now   time.Time `json:"now"`
	Mode  string    `json:"mode"`
	Speed float64   `json:"speed"`
}

// clockCmd: azemu clock [advance DURATION].
func clockCmd(args []string, stdout, stderr io.Writer) error {
	c, cl, err := openControl("clock", "clock [advance DURATION] [flags]\n\nShows the server's clock; advance moves a manual clock forward (90s, 1h30m), firing every\nstep that falls due on the way before it returns.", args, stderr, nil, nil)
	if err != nil {
		return helpOK(err)
	}
	var ans clockAnswer
	switch {
	case len(c.args) == 0:
		err = cl.get("/_azemu/clock", &ans)
	case c.args[0] == "advance" && len(c.args) == 2:
		d, perr := time.ParseDuration(c.args[1])
		if perr != nil || d < 0 {
			return fmt.Errorf("%q is not a duration such as 90s or 1h30m", c.args[1])
		}
		err = cl.do(http.MethodPost, "/_azemu/clock/advance", map[string]string{"duration": d.String()}, &ans)
	default:
		return fmt.Errorf("usage: azemu clock [advance DURATION], not %q", strings.Join(c.args, " "))
	}
	if err != nil {
		return err
	}
	if c.output == "json" {
		return writeJSON(stdout, ans)
	}
	tw := newTable(stdout, "NOW\tMODE\tSPEED")
	fmt.Fprintf(tw, "%s\t%s\t%s\n", ans.Now.UTC().Format(time.RFC3339Nano), ans.Mode, strconv.FormatFloat(ans.Speed, 'f', -1, 64))
	return tw.Flush()
}

// faultsCmd: azemu faults add|list|clear.
func faultsCmd(args []string, stdout, stderr io.Writer) error {
	var f struct{ kind, operation, resource, code, message, count, probability string }
	c, cl, err := openControl("faults", `faults list | add [flags] | clear [ID]

Lists, adds or removes injected faults (docs/faults.md). add takes:
  --operation start --resource 'web-*' --error AllocationFailed --count 1
  --kind throttle --operation GET --count 2
  --kind powerStateUnavailable --probability 0.2`, args, stderr, needsVerb("usage: azemu faults list | add [flags] | clear [ID]"), func(str func(p *string, name, def, help string)) {
		str(&f.kind, "kind", "", "add: error (the default), throttle or powerStateUnavailable")
		str(&f.operation, "operation", "", "add: the operation to fail (create, start, deallocate, ..., *), or for a throttle *, an HTTP method or a VM action")
		str(&f.resource, "resource", "", "add: a glob on the VM's name or ARM ID (default: every VM)")
		str(&f.code, "error", "", "add: the Azure error code, such as AllocationFailed")
		str(&f.message, "message", "", "add: a message to use instead of Azure's")
		str(&f.count, "count", "", "add: how many times it fires (default: until removed)")
		str(&f.probability, "probability", "", "add: the chance, 0 to 1, that it fires on a match")
	})
	if err != nil {
		return helpOK(err)
	}
	switch verb := c.args[0]; {
	case verb == "list" && len(c.args) == 1:
		var ans struct {
			Value []engine.Fault `json:"value"`
		}
		if err := cl.get("/_azemu/faults", &ans); err != nil {
			return err
		}
		if c.output == "json" {
			return writeJSON(stdout, ans.Value)
		}
		return writeFaults(stdout, ans.Value)
	case verb == "add" && len(c.args) == 1:
		body := engine.Fault{Kind: f.kind, Operation: f.operation, Resource: f.resource, Error: f.code, Message: f.message}
		if f.count != "" {
			n, err := strconv.Atoi(f.count)
			if err != nil || n < 1 {
				return fmt.Errorf("--count must be a positive whole number, not %q", f.count)
			}
			body.Count = &n
		}
		if f.probability != "" {
			p, err := strconv.ParseFloat(f.probability, 64)
			if err != nil {
				return fmt.Errorf("--probability must be a number from 0 to 1, not %q", f.probability)
			}
			body.Probability = p
		}
		var added engine.Fault
		if err := cl.do(http.MethodPost, "/_azemu/faults", body, &added); err != nil {
			return err
		}
		if c.output == "json" {
			return writeJSON(stdout, added)
		}
		return writeFaults(stdout, []engine.Fault{added})
	case verb == "clear" && len(c.args) <= 2:
		path := "/_azemu/faults"
		if len(c.args) == 2 {
			path += "/" + url.PathEscape(c.args[1])
		}
		var ans struct {
			Removed int `json:"removed"`
		}
		if err := cl.do(http.MethodDelete, path, nil, &ans); err != nil {
			return err
		}
		if c.output == "json" {
			return writeJSON(stdout, ans)
		}
		_, err := fmt.Fprintf(stdout, "%d fault(s) removed\n", ans.Removed)
		return err
	}
	return fmt.Errorf("usage: azemu faults list | add [flags] | clear [ID], not %q", strings.Join(c.args, " "))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func writeFaults(w io.Writer, faults []engine.Fault) error {
	if len(faults) == 0 {
		_, err := fmt.Fprintln(w, "No fault is registered.")
		return err
	}
	tw := newTable(w, "ID\tKIND\tOPERATION\tRESOURCE\tERROR\tCOUNT LEFT\tPROBABILITY")
	for _, f := range faults {
		count, prob := "until removed", "-"
		if f.Count != nil {
			count = strconv.Itoa(*f.Count)
		}
		if f.Probability != 0 {
			prob = strconv.FormatFloat(f.Probability, 'f', -1, 64)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f.ID, orDash(f.Kind), orDash(f.Operation), orDash(f.Resource), orDash(f.Error), count, prob)
	}
	return tw.Flush()
}

// resetCmd: azemu reset.
func resetCmd(args []string, stdout, stderr io.Writer) error {
	c, cl, err := openControl("reset", "reset [flags]\n\nEmpties all state of the server: resources, history, operations, faults. The clock stays.", args, stderr, noArguments, nil)
	if err != nil {
		return helpOK(err)
	}
	var ans map[string]any
	if err := cl.do(http.MethodPost, "/_azemu/reset", nil, &ans); err != nil {
		return err
	}
	if c.output == "json" {
		return writeJSON(stdout, ans)
	}
	_, err = fmt.Fprintln(stdout, "All state is gone; the clock stays where it was.")
	return err
}

// vmCmd: azemu vm list | history NAME.
func vmCmd(args []string, stdout, stderr io.Writer) error {
	var sub, rg string
	c, cl, err := openControl("vm", `vm list | history NAME [flags]

list shows every VM with its provisioning and power state and whether its compute is billed now
(Stopped is, Deallocated is not). history shows a VM's state changes, also after it is deleted;
NAME is a VM's name (with --resource-group when two groups have one of that name) or its ARM ID.`,
		args, stderr, needsVerb("usage: azemu vm list | history NAME"), func(str func(p *string, name, def, help string)) {
			str(&sub, "subscription", "", "only this subscription")
			str(&rg, "resource-group", "", "only this resource group")
		})
	if err != nil {
		return helpOK(err)
	}
	switch {
	case c.args[0] == "list" && len(c.args) == 1:
		vms, err := listVMs(cl, sub, rg)
		if err != nil {
			return err
		}
		if c.output == "json" {
			return writeJSON(stdout, vms)
		}
		return writeVMs(stdout, vms)
	case c.args[0] == "history" && len(c.args) == 2:
		id := c.args[1]
		if !strings.HasPrefix(id, "/") {
			if id, err = findVM(cl, sub, rg, c.args[1]); err != nil {
				return err
			}
		}
		var ans struct {
			Value []armapi.HistoryEvent `json:"value"`
		}
		if err := cl.get("/_azemu/vms"+id+"/history", &ans); err != nil {
			return err
		}
		if c.output == "json" {
			return writeJSON(stdout, ans.Value)
		}
		return writeHistory(stdout, id, ans.Value)
	}
	return fmt.Errorf("usage: azemu vm list | history NAME, not %q", strings.Join(c.args, " "))
}

func listVMs(cl *client, sub, rg string) ([]armapi.FleetVM, error) {
	q := url.Values{}
	if sub != "" {
		q.Set("subscription", sub)
	}
	if rg != "" {
		q.Set("resourceGroup", rg)
	}
	path := "/_azemu/vms"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var ans struct {
		Value []armapi.FleetVM `json:"value"`
	}
	err := cl.get(path, &ans)
	return ans.Value, err
}

// findVM resolves a VM's name to its ID among the VMs the server has now.
func findVM(cl *client, sub, rg, name string) (string, error) {
	vms, err := listVMs(cl, sub, rg)
	if err != nil {
		return "", err
	}
	var found []string
	for _, v := range vms {
		if strings.EqualFold(v.Name, name) {
			found = append(found, v.ID)
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("no VM is named %q (a deleted VM's history needs its ARM ID)", name)
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("%d VMs are named %q: name the one with --resource-group, or give its ARM ID:\n  %s", len(found), name, strings.Join(found, "\n  "))
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func writeVMs(w io.Writer, vms []armapi.FleetVM) error {
	if len(vms) == 0 {
		_, err := fmt.Fprintln(w, "No VM.")
		return err
	}
	tw := newTable(w, "NAME\tRESOURCE GROUP\tSIZE\tREGION\tPROVISIONING\tPOWER\tBILLED\tOPERATION")
	billed, stopped := 0, 0
	for _, v := range vms {
		if v.Billed {
			billed++
		}
		if v.PowerState == "stopped" {
			stopped++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v.Name, v.ResourceGroup, v.VMSize, v.Location,
			v.ProvisioningState, orDash(v.PowerState), yesNo(v.Billed), orDash(v.Operation))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%d VM(s), %d billed, %d stopped but still allocated (billed until deallocated).\n", len(vms), billed, stopped)
	return err
}

func writeHistory(w io.Writer, id string, events []armapi.HistoryEvent) error {
	fmt.Fprintf(w, "%s\n\n", id)
	tw := newTable(w, "TIME\tPROVISIONING\tPOWER\tBILLED\tOPERATION\tCODE")
	for _, e := range events {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.UTC().Format(time.RFC3339), e.ProvisioningState, orDash(e.PowerState),
			yesNo(e.Billed), orDash(e.Operation), e.Code)
	}
	return tw.Flush()
}
