package store

import "fmt"

// Visitor hands a read's rows to the caller's function and keeps that
// function's own error apart from the backend's: a read returns the
// caller's error as it was given, and wraps only its own.
type Visitor[T any] struct {
	fn        func(T) error
	callerErr error
}

// Visit starts a read that hands its rows to fn.
func Visit[T any](fn func(T) error) *Visitor[T] { return &Visitor[T]{fn: fn} }

// Pass hands one row to the caller's function and returns its error.
func (v *Visitor[T]) Pass(row T) error {
	v.callerErr = v.fn(row)
	return v.callerErr
}

// Result is what the read returns once the backend has answered err: the
// caller's own error as it gave it, else err prefixed with what (such as
// "sqlite: history"), else nil.
func (v *Visitor[T]) Result(what string, err error) error {
	switch {
	case v.callerErr != nil:
		return v.callerErr
	case err != nil:
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}
