package armapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/azemu/azemu/internal/armerror"
	"github.com/azemu/azemu/internal/authz"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/identity"
	"github.com/azemu/azemu/internal/kinds/deployment"
	"github.com/azemu/azemu/internal/template"
)

// The deployer runs template deployments. Each resource is created the way
// a client would create it: a PUT dispatched through this server's own
// handler, in process, carrying the rights of the principal that deployed,
// so validation, states, history and billing are those of a direct PUT.
// Its provisioning is followed the way a client follows it (the
// Azure-AsyncOperation it answered, or the resource's provisioningState).
//
// A pass (runDeployments) moves every running deployment as far as it can
// go now: it settles the resources that ended, starts those whose
// dependencies all succeeded, and ends the deployment when nothing is left.
// A pass runs when a deployment is PUT, after each batch of due steps the
// engine fires (so under a manual clock a deployment advances within the
// clock's advance, each dependant starting at the instant its dependency
// ended), and once when the server starts, which resumes what was running
// when the process stopped: the deployment module records a resource's
// request before it is sent, so a restart asks the resource whether it
// exists and sends the request again only when it does not.

// inProcessKey marks a request the deployer dispatches: it is not counted
// against the subscription's request budget (Resource Manager does not
// count a deployment's own calls), and a deployment it PUTs (a nested
// deployment) is run by the pass that sent it.
type inProcessKey struct{}

func isInProcess(r *http.Request) bool { return r.Context().Value(inProcessKey{}) != nil }

// responseRecorder keeps an in-process answer.
type responseRecorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *responseRecorder) Header() http.Header { return w.header }

func (w *responseRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *responseRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}

// inProcess sends a request through this server's handler as principal p
// (nil in the open mode) and returns the answer. target is a path, with
// its query or not; apiVersion, when set, is added.
func (s *Server) inProcess(ctx context.Context, method, target, apiVersion string, body any, p *authz.Principal) (int, http.Header, []byte) {
	base := s.baseURL
	if base == "" {
		base = "https://localhost"
	}
	u, err := url.Parse(base + target)
	if err != nil {
		return http.StatusBadRequest, nil, nil
	}
	if apiVersion != "" {
		q := u.Query()
		q.Set("api-version", apiVersion)
		u.RawQuery = q.Encode()
	}
	var reader *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		reader = bytes.NewReader(b)
	} else {
		reader = bytes.NewReader(nil)
	}
	req, err := http.NewRequestWithContext(context.WithValue(ctx, inProcessKey{}, true), method, u.String(), reader)
	if err != nil {
		return http.StatusBadRequest, nil, nil
	}
	req.Header.Set("Content-Type", "application/json")
	token := "azemu-deployment"
	if p != nil && s.identity != nil {
		if token, err = s.identity.Mint(p, base); err != nil {
			return http.StatusInternalServerError, nil, nil
		}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	w := &responseRecorder{header: http.Header{}}
	s.Handler().ServeHTTP(w, req)
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.status, w.header, w.body.Bytes()
}

// deploymentCaller is the principal whose rights a deployment's requests
// carry: the one that deployed it (nil in the open mode).
func (s *Server) deploymentCaller(d *engine.Deployment) *authz.Principal {
	if d.Spec.Caller == "" || s.identity == nil || s.identity.Directory() == nil {
		return nil
	}
	p, _ := s.identity.Directory().Lookup(d.Spec.Caller)
	return p
}

// ResumeDeployments runs a pass over the deployments that were running
// when the server last stopped; the server calls it before it serves.
func (s *Server) ResumeDeployments(ctx context.Context) { s.runDeployments(ctx) }

// runDeployments is one pass over the running deployments; see above.
func (s *Server) runDeployments(ctx context.Context) {
	s.deployMu.Lock()
	defer s.deployMu.Unlock()
	for range maxPassRounds {
		progressed := false
		for _, d := range s.eng.Deployments("", "", true) {
			if s.stepDeployment(ctx, d) {
				progressed = true
			}
		}
		if !progressed {
			break
		}
	}
	for k := range s.plans {
		if d, ok := s.deploymentOf(k.id); !ok || !d.Active() || d.OperationID != k.op {
			delete(s.plans, k)
		}
	}
}

// maxPassRounds bounds one pass, so that a deployment that keeps changing
// cannot hold it for ever; the next pass goes on.
const maxPassRounds = 1000

type planKey struct{ id, op string }

// deploymentPlan expands a deployment's template as its PUT did (the
// expansion is deterministic), once per run.
func (s *Server) deploymentPlan(d *engine.Deployment, p *authz.Principal) (*template.Plan, error) {
	k := planKey{d.ID, d.OperationID}
	if plan, ok := s.plans[k]; ok {
		return plan, nil
	}
	g, ok := s.eng.Group(d.SubscriptionID, d.ResourceGroup)
	if !ok {
		return nil, armerror.ResourceGroupNotFound(d.ResourceGroup)
	}
	tenant := identity.DefaultTenant
	if p != nil && p.TenantID != "" {
		tenant = p.TenantID
	}
	plan, err := template.Load(d.Spec.Template, d.Spec.Parameters, s.deploymentScope(tenant, d.SubscriptionID, g, d.Name))
	if err != nil {
		return nil, err
	}
	if len(plan.Resources) != len(d.Ops) {
		return nil, errorf("InvalidTemplate", "", "The template expands to %d resources now, not the %d it did when deployed.", len(plan.Resources), len(d.Ops))
	}
	s.plans[k] = plan
	return plan, nil
}

// failureOf is an error as a deployment records it.
func failureOf(err error) *deployment.Failure {
	e, _ := armerror.From(err)
	return &deployment.Failure{Code: e.Code, Message: e.Message, Target: e.Target}
}

// step commits one step of run d (a deployment.Verb*), unless the run
// changed since d was read; it returns the deployment as it now is, and
// whether the step was taken.
func (s *Server) step(ctx context.Context, d *engine.Deployment, verb string, st deployment.Step) (*engine.Deployment, bool) {
	st.Run = d.OperationID
	res, err := s.eng.Do(ctx, engine.Command{ID: d.ID, Verb: verb, Input: st})
	if err != nil {
		if !armerror.HasCode(err, deployment.CodeNotRunning) && !armerror.HasCode(err, armerror.CodeResourceNotFound) {
			s.log.Error("deployment: recording a step", "deployment", d.ID, "step", verb, "err", err)
		}
		return d, false
	}
	nd, ok := res.State.(*engine.Deployment)
	if !ok {
		return d, false
	}
	return nd, true
}

// stepDeployment moves one deployment as far as it goes now and reports
// whether anything changed.
func (s *Server) stepDeployment(ctx context.Context, d *engine.Deployment) bool {
	p := s.deploymentCaller(d)
	plan, err := s.deploymentPlan(d, p)
	if err != nil {
		_, changed := s.step(ctx, d, deployment.VerbFail, deployment.Step{Failure: failureOf(err)})
		return changed
	}
	ref := s.referencer(ctx, p)
	progressed := false
	for _, i := range deployment.InFlight(d) {
		op := d.Ops[i]
		if op.State == deployment.OpRequested {
			// Recorded but perhaps never sent: the process stopped between.
			status, _, _ := s.inProcess(ctx, http.MethodGet, op.ResourceID, op.APIVersion, nil, p)
			if status == http.StatusNotFound {
				d = s.sendResource(ctx, d, i, plan, ref, p)
			} else {
				d, _ = s.step(ctx, d, deployment.VerbProvisioning, deployment.Step{Index: i})
			}
			progressed = true
			continue
		}
		if done, failure := s.pollResource(ctx, op, p); done {
			var changed bool
			d, changed = s.step(ctx, d, deployment.VerbSettle, deployment.Step{Index: i, Failure: failure})
			progressed = progressed || changed
		}
	}
	for _, i := range deployment.Ready(d) {
		d = s.sendResource(ctx, d, i, plan, ref, p)
		progressed = true
	}
	done, failed := deployment.Settled(d)
	switch {
	case failed:
		_, changed := s.step(ctx, d, deployment.VerbFail, deployment.Step{})
		progressed = progressed || changed
	case done:
		outputs, err := plan.Outputs(ref)
		var raw json.RawMessage
		if err == nil {
			raw, err = json.Marshal(outputs)
		}
		verb, st := deployment.VerbFinish, deployment.Step{Outputs: raw}
		if err != nil {
			verb, st = deployment.VerbFail, deployment.Step{Failure: failureOf(err)}
		}
		_, changed := s.step(ctx, d, verb, st)
		progressed = progressed || changed
	}
	return progressed
}

// referencer answers reference() with a GET of the resource, as p.
func (s *Server) referencer(ctx context.Context, p *authz.Principal) template.Referencer {
	return func(id, apiVersion string) ([]byte, bool, error) {
		status, _, body := s.inProcess(ctx, http.MethodGet, id, apiVersion, nil, p)
		switch {
		case status == http.StatusOK:
			return body, true, nil
		case status == http.StatusNotFound:
			return nil, false, nil
		}
		return nil, false, envelopeError(status, body)
	}
}

// envelopeError reads ARM's error envelope from an answer.
func envelopeError(status int, body []byte) *armerror.Error {
	var env struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Target  string `json:"target"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &env) != nil || env.Error.Code == "" {
		return &armerror.Error{Code: statusName(status), Message: strings.TrimSpace(string(body)), Status: status}
	}
	return &armerror.Error{Code: env.Error.Code, Message: env.Error.Message, Target: env.Error.Target, Status: status}
}

// statusName is an HTTP status as Azure's deployment operations name it
// (.NET's HttpStatusCode: OK, Created, BadRequest, ...).
func statusName(status int) string {
	if status == http.StatusOK {
		return "OK"
	}
	return strings.ReplaceAll(strings.ReplaceAll(http.StatusText(status), " ", ""), "-", "")
}

// sendResource records operation i's request, evaluates the resource's
// body (its references resolve now that its dependencies succeeded) and
// PUTs it; it returns the deployment as it then is.
func (s *Server) sendResource(ctx context.Context, d *engine.Deployment, i int, plan *template.Plan, ref template.Referencer, p *authz.Principal) *engine.Deployment {
	if d.Ops[i].State == deployment.OpWaiting {
		var ok bool
		if d, ok = s.step(ctx, d, deployment.VerbRequest, deployment.Step{Index: i}); !ok {
			return d
		}
	}
	op := d.Ops[i]
	settle := func(code string, failure *deployment.Failure) *engine.Deployment {
		nd, _ := s.step(ctx, d, deployment.VerbSettle, deployment.Step{Index: i, StatusCode: code, Failure: failure})
		return nd
	}
	body, err := plan.Body(plan.Resources[i], ref)
	if err != nil {
		e, _ := armerror.From(err)
		return settle(statusName(e.HTTPStatus()), failureOf(err))
	}
	status, header, resp := s.inProcess(ctx, http.MethodPut, op.ResourceID, op.APIVersion, body, p)
	code := statusName(status)
	if status >= 300 {
		return settle(code, failureOf(envelopeError(status, resp)))
	}
	poll := header.Get("Azure-AsyncOperation")
	if poll == "" && status == http.StatusAccepted {
		poll = header.Get("Location")
	}
	if poll != "" {
		if u, err := url.Parse(poll); err == nil {
			poll = u.RequestURI()
		}
		nd, _ := s.step(ctx, d, deployment.VerbProvisioning, deployment.Step{Index: i, StatusCode: code, Poll: poll})
		return nd
	}
	switch provisioningState(resp) {
	case "", "succeeded":
		return settle(code, nil)
	case "failed":
		return settle(code, terminalFailure())
	}
	nd, _ := s.step(ctx, d, deployment.VerbProvisioning, deployment.Step{Index: i, StatusCode: code})
	return nd
}

func provisioningState(body []byte) string {
	var v struct {
		Properties struct {
			ProvisioningState string `json:"provisioningState"`
		} `json:"properties"`
	}
	_ = json.Unmarshal(body, &v)
	return strings.ToLower(v.Properties.ProvisioningState)
}

func terminalFailure() *deployment.Failure {
	return &deployment.Failure{Code: "ResourceDeploymentFailure",
		Message: "The resource write operation failed to complete successfully, because it reached terminal provisioning state 'Failed'."}
}

// pollResource asks how a resource's provisioning stands: through the
// operation its request started, else the resource's provisioningState.
func (s *Server) pollResource(ctx context.Context, op deployment.Op, p *authz.Principal) (done bool, failure *deployment.Failure) {
	if op.Poll != "" {
		status, _, body := s.inProcess(ctx, http.MethodGet, op.Poll, "", nil, p)
		switch {
		case status == http.StatusAccepted:
			return false, nil
		case status == http.StatusOK:
			var st struct {
				Status string              `json:"status"`
				Error  *deployment.Failure `json:"error"`
			}
			_ = json.Unmarshal(body, &st)
			switch strings.ToLower(st.Status) {
			case "succeeded":
				return true, nil
			case "failed", "canceled":
				if st.Error == nil || st.Error.Code == "" {
					return true, terminalFailure()
				}
				return true, st.Error
			case "":
				// A Location answered 200 with the resource: done.
				return true, nil
			}
			return false, nil
		case status != http.StatusNotFound:
			return true, failureOf(envelopeError(status, body))
		}
	}
	status, _, body := s.inProcess(ctx, http.MethodGet, op.ResourceID, op.APIVersion, nil, p)
	if status != http.StatusOK {
		return true, failureOf(envelopeError(status, body))
	}
	switch provisioningState(body) {
	case "", "succeeded":
		return true, nil
	case "failed":
		return true, terminalFailure()
	}
	return false, nil
}
