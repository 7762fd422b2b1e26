package armapi

import (
	"strings"

	"github.com/azemu/azemu/internal/engine"
)

// FleetVM is one VM as GET /_azemu/vms shows it (and azemu vm list reads
// it): where it stands now, and whether its compute is billed.
type FleetVM struct {
	ID                string `json:"id"`
	Name              string `json:"name"`
	SubscriptionID    string `json:"subscriptionId"`
	ResourceGroup     string `json:"resourceGroup"`
	Location          string `json:"location"`
	VMSize            string `json:"vmSize"`
	ScaleSet          string `json:"scaleSet,omitempty"`
	ProvisioningState string `json:"provisioningState"`
	Code              string `json:"code"`
	PowerState        string `json:"powerState"` // "" before the first one
	Billed            bool   `json:"billed"`
	Operation         string `json:"operation,omitempty"` // the kind of the running plan
}

// fleet serves GET /_azemu/vms[?subscription=&resourceGroup=]: every VM
// (scale set instances included), in ID order, unpaged.
func (s *Server) fleet(r *request) (reply, error) {
	q := r.URL.Query()
	sub, rg := q.Get("subscription"), q.Get("resourceGroup")
	if rg != "" && sub == "" {
		return reply{}, invalidParameter("resourceGroup", "A resource group needs its subscription: add 'subscription'.")
	}
	page, _ := s.eng.ListVMs(func(v *engine.VM) bool {
		return (sub == "" || strings.EqualFold(v.SubscriptionID, sub)) && (rg == "" || strings.EqualFold(v.ResourceGroup, rg))
	}, "", 0)
	value := make([]FleetVM, 0, len(page))
	for _, v := range page {
		st := v.Machine.State
		f := FleetVM{ID: v.ID, Name: v.Name, SubscriptionID: v.SubscriptionID, ResourceGroup: v.ResourceGroup,
			Location: v.Spec.Location, VMSize: v.Spec.VMSize, ScaleSet: v.Spec.ScaleSetID,
			ProvisioningState: string(st.Provisioning), Code: st.ProvisioningCode(), PowerState: string(st.Power), Billed: st.Power.Billed()}
		if run := v.Machine.Run; run != nil {
			f.Operation = string(run.Plan.Kind)
		}
		value = append(value, f)
	}
	return ok(map[string]any{"value": value})
}
