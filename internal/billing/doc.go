// Package billing is the pure billing core of azemu: the meter that turns a
// fleet's state history into usage per resource and meter over a time window,
// the parser and index of price sheets in the Azure Retail Prices API format
// (with an embedded default sheet of dated, sourced published prices),
// and the rating of usage into exact costs.
//
// What it owns (DESIGN.md section 3):
//
//   - Which power states bill compute (Starting, Running, Stopping, Stopped)
//     and which do not (none yet, Deallocating, Deallocated, deleted).
//   - How a VM's attributes choose its meter: region, size, OS (Windows with
//     licenseType Windows_Server is Hybrid Benefit and rates as Linux) and
//     priority (Regular, Spot, Low).
//   - How a managed disk's SKU and size choose its tier (rounded up to the
//     next tier size), billed from creation until deletion in every VM power
//     state, prorated from the monthly price over 730 hours.
//   - How a public IP's SKU, tier, allocation method and version choose its
//     meter ("Standard IPv4 Static Public IP"), billed hourly from creation
//     until deletion in every VM power state, except while a dynamic IP has
//     no address (Attrs.IPReleased, as while its VM is deallocated).
//   - Granularity: event instants are floored to the whole second (default)
//     or minute before integrating, so any window split at any instant is
//     exactly additive, in seconds and in cost (costs are big.Rat, computed
//     from the price sheet's decimal text, never rounded).
//   - An unpriced resource is reported as unpriced (Priced false, nil Cost),
//     never as free.
//
// The meter streams: callers feed it history one event at a time and it keeps
// memory proportional to the number of resources, not to the length of the
// history.
//
// The package must stay pure: it imports only the standard library, does no
// I/O of its own (the embedded price sheet is read through embed), never reads
// the clock (time.Now, time.Since, time.Until) and never draws random numbers;
// time and IDs are arguments. internal/archtest enforces this.
package billing
