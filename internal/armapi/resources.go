package armapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/azemu/azemu/internal/armerror"
	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/lifecycle"
	"github.com/azemu/azemu/internal/store"
)

func subscriptionBody(id, tenant string) map[string]any {
	return map[string]any{
		"id":                   "/subscriptions/" + id,
		"subscriptionId":       id,
		"tenantId":             tenant,
		"displayName":          "azemu subscription",
		"state":                "Enabled",
		"authorizationSource":  "RoleBased",
		"managedByTenants":     []any{},
		"subscriptionPolicies": map[string]any{"locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01", "spendingLimit": "Off"},
	}
}

// listSubscriptions lists the subscriptions the caller may see: in the
// strict mode those it holds a role in, whether or not anything was created
// there yet; in the open mode every subscription used, and the default one.
func (s *Server) listSubscriptions(r *request) {
	var ids []string
	if p := r.caller.Principal; p != nil {
		ids = p.Subscriptions()
	} else {
		seen := map[string]bool{}
		if s.defSub != "" {
			ids, seen[s.defSub] = append(ids, s.defSub), true
		}
		for _, sub := range s.eng.Subscriptions() {
			if !seen[sub.ID] {
				ids = append(ids, sub.ID)
			}
		}
	}
	value := make([]any, 0, len(ids))
	for _, id := range ids {
		value = append(value, subscriptionBody(id, r.caller.TenantID))
	}
	s.writeJSON(r, http.StatusOK, map[string]any{"value": value, "count": map[string]any{"type": "Total", "value": len(value)}})
}

func (s *Server) getSubscription(r *request, sub string) {
	s.writeJSON(r, http.StatusOK, subscriptionBody(strings.ToLower(sub), r.caller.TenantID))
}

func groupBody(g *engine.Group) map[string]any {
	body := map[string]any{
		"id":         armid.ResourceGroupID(g.SubscriptionID, g.Name),
		"name":       g.Name,
		"type":       "Microsoft.Resources/resourceGroups",
		"location":   armLocation(g.Location), // groups stored before locations were normalised
		"properties": map[string]any{"provisioningState": g.ProvisioningState()},
	}
	if len(g.Tags) > 0 {
		body["tags"] = g.Tags
	}
	if g.ManagedBy != "" {
		body["managedBy"] = g.ManagedBy
	}
	return body
}

type groupInput struct {
	Location  string             `json:"location"`
	Tags      map[string]*string `json:"tags"`
	ManagedBy string             `json:"managedBy"`
}

func tagsOf(in map[string]*string) map[string]string {
	if in == nil {
		return nil
	}
	out := map[string]string{}
	for k, v := range in {
		if v != nil {
			out[k] = *v
		}
	}
	return out
}

func (s *Server) putGroup(r *request, sub, name string) {
	if err := armid.ValidName("resourceGroups", name); err != nil {
		s.writeError(r, errorf("InvalidResourceGroupName", "", "Resource group name '%s' is invalid: %v.", name, err))
		return
	}
	var in groupInput
	if !s.readJSON(r, &in) {
		return
	}
	if strings.TrimSpace(in.Location) == "" {
		s.writeError(r, missingParameter("location"))
		return
	}
	// Resource Manager keeps and returns a location's name ("westeurope"),
	// whatever form the client sent ("West Europe"), as for VMs.
	res, err := s.eng.Do(r.Context(), engine.Command{ID: armid.ResourceGroupID(sub, name), Verb: engine.VerbPut,
		Input: engine.GroupPut{Location: armLocation(in.Location), Tags: tagsOf(in.Tags), ManagedBy: in.ManagedBy}})
	if err != nil {
		s.writeErr(r, err)
		return
	}
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
	}
	s.writeJSON(r, status, groupBody(res.State.(*engine.Group)))
}

func (s *Server) patchGroup(r *request, sub, name string) {
	g, ok := s.eng.Group(sub, name)
	if !ok {
		s.writeErr(r, armerror.ResourceGroupNotFound(name))
		return
	}
	var in groupInput
	if !s.readJSON(r, &in) {
		return
	}
	tags := g.Tags
	if in.Tags != nil {
		tags = tagsOf(in.Tags)
	}
	managedBy := g.ManagedBy
	if in.ManagedBy != "" {
		managedBy = in.ManagedBy
	}
	res, err := s.eng.Do(r.Context(), engine.Command{ID: armid.ResourceGroupID(sub, g.Name), Verb: engine.VerbPut,
		Input: engine.GroupPut{Location: g.Location, Tags: tags, ManagedBy: managedBy}})
	if err != nil {
		s.writeErr(r, err)
		return
	}
	s.writeJSON(r, http.StatusOK, groupBody(res.State.(*engine.Group)))
}

func (s *Server) getGroup(r *request, sub, name string) {
	g, ok := s.eng.Group(sub, name)
	if r.Method == http.MethodHead {
		if ok {
			r.w.WriteHeader(http.StatusNoContent)
		} else {
			r.w.WriteHeader(http.StatusNotFound)
		}
		return
	}
	if !ok {
		s.writeErr(r, armerror.ResourceGroupNotFound(name))
		return
	}
	s.writeJSON(r, http.StatusOK, groupBody(g))
}

func (s *Server) listGroups(r *request, sub string) {
	groups := s.eng.Groups(sub)
	after := r.URL.Query().Get("$skiptoken")
	var value []any
	next := ""
	for _, g := range groups {
		key := strings.ToLower(g.Name)
		if after != "" && key <= after || !r.readable(armid.ResourceGroupID(sub, g.Name)) {
			continue
		}
		if len(value) == s.pageSize {
			next = strings.ToLower(value[len(value)-1].(map[string]any)["name"].(string))
			break
		}
		value = append(value, groupBody(g))
	}
	s.writeList(r, value, next)
}

func (s *Server) deleteGroup(r *request, sub, name string) {
	if _, ok := s.eng.Group(sub, name); !ok {
		// ARM answers a delete of a missing group with 404.
		s.writeErr(r, armerror.ResourceGroupNotFound(name))
		return
	}
	res, err := s.eng.Do(r.Context(), engine.Command{ID: armid.ResourceGroupID(sub, name), Verb: engine.VerbDelete})
	if err == nil && !res.Found {
		err = armerror.ResourceGroupNotFound(name)
	}
	if err != nil {
		s.writeErr(r, err)
		return
	}
	op := res.Operation
	// Resource Manager tracks group deletion with a Location header only.
	loc := fmt.Sprintf("%s/subscriptions/%s/operationresults/%s?api-version=%s", r.base, strings.ToLower(sub), op.ID, url.QueryEscape(r.apiVer))
	r.w.Header().Set("Location", loc)
	r.w.Header().Set("Retry-After", retryAfter)
	r.w.WriteHeader(http.StatusAccepted)
}

// writeList renders a page with an absolute nextLink carrying the query
// (api-version included) and the page token.
func (s *Server) writeList(r *request, value []any, next string) {
	if value == nil {
		value = []any{}
	}
	body := map[string]any{"value": value}
	if next != "" {
		body["nextLink"] = nextLink(r, next)
	}
	s.writeJSON(r, http.StatusOK, body)
}

// retryAfter is the polling interval told to clients, in whole seconds.
// At least 1: the Azure CLI waits 30 s when it is missing or 0 (D).
const retryAfter = "1"

// operationURL is the Azure-AsyncOperation URL of op.
func (s *Server) operationURL(r *request, op store.Operation) string {
	loc := op.Location
	if loc == "" {
		loc = "global"
	}
	return fmt.Sprintf("%s/subscriptions/%s/providers/Microsoft.Compute/locations/%s/operations/%s?api-version=%s",
		r.base, op.SubscriptionID, loc, op.ID, url.QueryEscape(r.apiVer))
}

// setLRO sets the headers of a long-running operation's first answer.
// writePut answers a PUT that started an operation: 201 for a new
// resource, else 200, with the operation's headers and the ETag (if any).
func (s *Server) writePut(r *request, op store.Operation, etag string, created bool, body any) {
	s.setLRO(r, op, false)
	if etag != "" {
		r.w.Header().Set("ETag", etag)
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	s.writeJSON(r, status, body)
}

func (s *Server) setLRO(r *request, op store.Operation, withLocation bool) {
	async := s.operationURL(r, op)
	h := r.w.Header()
	h.Set("Azure-AsyncOperation", async)
	if withLocation {
		h.Set("Location", async+"&monitor=true")
	}
	h.Set("Retry-After", retryAfter)
	// Compute announces that it notifies Resource Manager of the end.
	h.Set("Azure-AsyncNotification", "Enabled")
	noCache(h)
}

func operationStatusBody(op store.Operation) map[string]any {
	body := map[string]any{
		"name":      op.ID,
		"status":    op.Status,
		"startTime": lifecycle.FormatTime(op.StartTime),
	}
	if op.Done() {
		body["endTime"] = lifecycle.FormatTime(op.EndTime)
	}
	if len(op.Error) > 0 {
		body["error"] = json.RawMessage(op.Error)
	}
	if op.Kind == string(lifecycle.RunCommand) && op.Status == engine.StatusSucceeded {
		body["properties"] = map[string]any{"output": runCommandResult()}
	}
	return body
}

// runCommandResult is the result of a script run in the guest: the emulator
// runs nothing, so the output is empty.
func runCommandResult() map[string]any {
	return map[string]any{"value": []any{map[string]any{
		"code":          "ProvisioningState/succeeded",
		"level":         "Info",
		"displayStatus": "Provisioning succeeded",
		"message":       "Enable succeeded: \n[stdout]\n\n[stderr]\n",
	}}}
}

func (s *Server) lookupOperation(r *request, id string) (store.Operation, bool) {
	op, err := s.eng.Operation(r.Context(), id)
	if err != nil {
		s.writeErr(r, err)
		return op, false
	}
	if !strings.EqualFold(op.SubscriptionID, r.segs[1]) {
		s.writeErr(r, armerror.OperationNotFound(id))
		return op, false
	}
	return op, true
}

// getOperation serves the Azure-AsyncOperation status resource, and with
// monitor=true the Location resource: 202 while running, then the result.
func (s *Server) getOperation(r *request, id string) {
	op, ok := s.lookupOperation(r, id)
	if !ok {
		return
	}
	if !strings.EqualFold(r.URL.Query().Get("monitor"), "true") {
		if !op.Done() {
			r.w.Header().Set("Retry-After", retryAfter)
		}
		s.writeJSON(r, http.StatusOK, operationStatusBody(op))
		return
	}
	s.writeMonitor(r, op, r.base+r.URL.RequestURI())
}

// getOperationResult is the Location resource of a resource-group delete.
func (s *Server) getOperationResult(r *request, id string) {
	op, ok := s.lookupOperation(r, id)
	if !ok {
		return
	}
	s.writeMonitor(r, op, r.base+r.URL.RequestURI())
}

func (s *Server) writeMonitor(r *request, op store.Operation, self string) {
	switch op.Status {
	case engine.StatusInProgress:
		r.w.Header().Set("Location", self)
		r.w.Header().Set("Retry-After", retryAfter)
		noCache(r.w.Header())
		r.w.WriteHeader(http.StatusAccepted)
	case engine.StatusSucceeded:
		if op.Kind == string(lifecycle.RunCommand) {
			s.writeJSON(r, http.StatusOK, runCommandResult())
			return
		}
		r.w.WriteHeader(http.StatusOK)
	default:
		var oe engine.OperationError
		_ = json.Unmarshal(op.Error, &oe)
		// An operation's own failure (AllocationFailed, OSProvisioningTimedOut,
		// ...) is a conflict with the resource's state, not a server fault:
		// a 5xx would make clients retry the poll instead of reporting it.
		e := &armerror.Error{Code: oe.Code, Message: oe.Message}
		if !armerror.Known(oe.Code) {
			e.Status = http.StatusConflict
		}
		s.writeError(r, e)
	}
}

// ctxWithoutCancel keeps a write going when the client hangs up mid-request:
// the change is committed whole or not at all, never cut.
func ctxWithoutCancel(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }
