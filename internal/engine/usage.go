package engine

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/azemu/azemu/internal/billing"
	"github.com/azemu/azemu/internal/store"
)

// Meter streams the whole history up to `to` into a billing meter over
// [from, to): events before the window set each resource's state at its
// start. Memory grows with the number of resources, not with the history.
func (e *Engine) Meter(ctx context.Context, from, to time.Time, g billing.Granularity) (*billing.Meter, error) {
	if err := e.CheckBillWindow(from); err != nil {
		return nil, err
	}
	m := billing.NewMeter(from, to, g)
	err := e.cfg.Store.History(ctx, "", time.Time{}, to, func(ev store.Event) error {
		be, ok := BillingEvent(ev)
		if !ok {
			return nil
		}
		if err := m.Add(be); err != nil {
			// One resource's bad entry must not hide the fleet's bill.
			if errors.Is(err, billing.ErrOutOfOrder) || errors.Is(err, billing.ErrInvalidEvent) {
				e.log.Warn("history event skipped by the meter", "resource", ev.VMID, "seq", ev.Seq, "err", err)
				return nil
			}
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// A compaction meanwhile may have taken history the window needs.
	if err := e.CheckBillWindow(from); err != nil {
		return nil, err
	}
	return m, nil
}

// BillingEvent turns a history event into the meter's input; ok is false
// for events that do not bill.
func BillingEvent(ev store.Event) (billing.Event, bool) {
	sub, rg, isDisk := splitResourceID(ev.VMID)
	be := billing.Event{ResourceID: ev.VMID, At: ev.At, Deleted: ev.ProvisioningState == "Deleted"}
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
