// Package armapi is the Azure Resource Manager surface over HTTPS: routing
// (case-insensitive, answered with canonical casing), the bearer-token and
// api-version checks, ARM's error bodies and request IDs, long-running
// operations (Azure-AsyncOperation, Location, Retry-After, monitor URLs),
// paging with absolute nextLinks, etags, and the validation of request
// bodies as Azure does it. It serves subscriptions, providers, resource
// groups, VMs, extensions, disks, scale sets, Resource Health, the Cost
// Management query, and the emulator's own /_azemu endpoints.
//
// Handlers turn requests into engine calls and engine values into ARM JSON;
// they hold no state of their own beyond the rate limiter. armapi imports
// the engine and the pure packages; it must not import the store's
// backends nor touch the database, and nothing but cmd imports it.
package armapi
