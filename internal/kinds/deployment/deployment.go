// Package deployment decides template deployments
// (Microsoft.Resources/deployments at resource-group scope): a deployment
// keeps its template, its parameters and one operation per resource the
// template deploys, each with the operations it waits for. The module
// decides which resources may start, records what each one's request and
// provisioning came to, and ends the deployment Succeeded with its outputs
// or Failed with Azure's DeploymentFailed and the failed resources'
// errors. It is pure: the runtime sends the requests and reports back.
package deployment

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/kinds/resource"
)

// Type is the ARM type of deployments.
const Type = "Microsoft.Resources/deployments"

// Deployment states, as properties.provisioningState shows them.
const (
	Accepted  = "Accepted"
	Running   = "Running"
	Succeeded = "Succeeded"
	Failed    = "Failed"
	Canceled  = "Canceled"
)

// Resource operation states: Waiting for its dependencies, Requested
// (the runtime is sending its PUT), Running (the resource provisions),
// then Succeeded or Failed. A Canceled deployment leaves Waiting ones so.
const (
	OpWaiting   = ""
	OpRequested = "Requested"
	OpRunning   = "Running"
)

// CodeDeploymentFailed is the error of a deployment a resource failed.
const CodeDeploymentFailed = "DeploymentFailed"

// Deployment is a deployment snapshot.
type Deployment struct {
	// State is the run's provisioningState.
	State         string `json:"state"`
	resource.Meta `json:"-"`
	// Spec is what the client asked for.
	Spec Spec `json:"spec"`
	// CorrelationID is the PUT's x-ms-correlation-request-id.
	CorrelationID string    `json:"correlationId"`
	Started       time.Time `json:"started"`
	// Timestamp is when the state last changed.
	Timestamp time.Time `json:"timestamp"`
	// OperationID is the asynchronous operation of the PUT that started
	// this run.
	OperationID string `json:"operationId"`
	Ops         []Op   `json:"ops"`
	// Outputs are the evaluated outputs, once Succeeded.
	Outputs json.RawMessage `json:"outputs,omitempty"`
	Error   *Failure        `json:"error,omitempty"`
}

// Failure is an error as ARM nests them.
type Failure struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Target names the property at fault, when one is.
	Target string `json:"target,omitempty"`
	// Details are the errors this one sums up (DeploymentFailed's are the
	// failed resources').
	Details []Failure `json:"details,omitempty"`
}

// Spec is what a client asked to deploy.
type Spec struct {
	Template   json.RawMessage `json:"template"`
	Parameters json.RawMessage `json:"parameters,omitempty"`
	// Secure names the parameters of a secure type, whose values are
	// never shown.
	Secure []string `json:"secure,omitempty"`
	Mode   string   `json:"mode"`
	// Caller is the client ID of the principal that deployed, whose
	// rights each resource's request carries (empty in the open mode).
	Caller string `json:"caller,omitempty"`
	// TemplateHash identifies the template, as Azure's templateHash does.
	TemplateHash string `json:"templateHash"`
	// ShownParameters are the bound parameters as properties.parameters
	// shows them: types, and values but for secure ones.
	ShownParameters json.RawMessage `json:"shownParameters,omitempty"`
}

// Op is the deployment of one resource.
type Op struct {
	ID         string `json:"id"`
	ResourceID string `json:"resourceId"`
	Type       string `json:"type"`
	Name       string `json:"name"`
	APIVersion string `json:"apiVersion"`
	// DependsOn are the indexes of the operations this one waits for.
	DependsOn []int  `json:"dependsOn,omitempty"`
	State     string `json:"state,omitempty"`
	// StatusCode is the HTTP status of the resource's request, as Azure's
	// statusCode names it (OK, Created, BadRequest, ...).
	StatusCode string   `json:"statusCode,omitempty"`
	Error      *Failure `json:"error,omitempty"`
	// Poll is the path of the resource's asynchronous operation, when its
	// request started one.
	Poll    string    `json:"poll,omitempty"`
	Started time.Time `json:"started,omitzero"`
	Ended   time.Time `json:"ended,omitzero"`
}

// Active reports whether the deployment still runs.
func (d *Deployment) Active() bool { return d.State == Accepted || d.State == Running }

// ResourceType is Type.
func (d *Deployment) ResourceType() string { return Type }

// Row is the deployment as the store keeps it; deployments have no
// location of their own at resource-group scope.
func (d *Deployment) Row() resource.Row { return resource.RowOf(d, "", d.Started) }

// Decode reads a deployment back from its stored row.
var Decode = resource.Decode[Deployment]

// ID is the ID of a deployment in a group.
func ID(sub, rg, name string) string {
	return armid.ResourceGroupID(sub, rg) + "/providers/" + Type + "/" + name
}

// Key is the case-insensitive map key of a deployment ID.
func Key(id string) string { return armid.Fold(id) }

// NotFound is the error of a request naming a deployment that does not
// exist.
func NotFound(name string) error {
	return &resource.Error{Code: "DeploymentNotFound", Message: fmt.Sprintf("Deployment '%s' could not be found.", name)}
}

func active(d *Deployment) error {
	return &resource.Error{Code: "DeploymentActive", Message: fmt.Sprintf(
		"Unable to edit or replace deployment '%s': previous deployment from '%s' is still active (expiration time is '%s'). Please see https://aka.ms/arm-deploy for usage details.",
		d.Name, d.Started.UTC().Format(time.RFC3339), d.Started.Add(7*24*time.Hour).UTC().Format(time.RFC3339))}
}

// Verbs the runtime sends a deployment: a client's cancel, and the steps
// of a run as the runtime carries it out (Step is their input).
const (
	VerbCancel       = "cancel"
	VerbRequest      = "request"
	VerbProvisioning = "provisioning"
	VerbSettle       = "settle"
	VerbFinish       = "finish"
	VerbFail         = "fail"
)

// StartArgs is a PUT's input: what to deploy, and the resources its
// template expands to.
type StartArgs struct {
	Spec          Spec
	Planned       []Planned
	CorrelationID string
}

// Step is the input of one step of a run.
type Step struct {
	// Run is the run's operation ID: a step of a run that is no longer the
	// deployment's current, running one changes nothing.
	Run string
	// Index is the resource operation the step is about.
	Index            int
	StatusCode, Poll string
	Failure          *Failure
	Outputs          json.RawMessage
}

// CodeNotRunning refuses a step of a run that no longer runs (canceled,
// ended, or replaced by a new PUT).
const CodeNotRunning = "DeploymentNotRunning"

// Apply decides one step of a run (a Verb* but VerbCancel).
func Apply(d *Deployment, verb string, s Step, env resource.Env) (*Deployment, resource.Effects, error) {
	if d.OperationID != s.Run || !d.Active() {
		return nil, resource.Effects{}, &resource.Error{Code: CodeNotRunning, Message: fmt.Sprintf(
			"The run '%s' of deployment '%s' is not running.", s.Run, d.Name)}
	}
	switch verb {
	case VerbRequest:
		return Request(d, s.Index, env)
	case VerbProvisioning:
		return Provisioning(d, s.Index, s.StatusCode, s.Poll, env)
	case VerbSettle:
		return Settle(d, s.Index, s.StatusCode, s.Failure, env)
	case VerbFinish:
		nd, eff := Finish(d, s.Outputs, env)
		return nd, eff, nil
	case VerbFail:
		nd, eff := Fail(d, s.Failure, env)
		return nd, eff, nil
	}
	return nil, resource.Effects{}, fmt.Errorf("deployment: no step %q", verb)
}

// Planned is one resource of the template, as the runtime's expansion of
// it gives: what the operation records.
type Planned struct {
	ResourceID, Type, Name, APIVersion string
	DependsOn                          []int
}

// Start decides a client's PUT of a deployment: a new run of spec over
// the planned resources. old is the deployment of that name (nil when
// new); one still running is not replaced.
func Start(old *Deployment, meta resource.Meta, spec Spec, planned []Planned, correlationID string, env resource.Env) (*Deployment, resource.Effects, error) {
	if old != nil && old.Active() {
		return nil, resource.Effects{}, active(old)
	}
	d := &Deployment{Meta: meta, Spec: spec, State: Accepted, CorrelationID: correlationID, Started: env.Now, Timestamp: env.Now,
		OperationID: env.NewOperationID()}
	if old != nil {
		d.Meta = old.Meta
	}
	for _, p := range planned {
		d.Ops = append(d.Ops, Op{ID: operationID(env.NewID()), ResourceID: p.ResourceID, Type: p.Type, Name: p.Name,
			APIVersion: p.APIVersion, DependsOn: p.DependsOn})
	}
	eff := resource.Effects{Put: []resource.State{d},
		Started: []resource.Operation{{ID: d.OperationID, Kind: "deployment", TargetID: d.ID}}}
	return d, eff, nil
}

// operationID is a deployment operation's ID as Azure writes them: 16
// upper-case hexadecimal digits.
func operationID(guid string) string {
	out := make([]byte, 0, 16)
	for i := 0; i < len(guid) && len(out) < 16; i++ {
		switch c := guid[i]; {
		case c >= 'a' && c <= 'f':
			out = append(out, c-'a'+'A')
		case c != '-':
			out = append(out, c)
		}
	}
	return string(out)
}

// Ready lists the operations that may start now: waiting, with every
// operation they depend on succeeded. Nothing starts once one has failed,
// or when the deployment no longer runs.
func Ready(d *Deployment) []int {
	if !d.Active() {
		return nil
	}
	for _, op := range d.Ops {
		if op.State == Failed {
			return nil
		}
	}
	var out []int
	for i, op := range d.Ops {
		if op.State != OpWaiting {
			continue
		}
		ready := true
		for _, dep := range op.DependsOn {
			if dep >= 0 && dep < len(d.Ops) && d.Ops[dep].State != Succeeded {
				ready = false
				break
			}
		}
		if ready {
			out = append(out, i)
		}
	}
	return out
}

// InFlight lists the operations whose resources are being requested or
// provisioned.
func InFlight(d *Deployment) []int {
	var out []int
	for i, op := range d.Ops {
		if op.State == OpRequested || op.State == OpRunning {
			out = append(out, i)
		}
	}
	return out
}

// update returns a copy of d with its operations copied, for a decision
// to change.
func update(d *Deployment, env resource.Env) *Deployment {
	nd := *d
	nd.Ops = append([]Op(nil), d.Ops...)
	nd.Timestamp = env.Now
	return &nd
}

func checkOp(d *Deployment, i int) error {
	if i < 0 || i >= len(d.Ops) {
		return fmt.Errorf("deployment %s has no operation %d", d.ID, i)
	}
	return nil
}

// Request decides that the runtime sends operation i's request now: it is
// recorded first, so that a restart finds it and asks the resource how it
// is rather than losing it.
func Request(d *Deployment, i int, env resource.Env) (*Deployment, resource.Effects, error) {
	if err := checkOp(d, i); err != nil {
		return nil, resource.Effects{}, err
	}
	nd := update(d, env)
	nd.State = Running
	nd.Ops[i].State = OpRequested
	nd.Ops[i].Started = env.Now
	return nd, resource.Effects{Put: []resource.State{nd}}, nil
}

// Provisioning decides that operation i's request was accepted and its
// resource provisions, followed at poll (empty: by the resource itself).
func Provisioning(d *Deployment, i int, statusCode, poll string, env resource.Env) (*Deployment, resource.Effects, error) {
	if err := checkOp(d, i); err != nil {
		return nil, resource.Effects{}, err
	}
	nd := update(d, env)
	nd.Ops[i].State = OpRunning
	nd.Ops[i].StatusCode = statusCode
	nd.Ops[i].Poll = poll
	return nd, resource.Effects{Put: []resource.State{nd}}, nil
}

// Settle decides that operation i ended: its resource succeeded, or
// failed with failure (statusCode is the request's, or the failure's).
func Settle(d *Deployment, i int, statusCode string, failure *Failure, env resource.Env) (*Deployment, resource.Effects, error) {
	if err := checkOp(d, i); err != nil {
		return nil, resource.Effects{}, err
	}
	nd := update(d, env)
	op := &nd.Ops[i]
	op.State, op.Ended, op.Error = Succeeded, env.Now, failure
	if statusCode != "" {
		op.StatusCode = statusCode
	}
	if failure != nil {
		op.State = Failed
	}
	return nd, resource.Effects{Put: []resource.State{nd}}, nil
}

// Finish decides the end of a run whose resources all succeeded, with
// the template's evaluated outputs.
func Finish(d *Deployment, outputs json.RawMessage, env resource.Env) (*Deployment, resource.Effects) {
	nd := update(d, env)
	nd.State, nd.Outputs = Succeeded, outputs
	return nd, resource.Effects{Put: []resource.State{nd},
		Ended: []resource.OperationEnd{{ID: d.OperationID, Status: resource.StatusSucceeded, At: env.Now}}}
}

// Fail decides the end of a run that cannot go on: cause is why when no
// resource failed (an output or a reference that could not be evaluated);
// otherwise the failed resources' errors are the details of Azure's
// DeploymentFailed.
func Fail(d *Deployment, cause *Failure, env resource.Env) (*Deployment, resource.Effects) {
	nd := update(d, env)
	nd.State = Failed
	f := &Failure{Code: CodeDeploymentFailed,
		Message: "At least one resource deployment operation failed. Please list deployment operations for details. Please see https://aka.ms/arm-deployment-operations for usage details."}
	for _, op := range nd.Ops {
		if op.State == Failed && op.Error != nil {
			f.Details = append(f.Details, *op.Error)
		}
	}
	if cause != nil {
		if len(f.Details) == 0 {
			f = cause
		} else {
			f.Details = append(f.Details, *cause)
		}
	}
	nd.Error = f
	return nd, resource.Effects{Put: []resource.State{nd},
		Ended: []resource.OperationEnd{{ID: d.OperationID, Status: resource.StatusFailed, At: env.Now,
			Error: &resource.OperationError{Code: f.Code, Message: f.Message}}}}
}

// Settled reports how a run stands once nothing is in flight: done when
// every operation succeeded, failed when one failed (nothing more will
// start). A run with work left or in flight is neither.
func Settled(d *Deployment) (done, failed bool) {
	if len(InFlight(d)) > 0 {
		return false, false
	}
	waiting := false
	for _, op := range d.Ops {
		switch op.State {
		case Failed:
			failed = true
		case OpWaiting:
			waiting = true
		}
	}
	return !failed && !waiting, failed
}

// Cancel decides a client's cancel: a running deployment stops starting
// resources (those already requested finish on their own) and ends
// Canceled.
func Cancel(d *Deployment, env resource.Env) (*Deployment, resource.Effects, error) {
	if !d.Active() {
		return nil, resource.Effects{}, &resource.Error{Code: "DeploymentCannotBeCancelled", Message: fmt.Sprintf(
			"The deployment '%s' cannot be cancelled: its provisioning state is '%s'. Only Accepted or Running deployments can be cancelled.", d.Name, d.State)}
	}
	nd := update(d, env)
	nd.State = Canceled
	return nd, resource.Effects{Put: []resource.State{nd},
		Ended: []resource.OperationEnd{{ID: d.OperationID, Status: resource.StatusCanceled, At: env.Now,
			Error: &resource.OperationError{Code: "DeploymentCanceled", Message: "The deployment was canceled."}}}}, nil
}

// Delete decides a client's DELETE of a deployment's record (the
// resources it deployed stay, as in Azure); a running one is refused.
func Delete(d *Deployment) (resource.Effects, error) {
	if d.Active() {
		return resource.Effects{}, &resource.Error{Code: "DeploymentActive", Message: fmt.Sprintf(
			"The deployment '%s' is still running; cancel it or wait for it to end before deleting it.", d.Name)}
	}
	return resource.Effects{Removed: []resource.State{d}}, nil
}

// Remove decides removing d with its group (the group's removeWithGroup
// command): a running one's operation ends Canceled.
func Remove(d *Deployment, env resource.Env) resource.Effects {
	eff := resource.Effects{Removed: []resource.State{d}}
	if d.Active() {
		eff.Ended = append(eff.Ended, resource.OperationEnd{ID: d.OperationID, Status: resource.StatusCanceled, At: env.Now,
			Error: &resource.OperationError{Code: "DeploymentCanceled", Message: "The deployment's resource group was deleted."}})
	}
	return eff
}
