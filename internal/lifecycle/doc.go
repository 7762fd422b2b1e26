// Package lifecycle is the pure core of the VM state model: the three state
// facets (provisioning, OS provisioning, power), every operation's plan with
// its realistic durations, the rules that refuse or preempt operations with
// Azure's codes and message templates, and the exact instance-view status
// strings.
//
// It owns decisions, not effects: every function takes the time and IDs it
// needs and returns the outcome as data. It imports only the standard
// library, armerror and jsonwire (which writes and reads its stored state
// by hand); it must not import net/http or database/sql, nor call time.Now
// (a test enforces this). The engine runs its plans over time, the store
// keeps them, and the ARM layer renders them.
package lifecycle
