// Package catalog is what Azure offers rather than what a user made: the
// regions, the VM sizes with their quota families, the marketplace images,
// and the api-versions each resource type answers to. It is data and pure
// look-ups: no I/O, no clock. The ARM layer serves it (locations, vmSizes,
// resource SKUs, usages, the image catalog, provider metadata) and checks
// requests against it.
package catalog
