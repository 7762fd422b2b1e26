// Command azemu is a local emulator of the Azure Compute control plane.
//
// It is wiring only: flags and their AZEMU_* environment twins, the
// subcommands (serve; bill, clock, faults, reset and vm, clients of a
// running server's own endpoints; version), TLS files, signals and
// graceful shutdown. Everything it wires lives under internal/.
package main
