package postgres

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/azemu/azemu/internal/store"
)

// A server out of room (SQLSTATE class 53) is store.ErrFull, as SQLite's
// full disk is; other errors, and too many connections, are not.
func TestNoRoomIsErrFull(t *testing.T) {
	for _, tc := range []struct {
		code string
		full bool
	}{
		{"53100", true},  // disk_full
		{"53200", true},  // out_of_memory
		{"53400", true},  // configuration_limit_exceeded (temp_file_limit)
		{"53000", true},  // insufficient_resources
		{"53300", false}, // too_many_connections
		{"23505", false}, // unique_violation
		{"40001", false}, // serialization_failure
	} {
		err := noRoom(fmt.Errorf("batch: %w", &pgconn.PgError{Code: tc.code, Message: "m"}))
		if got := errors.Is(err, store.ErrFull); got != tc.full {
			t.Errorf("SQLSTATE %s: ErrFull %v, want %v (%v)", tc.code, got, tc.full, err)
		}
		var pg *pgconn.PgError
		if !errors.As(err, &pg) || pg.Code != tc.code {
			t.Errorf("SQLSTATE %s: the server's error is lost from %v", tc.code, err)
		}
	}
	if err := noRoom(nil); err != nil {
		t.Errorf("noRoom(nil) = %v", err)
	}
}
