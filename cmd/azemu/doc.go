// Command azemu is a local emulator of the Azure Compute control plane.
//
// It is wiring only: flags and their AZEMU_* environment twins, the
// subcommands (serve, bill, version), TLS files, signals and graceful
// shutdown. Everything it wires lives under internal/.
package main
