package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// A migration that rewrites a table (0006, 0008, 0011 ...) leaves the old
// table's pages free inside the file: SQLite reuses them for later rows
// but never gives them back to the file system. VACUUM rewrites the file
// into as few pages as hold its rows. It takes minutes on a file of
// gigabytes and holds the write lock throughout, so Open never runs it:
// Vacuum does, for `azemu vacuum`, and Free tells a server whether it is
// worth suggesting.

// Vacuumed is what a Vacuum found and did.
type Vacuumed struct {
	// Before and After are the bytes of the file and its WAL.
	Before, After int64
	// Free is the bytes of the free pages before the VACUUM.
	Free int64
	// Migrations are the names of the migrations applied on the way.
	Migrations []string
}

// Vacuum brings the SQLite file at path up to date, as Open does, and then
// rewrites it into as few pages as hold its rows. No other process may
// have the file open: the caller holds its data dir. The file must exist.
// A VACUUM needs free disk space of about the packed file's size.
func Vacuum(ctx context.Context, path string) (v Vacuumed, err error) {
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return v, fmt.Errorf("sqlite: vacuum: no database at %s", path)
		}
		return v, fmt.Errorf("sqlite: vacuum: %w", err)
	}
	if v.Before, err = fileBytes(path); err != nil {
		return v, fmt.Errorf("sqlite: vacuum: %w", err)
	}
	started := time.Now()
	s, err := Open(path)
	if err != nil {
		return v, fmt.Errorf("sqlite: vacuum: %w", err)
	}
	defer func() {
		if cerr := s.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("sqlite: vacuum: %w", cerr)
		}
		if err == nil {
			if v.After, err = fileBytes(path); err != nil {
				err = fmt.Errorf("sqlite: vacuum: %w", err)
			}
		}
	}()
	if err = query(ctx, s.w, `SELECT name FROM schema_migrations WHERE applied_at >= ? ORDER BY version`,
		[]any{started.UnixNano()}, func(rows *sql.Rows) error {
			var name string
			err := rows.Scan(&name)
			v.Migrations = append(v.Migrations, name)
			return err
		}); err != nil {
		return v, fmt.Errorf("sqlite: vacuum: migrations: %w", err)
	}
	if v.Free, _, err = s.Free(ctx); err != nil {
		return v, fmt.Errorf("sqlite: vacuum: %w", err)
	}
	if _, err = s.w.ExecContext(ctx, `VACUUM`); err != nil {
		return v, fmt.Errorf("sqlite: vacuum: %w", diskFull(err))
	}
	return v, nil
}

// Free is the bytes of the database's free pages, and of all its pages.
func (s *Store) Free(ctx context.Context) (free, total int64, err error) {
	var pageSize, pages, freePages int64
	if err := s.w.QueryRowContext(ctx, `SELECT page_size, page_count, freelist_count
		FROM pragma_page_size, pragma_page_count, pragma_freelist_count`).Scan(&pageSize, &pages, &freePages); err != nil {
		return 0, 0, fmt.Errorf("free pages: %w", err)
	}
	return freePages * pageSize, pages * pageSize, nil
}

// fileBytes is the size of the database at path and of its WAL.
func fileBytes(path string) (int64, error) {
	var n int64
	for _, p := range []string{path, path + "-wal"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) && p != path {
			continue
		}
		if err != nil {
			return 0, err
		}
		n += fi.Size()
	}
	return n, nil
}
