// Package storetest is the conformance suite that every store.Store backend
// must pass. A backend's own test calls Run; what only a backend can check,
// such as durability across a reopen, stays in that backend's tests.
//
// It imports only the store package and the standard library's testing.
package storetest
