// Package armid owns the syntax of Azure Resource Manager resource IDs: parsing
// and printing them, the canonical casing of well-known segments, the
// case-insensitive keys the rest of the emulator indexes resources by, and the
// Azure naming rules for the resources it creates.
//
// ARM treats IDs case-insensitively but echoes names as the client first wrote
// them, so the package keeps two notions apart: String gives the canonical
// display form (fixed segments, namespaces and types in ARM's casing, names as
// written) and Key gives the folded form used for lookups: names folded, the
// well-known segments as String spells them, so that the key of an ID with
// lower-case names is the ID. Equal and Key agree: Equal(a, b) holds exactly
// when Key(a) == Key(b).
//
// The package is pure: it imports only the standard library, does no I/O and
// never reads the clock, so it can be used from any layer.
package armid
