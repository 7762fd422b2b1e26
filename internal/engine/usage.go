package engine

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/azemu/azemu/internal/billing"
	"github.com/azemu/azemu/internal/store"
)

// Meters meters several windows in one pass over the history up to the
// last window's end: events before a window set each resource's state at
// its start. scope, when not empty, is an ID prefix
// ("/subscriptions/{id}/[resourceGroups/{rg}/]"): other resources are
// skipped before they cost any memory. Memory grows with the number of
// resources, not with the history. The Cost Management query, the
// /_azemu/billing endpoints and azemutest's bill all meter here.
func (e *Engine) Meters(ctx context.Context, wins []billing.Window, g billing.Granularity, scope string) (*billing.Meters, error) {
	ms := billing.NewMeters(wins, g)
	if len(wins) == 0 {
		return ms, nil
	}
	first := wins[0].From
	for _, w := range wins {
		if w.From.Before(first) {
			first = w.From
		}
	}
	if err := e.CheckBillWindow(first); err != nil {
		return nil, err
	}
	err := e.meterHistory(ctx, ms.End(), func(ev store.Event) bool {
		return len(ev.VMID) >= len(scope) && strings.EqualFold(ev.VMID[:len(scope)], scope)
	}, ms.Add)
	if err != nil {
		return nil, err
	}
	// A compaction meanwhile may have taken history the windows need.
	if err := e.CheckBillWindow(first); err != nil {
		return nil, err
	}
	return ms, nil
}

// BillingEvent turns a history event into the meter's input; ok is false
// for events that do not bill.
func BillingEvent(ev store.Event) (billing.Event, bool) {
	sub, rg, isDisk := splitResourceID(ev.VMID)
	be := billing.Event{ResourceID: ev.VMID, At: ev.At, Deleted: ev.ProvisioningState == "Deleted"}
	if isPublicIP(ev.VMID) {
		var d publicIPDetail
		_ = json.Unmarshal(ev.Detail, &d)
		be.Kind = billing.PublicIP
		be.Attrs = billing.Attrs{Location: d.Location, IPSKU: d.SKU, IPTier: d.Tier, IPAllocation: d.Allocation, IPVersion: d.Version,
			IPReleased: d.Allocation == "Dynamic" && d.Address == "", SubscriptionID: sub, ResourceGroup: rg, ParentID: d.VM}
		return be, true
	}
	if isDisk {
		var d diskDetail
		_ = json.Unmarshal(ev.Detail, &d)
		be.Kind = billing.Disk
		be.Attrs = billing.Attrs{Location: d.Location, DiskSKU: d.SKU, DiskSizeGB: d.SizeGB,
			SubscriptionID: sub, ResourceGroup: rg, ParentID: d.ManagedBy}
		return be, true
	}
	var d eventDetail
	_ = json.Unmarshal(ev.Detail, &d)
	be.Kind = billing.VM
	be.PowerState = ev.PowerState
	be.Attrs = billing.Attrs{Location: d.Location, VMSize: d.VMSize, OSType: d.OSType, LicenseType: d.LicenseType,
		Priority: d.Priority, SubscriptionID: sub, ResourceGroup: rg, ParentID: d.ScaleSetID}
	return be, true
}

// isPublicIP reports whether an event's resource is a public IP address:
// a group's, or a Uniform scale set instance's (named under the instance's
// interface).
func isPublicIP(id string) bool {
	const segment = "/publicipaddresses/"
	lower := strings.ToLower(id)
	i := strings.LastIndex(lower, segment)
	return i >= 0 && !strings.Contains(lower[i+len(segment):], "/")
}

// splitResourceID reads the subscription and resource group of an ARM ID
// without a full parse (the meter calls it once per history event), and
// whether it names a managed disk.
func splitResourceID(id string) (sub, rg string, isDisk bool) {
	parts := strings.Split(strings.Trim(id, "/"), "/")
	if len(parts) >= 2 {
		sub = strings.ToLower(parts[1])
	}
	if len(parts) >= 4 {
		rg = parts[3]
	}
	isDisk = len(parts) >= 8 && strings.EqualFold(parts[6], "disks") && strings.EqualFold(parts[5], "Microsoft.Compute")
	return sub, rg, isDisk
}
