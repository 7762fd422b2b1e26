// Package engine runs the lifecycle over time. It keeps the whole fleet in
// memory for reads, turns each request into a lifecycle decision, commits
// every state change (VM row, history events, operation records) to the
// store in one transaction before it is visible, and fires plan steps as
// they fall due: from a timer on the real clock, or synchronously while the
// manual clock is advanced. At start it reloads the store and resumes every
// plan that was in flight.
//
// It imports lifecycle, store, armid and clock; it must not import net/http
// or the ARM layer (armapi), which wraps it.
package engine
