package main

// azemu vacuum: give back to the file system the free pages of a data
// dir's SQLite file, which a migration that rewrote a table, or deleted
// history, left inside it.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/azemu/azemu/internal/server"
	"github.com/azemu/azemu/internal/store/postgres"
)

func vacuumCmd(args []string, stdout, stderr io.Writer) error {
	home, _ := os.UserHomeDir()
	var dataDir, where string
	fs, str := newFlags("vacuum", stderr)
	str(&dataDir, "data-dir", filepath.Join(home, ".azemu"), "the data dir whose database to pack, as serve's")
	str(&where, "store", "", "SQLite file (default <data-dir>/azemu.db)")
	if err := parseFlagsOnly(fs, args, stderr, "Usage: azemu vacuum [flags]\n\n"+
		"Packs the data dir's SQLite file into as few pages as hold its rows (SQLite's VACUUM) and\n"+
		"gives the rest back to the file system: the pages a migration to a smaller schema, or\n"+
		"deleted history, left free. It first applies any migration the file has not had, as serve\n"+
		"would. Stop the data dir's server first: a vacuum is refused while one holds it. It needs\n"+
		"free disk space of about the packed file's size while it runs, and takes about a minute a\n"+
		"gigabyte.\n\n"); err != nil {
		return helpOK(err)
	}
	where = storeOrDefault(where, dataDir)
	if postgres.IsURL(where) {
		return errors.New("--store: azemu vacuum packs a SQLite file; PostgreSQL gives space back by its own VACUUM (autovacuum, or VACUUM FULL)")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	v, err := server.Vacuum(ctx, dataDir, where)
	if err != nil {
		return fmt.Errorf("vacuum: %w", err)
	}
	if len(v.Migrations) > 0 {
		fmt.Fprintf(stdout, "migrated %s: %s\n", where, strings.Join(v.Migrations, ", "))
	}
	fmt.Fprintf(stdout, "vacuumed %s: %s before (%s of it free pages), %s after\n",
		where, megabytes(v.Before), megabytes(v.Free), megabytes(v.After))
	return nil
}

// megabytes writes n bytes as megabytes, to a tenth.
func megabytes(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
