package armapi

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/lifecycle"
	"github.com/azemu/azemu/internal/store"
)

// HistoryEvent is one state change as /_azemu/vms/{id}/history shows it
// (and azemu vm history reads it).
type HistoryEvent struct {
	Seq               int64           `json:"seq"`
	Time              time.Time       `json:"time"`
	ProvisioningState string          `json:"provisioningState"`
	Code              string          `json:"code,omitempty"`
	PowerState        string          `json:"powerState,omitempty"`
	Billed            bool            `json:"billed"` // compute is charged from Time on
	OperationID       string          `json:"operationId,omitempty"`
	Operation         string          `json:"operation,omitempty"`
	Detail            json.RawMessage `json:"detail,omitempty"`
}

// vmHistory serves GET /_azemu/vms/{ARM ID of a VM}/history: the VM's state
// history, oldest first, also after the VM is deleted.
func (s *Server) vmHistory(r *request) (reply, error) {
	raw := "/" + strings.Join(r.segs[2:len(r.segs)-1], "/")
	id, err := armid.Parse(raw)
	if err != nil || !strings.EqualFold(id.Type(), "Microsoft.Compute/virtualMachines") {
		return reply{}, invalidParameter("id", "'%s' is not the ID of a virtual machine.", raw)
	}
	value := []HistoryEvent{}
	err = s.eng.History(r.Context(), id.String(), time.Time{}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), func(e store.Event) error {
		value = append(value, HistoryEvent{Seq: e.Seq, Time: e.At.UTC(), ProvisioningState: e.ProvisioningState, Code: e.ProvisioningCode,
			PowerState: e.PowerState, Billed: lifecycle.Power(e.PowerState).Billed(), OperationID: e.OperationID, Operation: e.OperationKind, Detail: e.Detail})
		return nil
	})
	if err != nil {
		return reply{}, err
	}
	return ok(map[string]any{"value": value})
}
