// Package authz is PURE: who may do what in azemu's strict mode. It reads
// the principals file (service principals with their Owner, Contributor and
// Reader assignments at subscription or resource-group scope), names the
// Azure RBAC action and scope of an ARM request, and decides. Tokens and
// HTTP live in internal/identity and internal/armapi.
package authz
