// Package clock owns the emulator's notion of time. Everything that stamps a
// resource or waits for a lifecycle step asks a Clock instead of calling
// time.Now, so tests and deterministic runs can substitute a Manual clock
// that only moves when told to.
//
// Real is the wall clock, in UTC because ARM reports UTC timestamps. Manual
// starts at a fixed instant (DefaultManualStart unless configured) and fires
// its timers synchronously inside Advance and Set, which keeps tests free of
// sleeps: once Advance returns, every timer it made due has its value
// waiting in its channel.
//
// The package is pure apart from Real: it does no I/O and imports only the
// standard library.
package clock
