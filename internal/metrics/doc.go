// Package metrics exposes the emulator to Prometheus: requests served and
// their latency, the fleet by power state, operations in progress, and the
// state changes the engine commits. It reads the engine (its Stats and its
// change feed) and never writes to it; it must not import armapi or the
// store.
package metrics
