package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

	"github.com/azemu/azemu/internal/store"
	"github.com/azemu/azemu/internal/store/sqlite"
)

// Vacuum packs the SQLite file storePath of the data dir dataDir into as
// few pages as hold its rows (sqlite.Vacuum), holding the data dir as a
// server does: it is refused, with ErrDataDirInUse, while an azemu serves
// or seeds it.
func Vacuum(ctx context.Context, dataDir, storePath string) (sqlite.Vacuumed, error) {
	if _, err := os.Stat(dataDir); errors.Is(err, fs.ErrNotExist) {
		return sqlite.Vacuumed{}, fmt.Errorf("no data dir at %s", dataDir)
	}
	if _, err := os.Stat(storePath); errors.Is(err, fs.ErrNotExist) {
		return sqlite.Vacuumed{}, fmt.Errorf("no database at %s", storePath)
	}
	lock, err := lockDataDir(dataDir, "stop it, then vacuum")
	if err != nil {
		return sqlite.Vacuumed{}, err
	}
	defer lock.release()
	return sqlite.Vacuum(ctx, storePath)
}

// vacuumWorthIt is when a server says at start that `azemu vacuum` would
// give space back: at least this many free bytes, and a quarter of the file.
const vacuumWorthIt = 64 << 20

// suggestVacuum logs, at start, how much of a SQLite file is free pages
// when a vacuum would give much back: what a migration that rewrote a
// table leaves. Serve never vacuums by itself: at a million VMs a VACUUM
// takes minutes, holding the write lock, and a start must stay fast.
func suggestVacuum(ctx context.Context, st store.Store, log *slog.Logger) {
	s, ok := st.(*sqlite.Store)
	if !ok {
		return
	}
	free, total, err := s.Free(ctx)
	if err != nil || free < vacuumWorthIt || free*4 < total {
		return
	}
	log.Info("the database holds free pages, left by a migration or deletions; stop azemu and run azemu vacuum to give them back",
		"free_mb", free>>20, "file_mb", total>>20)
}
