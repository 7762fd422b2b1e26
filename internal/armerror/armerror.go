// Package armerror is azemu's one error vocabulary: the error type every
// layer returns to a client (the lifecycle's refusals, the engine's
// errors, the ARM API's and the dashboard's), Azure Resource Manager's
// error codes, the one table from a code to its HTTP status, and the JSON
// envelope ARM wraps an error in.
//
// It is pure: standard library only, no I/O. The HTTP layers write what
// Envelope gives them.
package armerror

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Error is an error as Azure Resource Manager answers it.
type Error struct {
	Code    string
	Message string
	Target  string
	// Status is the HTTP status when it is not the code's (see StatusOf);
	// zero means the code's.
	Status int
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// HTTPStatus is the status the error is answered with.
func (e *Error) HTTPStatus() int {
	if e.Status != 0 {
		return e.Status
	}
	return StatusOf(e.Code)
}

// New is an error of a code, with the status the table gives it.
func New(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WithTarget is an error of a code about one parameter or property.
func WithTarget(code, target, format string, args ...any) *Error {
	return &Error{Code: code, Target: target, Message: fmt.Sprintf(format, args...)}
}

// Resource Manager's error codes that azemu answers with.
const (
	CodeAuthenticationFailed         = "AuthenticationFailed"
	CodeAuthorizationFailed          = "AuthorizationFailed"
	CodeBadRequest                   = "BadRequest"
	CodeConflict                     = "Conflict"
	CodeInternalServerError          = "InternalServerError"
	CodeInvalidApiVersionParameter   = "InvalidApiVersionParameter"
	CodeInvalidParameter             = "InvalidParameter"
	CodeInvalidFilterInQueryString   = "InvalidFilterInQueryString"
	CodeInvalidRequestContent        = "InvalidRequestContent"
	CodeInvalidRequestFormat         = "InvalidRequestFormat"
	CodeInvalidResourceGroupLocation = "InvalidResourceGroupLocation"
	CodeInvalidResourceGroupName     = "InvalidResourceGroupName"
	CodeInvalidResourceLocation      = "InvalidResourceLocation"
	CodeInvalidResourceName          = "InvalidResourceName"
	CodeInvalidSubscriptionID        = "InvalidSubscriptionId"
	CodeMethodNotAllowed             = "MethodNotAllowed"
	CodeMissingApiVersionParameter   = "MissingApiVersionParameter"
	CodeNoRegisteredProviderFound    = "NoRegisteredProviderFound"
	CodeNotFound                     = "NotFound"
	CodeOperationNotAllowed          = "OperationNotAllowed"
	CodeOperationPreempted           = "OperationPreempted"
	CodeParentResourceNotFound       = "ParentResourceNotFound"
	CodePreconditionFailed           = "PreconditionFailed"
	CodePropertyChangeNotAllowed     = "PropertyChangeNotAllowed"
	CodeRequestEntityTooLarge        = "RequestEntityTooLarge"
	CodeResourceGroupBeingDeleted    = "ResourceGroupBeingDeleted"
	CodeResourceGroupNotFound        = "ResourceGroupNotFound"
	CodeResourceNotFound             = "ResourceNotFound"
	CodeServiceUnavailable           = "ServiceUnavailable"
	CodeSubscriptionNotFound         = "SubscriptionNotFound"
	CodeSubscriptionThrottled        = "SubscriptionRequestsThrottled"
	CodeTooManyRequests              = "TooManyRequests"
	CodeUnsupportedMediaType         = "UnsupportedMediaType"
	CodeInvalidOperation             = "InvalidOperation"
	CodeInvalidTags                  = "InvalidTags"
	CodeInvalidTagName               = "InvalidTagName"
	CodeInvalidTagNameCharacters     = "InvalidTagNameCharacters"
	CodeInvalidTagValueLength        = "InvalidTagValueLength"
	CodeLocationNotAvailableForGroup = "LocationNotAvailableForResourceGroup"
	CodeLocationNotAvailableForType  = "LocationNotAvailableForResourceType"
	// azemu's own: a clock control that needs the manual clock, and a
	// signed-in dashboard change without its session's CSRF token.
	CodeClockNotManual   = "ClockNotManual"
	CodeInvalidCsrfToken = "InvalidCsrfToken"
	// A change not saved because the disk holding azemu's data is full
	// (HTTP 507, as WebDAV names it).
	CodeInsufficientStorage = "InsufficientStorage"
	// A change the disk holding azemu's data did not take in time (HTTP
	// 503: retry later).
	CodeStoreWriteTimeout = "StoreWriteTimeout"
)

// HTTP statuses, spelled out so that the package needs no net/http.
const (
	statusBadRequest          = 400
	statusUnauthorized        = 401
	statusForbidden           = 403
	statusNotFound            = 404
	statusMethodNotAllowed    = 405
	statusConflict            = 409
	statusPreconditionFailed  = 412
	statusEntityTooLarge      = 413
	statusUnsupportedMedia    = 415
	statusTooManyRequests     = 429
	statusInternalServerError = 500
	statusServiceUnavailable  = 503
	statusInsufficientStorage = 507
)

// statusByCode is the one table from an error code to its HTTP status.
var statusByCode = map[string]int{
	CodeBadRequest:                   statusBadRequest,
	CodeInvalidParameter:             statusBadRequest,
	CodeInvalidFilterInQueryString:   statusBadRequest,
	CodeInvalidRequestContent:        statusBadRequest,
	CodeInvalidRequestFormat:         statusBadRequest,
	CodeMissingApiVersionParameter:   statusBadRequest,
	CodeInvalidApiVersionParameter:   statusBadRequest,
	CodeInvalidResourceName:          statusBadRequest,
	CodeInvalidResourceGroupName:     statusBadRequest,
	CodeInvalidSubscriptionID:        statusBadRequest,
	CodeNoRegisteredProviderFound:    statusBadRequest,
	CodeInvalidOperation:             statusBadRequest,
	CodeInvalidTags:                  statusBadRequest,
	CodeInvalidTagName:               statusBadRequest,
	CodeInvalidTagNameCharacters:     statusBadRequest,
	CodeInvalidTagValueLength:        statusBadRequest,
	CodeLocationNotAvailableForGroup: statusBadRequest,
	CodeLocationNotAvailableForType:  statusBadRequest,
	CodeAuthenticationFailed:         statusUnauthorized,
	CodeAuthorizationFailed:          statusForbidden,
	CodeInvalidCsrfToken:             statusForbidden,
	CodeResourceNotFound:             statusNotFound,
	CodeParentResourceNotFound:       statusNotFound,
	CodeResourceGroupNotFound:        statusNotFound,
	CodeSubscriptionNotFound:         statusNotFound,
	CodeNotFound:                     statusNotFound,
	CodeMethodNotAllowed:             statusMethodNotAllowed,
	CodeOperationNotAllowed:          statusConflict,
	CodeOperationPreempted:           statusConflict,
	CodeConflict:                     statusConflict,
	CodeResourceGroupBeingDeleted:    statusConflict,
	CodeInvalidResourceLocation:      statusConflict,
	// Resource Manager's answer to a resource group PUT in another location.
	CodeInvalidResourceGroupLocation: statusConflict,
	CodePropertyChangeNotAllowed:     statusConflict,
	CodeClockNotManual:               statusConflict,
	CodePreconditionFailed:           statusPreconditionFailed,
	CodeRequestEntityTooLarge:        statusEntityTooLarge,
	CodeUnsupportedMediaType:         statusUnsupportedMedia,
	CodeTooManyRequests:              statusTooManyRequests,
	CodeSubscriptionThrottled:        statusTooManyRequests,
	CodeInternalServerError:          statusInternalServerError,
	CodeServiceUnavailable:           statusServiceUnavailable,
	CodeInsufficientStorage:          statusInsufficientStorage,
	CodeStoreWriteTimeout:            statusServiceUnavailable,
}

// StatusOf gives the HTTP status of an error code; an unknown code is a
// server error.
func StatusOf(code string) int {
	if s, ok := statusByCode[code]; ok {
		return s
	}
	return statusInternalServerError
}

// HasCode reports whether err is (or wraps) an *Error of the code.
func HasCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// Known reports whether the table has a status for the code.
func Known(code string) bool {
	_, ok := statusByCode[code]
	return ok
}

// From gives what a client sees of any error: the *Error it wraps, or, for
// anything else, a generic internal error (known false: the caller logs
// the details, the client never sees them).
func From(err error) (e *Error, known bool) {
	if errors.As(err, &e) {
		return e, true
	}
	return &Error{Code: CodeInternalServerError, Message: "The server encountered an internal error. Please retry the request."}, false
}

// Envelope is the body ARM answers an error with:
// {"error": {"code", "message", "target"}} and a newline.
func (e *Error) Envelope() []byte {
	type body struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Target  string `json:"target,omitempty"`
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // messages quote user input as written
	_ = enc.Encode(map[string]body{"error": {Code: e.Code, Message: e.Message, Target: e.Target}})
	return buf.Bytes()
}

// Common errors, in Azure's words.

// ResourceGroupNotFound is the answer for a resource group that does not exist.
func ResourceGroupNotFound(rg string) *Error {
	return New(CodeResourceGroupNotFound, "Resource group '%s' could not be found.", rg)
}

// ResourceNotFound is the answer for a resource that does not exist, by
// its type (e.g. Microsoft.Compute/virtualMachines) and name.
func ResourceNotFound(typ, rg, name string) *Error {
	return New(CodeResourceNotFound, "The Resource '%s/%s' under resource group '%s' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix", typ, name, rg)
}

// OperationNotFound is the answer for an operation ID nothing knows.
func OperationNotFound(id string) *Error {
	return New(CodeResourceNotFound, "The operation '%s' was not found.", id)
}
