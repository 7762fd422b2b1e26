// Package store defines the durable state of the emulator and the contract
// every storage backend meets.
//
// The store owns what must survive a restart: the subscriptions seen so far,
// resource groups, virtual machines (the model as the client wrote it plus
// the engine-owned state, kept as opaque JSON so the store never interprets a
// plan), the append-only history of state changes that billing meters from,
// and the asynchronous operations' status records.
//
// A Change is the unit of durability: the engine builds one per state change
// and Apply commits it whole or not at all, so memory and disk never diverge
// by half a change. Optimistic VM versions turn a lost race into ErrConflict
// instead of a silent overwrite.
//
// The store sits below everything else: it must not import net/http or any
// package of internal/engine, internal/armapi or cmd, so that the engine and
// the API layer depend on it and never the other way round. Backends live in
// subpackages (sqlite), and storetest holds the conformance suite they share.
package store
