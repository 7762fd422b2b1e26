package server

import (
	"context"
	"log/slog"

	"github.com/azemu/azemu/internal/engine"
)

// logStateChanges returns the engine listener that writes one info line per
// committed state change of a VM, so an operator sees the fleet move in the
// default log (each request is logged at debug).
func logStateChanges(log *slog.Logger) func(engine.Change) {
	return func(c engine.Change) {
		if !log.Enabled(context.Background(), slog.LevelInfo) {
			return
		}
		for _, ev := range c.Events {
			attrs := []any{"resource", ev.VMID, "provisioning", ev.ProvisioningCode, "power", ev.PowerState}
			if ev.OperationKind != "" {
				attrs = append(attrs, "operation", ev.OperationKind, "operationId", ev.OperationID)
			}
			attrs = append(attrs, "at", ev.At.UTC())
			log.Info("state change", attrs...)
		}
	}
}
