package store

import "context"

// LoadBatch is how many rows a batch of a load (LoadInBatches) holds at
// most: enough that handing one over costs little beside decoding it, few
// enough that the batches in flight are a small part of a fleet.
const LoadBatch = 1024

// BatchLoader is a Store that hands a load's resources and VMs over in
// batches as it reads them, so that a start never holds every row at once
// and decodes some while it reads others.
type BatchLoader interface {
	// LoadBatches is Load, but hands the resources to resources and then
	// the VMs to vms, each in Load's order, in batches of at most
	// LoadBatch rows, which are the callee's to keep; the snapshot it
	// returns holds neither. An error of resources or vms stops the read
	// and is returned as it was given.
	LoadBatches(ctx context.Context, resources func([]Resource) error, vms func([]VM) error) (Snapshot, error)
}

// BatchRecycler is a BatchLoader that reads its next rows into the memory
// of batches handed back: a callee of LoadBatches done with a batch, that
// keeps neither the slice nor any of its rows' documents (a resource's
// Body, a VM's State), may hand it back, so that a load allocates for the
// batches in flight rather than for every row. What is handed back after
// the load has returned is left to the collector.
type BatchRecycler interface {
	BatchLoader
	RecycleResources([]Resource)
	RecycleVMs([]VM)
}

// LoadInBatches loads s as its LoadBatches does, or, for a store without
// one, with Load, handing Load's resources and VMs over the same way.
func LoadInBatches(ctx context.Context, s Store, resources func([]Resource) error, vms func([]VM) error) (Snapshot, error) {
	if b, ok := s.(BatchLoader); ok {
		return b.LoadBatches(ctx, resources, vms)
	}
	snap, err := s.Load(ctx)
	if err != nil {
		return Snapshot{}, err
	}
	if err := handInBatches(snap.Resources, resources); err != nil {
		return Snapshot{}, err
	}
	if err := handInBatches(snap.VMs, vms); err != nil {
		return Snapshot{}, err
	}
	snap.Resources, snap.VMs = nil, nil
	return snap, nil
}

func handInBatches[T any](rows []T, fn func([]T) error) error {
	for len(rows) > 0 {
		n := min(len(rows), LoadBatch)
		if err := fn(rows[:n:n]); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}
