package armapi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/azemu/azemu/internal/armerror"
	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/kinds/deployment"
	"github.com/azemu/azemu/internal/kinds/resource"
	"github.com/azemu/azemu/internal/template"
)

// routeDeployments serves Microsoft.Resources/deployments at resource
// group scope: .../resourcegroups/{rg}/providers/Microsoft.Resources/deployments[/{name}[/...]].
func (s *Server) routeDeployments(r *request, sub, rg string) {
	if len(r.segs) == 7 {
		s.onlyGET(r, func(r *request) { s.answer(r)(s.listDeployments(r, sub, rg)) })
		return
	}
	n, name := len(r.segs), r.segs[7]
	switch {
	case n == 8:
		switch r.Method {
		case http.MethodPut:
			s.answer(r)(s.putDeployment(r, sub, rg, name))
		case http.MethodGet:
			s.answer(r)(s.getDeployment(r, sub, rg, name))
		case http.MethodHead:
			_, err := s.eng.GetDeployment(sub, rg, name)
			if err != nil {
				r.w.WriteHeader(http.StatusNotFound)
				return
			}
			r.w.WriteHeader(http.StatusNoContent)
		case http.MethodDelete:
			s.answer(r)(s.deleteDeployment(r, sub, rg, name))
		default:
			s.methodNotAllowed(r)
		}
	case n == 9 && r.Method == http.MethodPost && r.seg(8, "validate"):
		s.answer(r)(s.validateDeployment(r, sub, rg, name))
	case n == 9 && r.Method == http.MethodPost && r.seg(8, "whatIf"):
		s.answer(r)(s.whatIfDeployment(r, sub, rg, name))
	case n == 9 && r.Method == http.MethodPost && r.seg(8, "cancel"):
		s.answer(r)(s.cancelDeployment(r, sub, rg, name))
	case n == 9 && r.Method == http.MethodPost && r.seg(8, "exportTemplate"):
		s.answer(r)(s.exportDeploymentTemplate(sub, rg, name))
	case n == 9 && r.seg(8, "operations"):
		s.onlyGET(r, func(r *request) { s.answer(r)(s.listDeploymentOperations(sub, rg, name)) })
	case n == 10 && r.seg(8, "operations"):
		s.onlyGET(r, func(r *request) { s.answer(r)(s.getDeploymentOperation(sub, rg, name, r.segs[9])) })
	case n == 10 && r.seg(8, "operationStatuses"):
		s.onlyGET(r, func(r *request) { s.answer(r)(s.deploymentOperationStatus(r, sub, r.segs[9])) })
	default:
		s.notFound(r)
	}
}

// deploymentInput is the body of a deployment's PUT or validate.
type deploymentInput struct {
	Location   string `json:"location"`
	Properties *struct {
		Template       json.RawMessage `json:"template"`
		TemplateLink   json.RawMessage `json:"templateLink"`
		Parameters     json.RawMessage `json:"parameters"`
		ParametersLink json.RawMessage `json:"parametersLink"`
		Mode           string          `json:"mode"`
	} `json:"properties"`
}

var deploymentName = regexp.MustCompile(`^[-\w._()]{1,64}$`)

// preparedDeployment is a checked request to deploy: the spec to keep
// and the plan it expands to.
type preparedDeployment struct {
	spec    deployment.Spec
	plan    *template.Plan
	planned []deployment.Planned
}

// prepareDeployment checks a deployment body as Resource Manager does
// before it starts: the body, the template, its parameters, and that azemu
// serves every resource type the template deploys.
func (s *Server) prepareDeployment(r *request, sub, rg, name string) (*preparedDeployment, error) {
	if !deploymentName.MatchString(name) {
		return nil, errorf("InvalidDeploymentName", "", "The deployment name '%s' is invalid. It can contain at most 64 letters, digits, '-', '_', '.', '(' and ')'.", name)
	}
	g, ok := s.eng.Group(sub, rg)
	if !ok {
		return nil, armerror.ResourceGroupNotFound(rg)
	}
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	if !json.Valid(body) {
		// The Azure CLI's dialect: the template's text under a bare name.
		body = template.Relaxed(body)
	}
	var in deploymentInput
	if err := parseJSON(body, &in); err != nil {
		return nil, err
	}
	p := in.Properties
	if p == nil {
		return nil, errorf("InvalidRequestContent", "", "The request content was invalid and could not be deserialized: 'Required property 'properties' not found in JSON.'.")
	}
	if len(p.TemplateLink) > 0 && string(p.TemplateLink) != "null" || len(p.ParametersLink) > 0 && string(p.ParametersLink) != "null" {
		return nil, errorf("InvalidRequestContent", "properties.templateLink",
			"azemu does not fetch templates or parameters by link: send them inline in 'properties.template' and 'properties.parameters' (az deployment group create --template-file does).")
	}
	if len(p.Template) == 0 || string(p.Template) == "null" {
		return nil, errorf("InvalidRequestContent", "properties.template", "The request content was invalid and could not be deserialized: 'The deployment has no template: 'properties.template' is required.'.")
	}
	// The Azure CLI sends the template file's text as a JSON string, as
	// Resource Manager accepts; positions in errors are then the file's.
	for _, raw := range []*json.RawMessage{&p.Template, &p.Parameters} {
		var text string
		if len(*raw) > 0 && (*raw)[0] == '"' && json.Unmarshal(*raw, &text) == nil {
			*raw = json.RawMessage(text)
		}
	}
	mode := canonicalOneOf(p.Mode, "Incremental", "Complete")
	switch mode {
	case "Incremental":
	case "Complete":
		return nil, errorf("InvalidDeploymentMode", "properties.mode", "azemu deploys in 'Incremental' mode only: 'Complete' would delete the group's resources the template does not name.")
	default:
		return nil, errorf("InvalidRequestContent", "properties.mode", "The deployment mode '%s' is not valid: it is 'Incremental' or 'Complete'.", p.Mode)
	}
	plan, err := template.Load(p.Template, p.Parameters, s.deploymentScope(r.caller.TenantID, sub, g, name))
	if err != nil {
		return nil, err
	}
	if err := s.checkDeployable(r, plan); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(p.Template)
	spec := deployment.Spec{Template: p.Template, Parameters: p.Parameters, Mode: mode, TemplateHash: hex.EncodeToString(sum[:8])}
	for name := range plan.Parameters() {
		if strings.HasPrefix(plan.ParameterType(name), "secure") {
			spec.Secure = append(spec.Secure, name)
		}
	}
	sort.Strings(spec.Secure)
	if r.caller.Principal != nil {
		spec.Caller = r.caller.Principal.ClientID
	}
	index := map[string]int{}
	for i, res := range plan.Resources {
		index[armid.Key(res.ID)] = i
	}
	var planned []deployment.Planned
	for _, res := range plan.Resources {
		pl := deployment.Planned{ResourceID: res.ID, Type: res.Type, Name: res.Name, APIVersion: res.APIVersion}
		for _, d := range res.DependsOn {
			if i, ok := index[armid.Key(d)]; ok {
				pl.DependsOn = append(pl.DependsOn, i)
			}
		}
		planned = append(planned, pl)
	}
	return &preparedDeployment{spec: spec, plan: plan, planned: planned}, nil
}

// deploymentID is the ID of a deployment, in its group's own casing.
func deploymentID(sub, rg, name string) string {
	return deployment.ID(armid.Fold(sub), rg, name)
}

// deploymentScope is what a template's scope functions return.
func (s *Server) deploymentScope(tenant, sub string, g *engine.Group, name string) template.Scope {
	return template.Scope{SubscriptionID: armid.Fold(sub), SubscriptionName: "azemu subscription", TenantID: tenant,
		ResourceGroup: g.Name, Location: armLocation(g.Location), GroupTags: g.Tags, DeploymentName: name}
}

// checkDeployable refuses a template naming a resource type azemu does not
// serve, before anything is deployed: it asks the ARM surface itself, so
// the answer follows the routes.
func (s *Server) checkDeployable(r *request, plan *template.Plan) error {
	asked := map[string]bool{}
	for _, res := range plan.Resources {
		typ := strings.ToLower(res.Type)
		if asked[typ] {
			continue
		}
		asked[typ] = true
		status, _, body := s.inProcess(r.Context(), http.MethodGet, res.ID, res.APIVersion, nil, r.caller.Principal)
		if status == http.StatusNotFound && strings.Contains(string(body), notServed) {
			return &armerror.Error{Code: template.CodeInvalidTemplate, Status: http.StatusBadRequest, Message: fmt.Sprintf(
				"Deployment template validation failed: 'The resource type '%s' of the template resource '%s' is not supported by azemu. See docs/api-coverage.md for the resource types it serves.'.",
				res.Type, res.Name)}
		}
	}
	return nil
}

func (s *Server) putDeployment(r *request, sub, rg, name string) (reply, error) {
	prep, err := s.prepareDeployment(r, sub, rg, name)
	if err != nil {
		return reply{}, err
	}
	prep.spec.ShownParameters = shownParameters(prep.plan, prep.spec.Secure)
	corr := r.w.Header().Get("x-ms-correlation-request-id")
	res, err := s.eng.Do(ctxWithoutCancel(r.Context()), engine.Command{ID: deploymentID(sub, rg, name), Verb: engine.VerbPut,
		Input: deployment.StartArgs{Spec: prep.spec, Planned: prep.planned, CorrelationID: corr}})
	if err != nil {
		return reply{}, err
	}
	d := res.State.(*engine.Deployment)
	// The first resources start before the answer, so that under a manual
	// clock what the template creates at once is there when it returns. A
	// deployment a deployment PUTs runs in the pass that sent it.
	if !isInProcess(r.Request) {
		s.runDeployments(ctxWithoutCancel(r.Context()))
	}
	status := http.StatusCreated
	return reply{status: status, body: renderDeployment(d), header: map[string]string{
		"Azure-AsyncOperation": r.base + d.ID + "/operationStatuses/" + d.OperationID + "?api-version=" + r.apiVer,
		"Retry-After":          retryAfter,
	}}, nil
}

func (s *Server) getDeployment(r *request, sub, rg, name string) (reply, error) {
	d, err := s.eng.GetDeployment(sub, rg, name)
	if err != nil {
		return reply{}, err
	}
	return ok(renderDeployment(d))
}

func (s *Server) listDeployments(r *request, sub, rg string) (reply, error) {
	if _, ok := s.eng.Group(sub, rg); !ok {
		return reply{}, armerror.ResourceGroupNotFound(rg)
	}
	value := []any{}
	for _, d := range s.eng.Deployments(sub, rg, false) {
		value = append(value, renderDeployment(d))
	}
	return ok(map[string]any{"value": value})
}

func (s *Server) deleteDeployment(r *request, sub, rg, name string) (reply, error) {
	if _, err := s.eng.GetDeployment(sub, rg, name); err != nil {
		if armerror.HasCode(err, "DeploymentNotFound") {
			return reply{status: http.StatusNoContent}, nil
		}
		return reply{}, err
	}
	_, err := s.eng.Do(ctxWithoutCancel(r.Context()), engine.Command{ID: deploymentID(sub, rg, name), Verb: engine.VerbDelete})
	if err != nil {
		return reply{}, err
	}
	// The record goes at once: no operation to follow.
	return reply{status: http.StatusNoContent}, nil
}

func (s *Server) validateDeployment(r *request, sub, rg, name string) (reply, error) {
	prep, err := s.prepareDeployment(r, sub, rg, name)
	if err != nil {
		return reply{}, err
	}
	g, _ := s.eng.Group(sub, rg)
	now := s.eng.Now()
	d := &engine.Deployment{Meta: resource.Meta{ID: deployment.ID(armid.Fold(sub), g.Name, name), Name: name},
		Spec: prep.spec, State: deployment.Succeeded, Started: now, Timestamp: now, CorrelationID: r.w.Header().Get("x-ms-correlation-request-id")}
	d.Spec.ShownParameters = shownParameters(prep.plan, prep.spec.Secure)
	body := renderDeployment(d)
	props := body["properties"].(map[string]any)
	validated := []any{}
	for _, res := range prep.plan.Resources {
		validated = append(validated, map[string]any{"id": res.ID})
	}
	props["validatedResources"] = validated
	props["validationLevel"] = "Template"
	delete(props, "duration")
	delete(props, "outputResources")
	return ok(body)
}

func (s *Server) cancelDeployment(r *request, sub, rg, name string) (reply, error) {
	if _, err := s.eng.GetDeployment(sub, rg, name); err != nil {
		return reply{}, err
	}
	_, err := s.eng.Do(ctxWithoutCancel(r.Context()), engine.Command{ID: deploymentID(sub, rg, name), Verb: deployment.VerbCancel})
	if err != nil {
		return reply{}, err
	}
	return reply{status: http.StatusNoContent}, nil
}

func (s *Server) exportDeploymentTemplate(sub, rg, name string) (reply, error) {
	d, err := s.eng.GetDeployment(sub, rg, name)
	if err != nil {
		return reply{}, err
	}
	return ok(map[string]any{"template": d.Spec.Template})
}

func (s *Server) listDeploymentOperations(sub, rg, name string) (reply, error) {
	d, err := s.eng.GetDeployment(sub, rg, name)
	if err != nil {
		return reply{}, err
	}
	value := []any{}
	for _, op := range d.Ops {
		if op.State != deployment.OpWaiting {
			value = append(value, renderDeploymentOperation(d, op))
		}
	}
	return ok(map[string]any{"value": value})
}

func (s *Server) getDeploymentOperation(sub, rg, name, opID string) (reply, error) {
	d, err := s.eng.GetDeployment(sub, rg, name)
	if err != nil {
		return reply{}, err
	}
	for _, op := range d.Ops {
		if strings.EqualFold(op.ID, opID) && op.State != deployment.OpWaiting {
			return ok(renderDeploymentOperation(d, op))
		}
	}
	return reply{}, errorf("DeploymentOperationNotFound", "", "Deployment operation '%s' of deployment '%s' could not be found.", opID, name)
}

// deploymentOperationStatus is the Azure-AsyncOperation resource of a
// deployment's PUT: Running, then Succeeded, Failed or Canceled.
func (s *Server) deploymentOperationStatus(r *request, sub, id string) (reply, error) {
	op, err := s.eng.Operation(r.Context(), id)
	if err != nil {
		return reply{}, err
	}
	if !strings.EqualFold(op.SubscriptionID, sub) {
		return reply{}, armerror.OperationNotFound(id)
	}
	status := op.Status
	rep := reply{status: http.StatusOK}
	if status == engine.StatusInProgress {
		status = deployment.Running
		rep.header = map[string]string{"Retry-After": retryAfter}
	}
	body := map[string]any{"status": status}
	if len(op.Error) > 0 {
		// The full error, details included, is the deployment's own.
		if d, ok := s.deploymentOf(op.TargetID); ok && d.Error != nil {
			body["error"] = d.Error
		} else {
			body["error"] = json.RawMessage(op.Error)
		}
	}
	rep.body = body
	return rep, nil
}

func (s *Server) deploymentOf(id string) (*engine.Deployment, bool) {
	for _, d := range s.eng.Deployments("", "", false) {
		if strings.EqualFold(d.ID, id) {
			return d, true
		}
	}
	return nil, false
}

// shownParameters is properties.parameters as Azure shows it: each bound
// parameter with its type, secure ones without their value.
func shownParameters(plan *template.Plan, secure []string) json.RawMessage {
	isSecure := map[string]bool{}
	for _, n := range secure {
		isSecure[n] = true
	}
	out := map[string]any{}
	for name, v := range plan.Parameters() {
		typ := map[string]string{"string": "String", "securestring": "SecureString", "int": "Int", "bool": "Bool",
			"object": "Object", "secureobject": "SecureObject", "array": "Array"}[plan.ParameterType(name)]
		if isSecure[name] {
			out[name] = map[string]any{"type": typ}
			continue
		}
		out[name] = map[string]any{"type": typ, "value": v}
	}
	b, _ := json.Marshal(out)
	return b
}

// isoDuration writes a duration as ISO 8601 (PT1M20.5S), as Azure's
// deployment durations are.
func isoDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	out := "PT"
	if h := d / time.Hour; h > 0 {
		out += fmt.Sprintf("%dH", h)
		d -= h * time.Hour
	}
	if m := d / time.Minute; m > 0 {
		out += fmt.Sprintf("%dM", m)
		d -= m * time.Minute
	}
	return out + strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.7f", d.Seconds()), "0"), ".") + "S"
}

func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.0000000Z") }

// renderDeployment is a deployment as Resource Manager shows it
// (DeploymentExtended).
func renderDeployment(d *engine.Deployment) map[string]any {
	props := map[string]any{
		"templateHash":      d.Spec.TemplateHash,
		"parameters":        d.Spec.ShownParameters,
		"mode":              d.Spec.Mode,
		"provisioningState": d.State,
		"timestamp":         timestamp(d.Timestamp),
		"duration":          isoDuration(d.Timestamp.Sub(d.Started)),
		"correlationId":     d.CorrelationID,
	}
	if len(d.Spec.ShownParameters) == 0 {
		props["parameters"] = map[string]any{}
	}
	providers := map[string]map[string]bool{}
	var dependencies, outputResources []any
	for _, op := range d.Ops {
		ns, typ, _ := strings.Cut(op.Type, "/")
		if providers[ns] == nil {
			providers[ns] = map[string]bool{}
		}
		providers[ns][typ] = true
		if len(op.DependsOn) > 0 {
			var on []any
			for _, i := range op.DependsOn {
				dep := d.Ops[i]
				on = append(on, map[string]any{"id": dep.ResourceID, "resourceType": dep.Type, "resourceName": dep.Name})
			}
			dependencies = append(dependencies, map[string]any{"dependsOn": on, "id": op.ResourceID, "resourceType": op.Type, "resourceName": op.Name})
		}
		if d.State == deployment.Succeeded && op.State == deployment.Succeeded {
			outputResources = append(outputResources, map[string]any{"id": op.ResourceID})
		}
	}
	var provs []any
	for _, ns := range sortedKeys(providers) {
		var types []any
		for _, t := range sortedKeys(providers[ns]) {
			types = append(types, map[string]any{"resourceType": t})
		}
		provs = append(provs, map[string]any{"namespace": ns, "resourceTypes": types})
	}
	props["providers"] = orEmpty(provs)
	props["dependencies"] = orEmpty(dependencies)
	if d.State == deployment.Succeeded {
		props["outputResources"] = orEmpty(outputResources)
		if len(d.Outputs) > 0 {
			props["outputs"] = d.Outputs
		}
	}
	if d.Error != nil {
		props["error"] = d.Error
	}
	return map[string]any{"id": d.ID, "name": d.Name, "type": deployment.Type, "properties": props}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func orEmpty(v []any) []any {
	if v == nil {
		return []any{}
	}
	return v
}

// renderDeploymentOperation is one resource's operation as the
// deployment operations list shows it.
func renderDeploymentOperation(d *engine.Deployment, op deployment.Op) map[string]any {
	state := op.State
	if state == deployment.OpRequested || state == deployment.OpRunning {
		state = deployment.Running
	}
	at := op.Ended
	if at.IsZero() {
		at = op.Started
	}
	props := map[string]any{
		"provisioningOperation": "Create",
		"provisioningState":     state,
		"timestamp":             timestamp(at),
		"duration":              isoDuration(at.Sub(op.Started)),
		"trackingId":            op.ID,
		"targetResource":        map[string]any{"id": op.ResourceID, "resourceType": op.Type, "resourceName": op.Name, "apiVersion": op.APIVersion},
	}
	if op.StatusCode != "" {
		props["statusCode"] = op.StatusCode
	}
	if op.Error != nil {
		props["statusMessage"] = map[string]any{"status": "Failed", "error": op.Error}
	}
	return map[string]any{"id": d.ID + "/operations/" + op.ID, "operationId": op.ID, "properties": props}
}
