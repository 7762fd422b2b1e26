package armapi_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/armapi"
	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/enginetest"
	"github.com/azemu/azemu/internal/kinds/deployment"
)

const twoDisks = `{"contentVersion": "1.0.0.0", "resources": [
  {"type": "Microsoft.Compute/disks", "apiVersion": "2024-03-02", "name": "[concat('d', copyIndex())]", "location": "westeurope",
   "copy": {"name": "disks", "count": 2}, "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 32}}],
 "outputs": {"size": {"type": "int", "value": "[reference(resourceId('Microsoft.Compute/disks', 'd0')).diskSizeGB]"}}}`

func serveOnce(t *testing.T, api *armapi.Server, method, path string, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, "https://localhost"+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer test")
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	api.Handler().ServeHTTP(rec, req)
	return rec
}

// The window a crash can fall in: the deployment recorded that it sends a
// resource's request, and the process stopped before or after sending it.
// After the restart, the resource that was never sent is sent, the one
// that was is not sent again, and the deployment ends with its outputs.
func TestDeploymentResumesWhatItWasSending(t *testing.T) {
	rig := enginetest.New(t, time.Time{}, nil)
	ctx := context.Background()
	if _, err := rig.Engine.Do(ctx, engine.Command{ID: armid.ResourceGroupID(sub, "rg"), Verb: engine.VerbPut,
		Input: engine.GroupPut{Location: "westeurope"}}); err != nil {
		t.Fatal(err)
	}
	api := armapi.New(armapi.Config{Engine: rig.Engine, Logger: slog.New(slog.DiscardHandler)})
	diskID := func(name string) string {
		return "/subscriptions/" + sub + "/resourceGroups/rg/providers/Microsoft.Compute/disks/" + name
	}
	planned := []deployment.Planned{
		{ResourceID: diskID("d0"), Type: "Microsoft.Compute/disks", Name: "d0", APIVersion: "2024-03-02"},
		{ResourceID: diskID("d1"), Type: "Microsoft.Compute/disks", Name: "d1", APIVersion: "2024-03-02"},
	}
	id := deployment.ID(sub, "rg", "main")
	res, err := rig.Engine.Do(ctx, engine.Command{ID: id, Verb: engine.VerbPut, Input: deployment.StartArgs{
		Spec: deployment.Spec{Template: json.RawMessage(twoDisks), Mode: "Incremental"}, Planned: planned, CorrelationID: "corr"}})
	if err != nil {
		t.Fatal(err)
	}
	run := res.State.(*engine.Deployment).OperationID
	for i := range planned {
		if _, err := rig.Engine.Do(ctx, engine.Command{ID: id, Verb: deployment.VerbRequest, Input: deployment.Step{Run: run, Index: i}}); err != nil {
			t.Fatal(err)
		}
	}
	// d1's request went out before the crash; d0's did not.
	if rec := serveOnce(t, api, http.MethodPut, diskID("d1")+"?api-version=2024-03-02",
		`{"location": "westeurope", "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 32}}`); rec.Code != http.StatusOK {
		t.Fatalf("d1: %d %s", rec.Code, rec.Body)
	}

	restarted := rig.Reopen(t)
	api = armapi.New(armapi.Config{Engine: restarted, Logger: slog.New(slog.DiscardHandler)})
	api.ResumeDeployments(ctx)
	d, err := restarted.GetDeployment(sub, "rg", "main")
	if err != nil {
		t.Fatal(err)
	}
	if d.State != deployment.Succeeded || string(d.Outputs) != `{"size":{"type":"Int","value":32}}` {
		t.Fatalf("after the restart: %s, outputs %s, error %+v", d.State, d.Outputs, d.Error)
	}
	for name, version := range map[string]string{"d0": `"1"`, "d1": `"1"`} {
		rec := serveOnce(t, api, http.MethodGet, diskID(name)+"?api-version=2024-03-02", "")
		if rec.Code != http.StatusOK || rec.Header().Get("ETag") != version {
			t.Errorf("%s: HTTP %d, ETag %s (a second PUT would make it \"2\")", name, rec.Code, rec.Header().Get("ETag"))
		}
	}
	// The group's deletion takes its deployments with it.
	if _, err := restarted.Do(ctx, engine.Command{ID: armid.ResourceGroupID(sub, "rg"), Verb: engine.VerbDelete}); err != nil {
		t.Fatal(err)
	}
	if left := restarted.Deployments(sub, "rg", false); len(left) != 0 {
		t.Fatalf("deployments left after the group's deletion: %v", left)
	}
}
