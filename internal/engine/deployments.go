package engine

import (
	"sort"
	"strings"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/kinds/deployment"
	"github.com/azemu/azemu/internal/kinds/group"
	"github.com/azemu/azemu/internal/kinds/resource"
)

// Deployment is a template deployment.
type Deployment = deployment.Deployment

// DeploymentType is the ARM type of deployments.
const DeploymentType = deployment.Type

// GetDeployment returns one deployment, or the ARM not-found error.
func (e *Engine) GetDeployment(sub, rg, name string) (*Deployment, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if d, ok := e.res[DeploymentType][deployment.Key(deployment.ID(sub, rg, name))]; ok {
		return d.(*Deployment), nil
	}
	if _, ok := e.groups[groupKey(sub, rg)]; !ok {
		return nil, notFoundGroup(rg)
	}
	return nil, deployment.NotFound(name)
}

// Deployments lists the deployments of a group (of every group when sub
// is empty; only the running ones when activeOnly), in ID order.
func (e *Engine) Deployments(sub, rg string, activeOnly bool) []*Deployment {
	e.mu.RLock()
	defer e.mu.RUnlock()
	prefix := ""
	if sub != "" {
		prefix = armid.Fold(armid.ResourceGroupID(sub, rg)) + "/"
	}
	var out []*Deployment
	for k, s := range e.res[DeploymentType] {
		d := s.(*Deployment)
		if strings.HasPrefix(k, prefix) && (!activeOnly || d.Active()) {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return deployment.Key(out[i].ID) < deployment.Key(out[j].ID) })
	return out
}

// deploymentVerbs are the deployment kind's decisions
// (internal/kinds/deployment): a client's put, delete and cancel, the
// steps of a run, and its removal with its group.
func deploymentVerbs() map[string]decision {
	verbs := map[string]decision{
		VerbPut: putting(func(t *tx, old *Deployment, at place, a deployment.StartArgs, env resource.Env) (string, resource.Effects, error) {
			meta := resource.Meta{ID: deployment.ID(at.sub, at.rg, at.name), SubscriptionID: at.sub, ResourceGroup: at.rg, Name: at.name}
			d, eff, err := deployment.Start(old, meta, a.Spec, a.Planned, a.CorrelationID, env)
			if err != nil {
				return "", eff, err
			}
			return d.OperationID, eff, nil
		}),
		VerbDelete: func(t *tx, target resource.State, c resource.Command, env resource.Env) (string, resource.Effects, error) {
			eff, err := deployment.Delete(target.(*Deployment))
			return "", eff, err
		},
		deployment.VerbCancel: func(t *tx, target resource.State, c resource.Command, env resource.Env) (string, resource.Effects, error) {
			_, eff, err := deployment.Cancel(target.(*Deployment), env)
			return "", eff, err
		},
		group.VerbRemove: func(t *tx, target resource.State, c resource.Command, env resource.Env) (string, resource.Effects, error) {
			return "", deployment.Remove(target.(*Deployment), env), nil
		},
	}
	for _, verb := range []string{deployment.VerbRequest, deployment.VerbProvisioning, deployment.VerbSettle, deployment.VerbFinish, deployment.VerbFail} {
		verbs[verb] = taking(func(t *tx, target resource.State, c resource.Command, s deployment.Step, env resource.Env) (string, resource.Effects, error) {
			_, eff, err := deployment.Apply(target.(*Deployment), verb, s, env)
			return "", eff, err
		})
	}
	return verbs
}
