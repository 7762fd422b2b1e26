package armapi

import (
	"github.com/azemu/azemu/internal/armerror"
)

// errorf is an error of a code (its status from armerror's table) about
// target ("" for none).
func errorf(code, target, format string, args ...any) *armerror.Error {
	return armerror.WithTarget(code, target, format, args...)
}

func invalidParameter(target, format string, args ...any) *armerror.Error {
	return errorf(armerror.CodeInvalidParameter, target, format, args...)
}

// asError gives v with e as an error: nil when e is nil (a nil
// *armerror.Error in an error interface is not a nil error).
func asError[T any](v T, e *armerror.Error) (T, error) {
	if e != nil {
		return v, e
	}
	return v, nil
}

func missingParameter(target string) *armerror.Error {
	return invalidParameter(target, "Required parameter '%s' is missing (null).", target)
}
