package armapi

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/azemu/azemu/internal/engine"
)

// apiError is an error as ARM renders it: {"error":{"code","message","target"}}.
type apiError struct {
	Status  int
	Code    string
	Message string
	Target  string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

func errorf(status int, code, target, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Target: target, Message: fmt.Sprintf(format, args...)}
}

func invalidParameter(target, format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, "InvalidParameter", target, format, args...)
}

func missingParameter(target string) *apiError {
	return invalidParameter(target, "Required parameter '%s' is missing (null).", target)
}

// statusByCode maps error codes to HTTP statuses; one table for every layer.
var statusByCode = map[string]int{
	"InvalidParameter":           http.StatusBadRequest,
	"InvalidRequestContent":      http.StatusBadRequest,
	"InvalidRequestFormat":       http.StatusBadRequest,
	"MissingApiVersionParameter": http.StatusBadRequest,
	"InvalidApiVersionParameter": http.StatusBadRequest,
	"InvalidResourceName":        http.StatusBadRequest,
	"InvalidSubscriptionId":      http.StatusBadRequest,
	"AuthenticationFailed":       http.StatusUnauthorized,
	"ResourceNotFound":           http.StatusNotFound,
	"ParentResourceNotFound":     http.StatusNotFound,
	"ResourceGroupNotFound":      http.StatusNotFound,
	"NotFound":                   http.StatusNotFound,
	"MethodNotAllowed":           http.StatusMethodNotAllowed,
	"OperationNotAllowed":        http.StatusConflict,
	"OperationPreempted":         http.StatusConflict,
	"Conflict":                   http.StatusConflict,
	"ResourceGroupBeingDeleted":  http.StatusConflict,
	"InvalidResourceLocation":    http.StatusConflict,
	"PropertyChangeNotAllowed":   http.StatusConflict,
	engine.CodeNotManualClock:    http.StatusConflict,
	"PreconditionFailed":         http.StatusPreconditionFailed,
	"RequestEntityTooLarge":      http.StatusRequestEntityTooLarge,
	"TooManyRequests":            http.StatusTooManyRequests,
	engine.CodeShuttingDown:      http.StatusServiceUnavailable,
	"InternalServerError":        http.StatusInternalServerError,
	"UnsupportedMediaType":       http.StatusUnsupportedMediaType,

	// Resource Manager's code for a resource group PUT in another location
	// (the engine should return it, see TestResourceGroupLocationConflict;
	// unlisted, it would be rendered as a 500).
	"InvalidResourceGroupLocation": http.StatusConflict,
}

func statusFor(code string) int {
	if s, ok := statusByCode[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// toAPIError turns any error into what the client sees. Errors that are not
// the engine's or ours are internal: the client gets a generic message with
// the request ID, the log gets the details.
func toAPIError(err error) (*apiError, bool) {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae, true
	}
	var ee *engine.Error
	if errors.As(err, &ee) {
		return &apiError{Status: statusFor(ee.Code), Code: ee.Code, Message: ee.Message, Target: ee.Target}, true
	}
	return &apiError{Status: http.StatusInternalServerError, Code: "InternalServerError",
		Message: "The server encountered an internal error. Please retry the request."}, false
}
