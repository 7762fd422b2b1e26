package server

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lockFileName is the file in a data directory whose lock says which azemu
// owns it. Its text names the owner, for the message a second one gives.
const lockFileName = "azemu.lock"

// dataDirLock is a held lock on a data directory: an exclusive flock on
// <dir>/azemu.lock. The kernel releases it when the process ends, even by
// SIGKILL, so a stale file never blocks a restart.
type dataDirLock struct {
	f *os.File
}

// ErrDataDirInUse is returned (wrapped) when another process owns the data
// directory.
var ErrDataDirInUse = errors.New("data directory in use")

// lockDataDir takes the data directory or says who holds it, and what to
// do (advice, e.g. "stop it, or give this one another --data-dir").
func lockDataDir(dir, advice string) (*dataDirLock, error) {
	path := filepath.Join(dir, lockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		owner, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s is owned by another azemu (%s); %s",
				ErrDataDirInUse, dir, describeOwner(string(owner)), advice)
		}
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	l := &dataDirLock{f: f}
	if err := l.record(""); err != nil {
		l.release()
		return nil, err
	}
	return l, nil
}

// record writes the owner's PID and, once it listens, its URL.
func (l *dataDirLock) record(url string) error {
	text := "pid=" + strconv.Itoa(os.Getpid())
	if url != "" {
		text += " url=" + url
	}
	if err := l.f.Truncate(0); err != nil {
		return err
	}
	_, err := l.f.WriteAt([]byte(text+"\n"), 0)
	return err
}

func (l *dataDirLock) release() {
	if l != nil && l.f != nil {
		l.f.Close() // closing the descriptor releases the flock
		l.f = nil
	}
}

// describeOwner turns the lock file's text into words.
func describeOwner(text string) string {
	var pid, url string
	for _, field := range strings.Fields(text) {
		k, v, _ := strings.Cut(field, "=")
		switch k {
		case "pid":
			pid = v
		case "url":
			url = v
		}
	}
	switch {
	case pid == "":
		return "its PID is not recorded yet"
	case url == "":
		return "PID " + pid + ", starting"
	default:
		return "PID " + pid + ", serving " + url
	}
}
