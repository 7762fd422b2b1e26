// Package sqlite implements store.Store on a single SQLite file through
// modernc.org/sqlite, a pure-Go driver, so the emulator builds without cgo.
//
// The database runs in WAL mode with one write connection and a separate
// pool of read-only connections: writers never contend with each other for
// the SQLite lock (no SQLITE_BUSY inside the process), and readers such as a
// long History scan never block Apply. The schema is created and upgraded by
// the numbered scripts embedded from migrations/, applied in order at Open
// and recorded in schema_migrations, so reopening a database is a no-op.
//
// Times are stored as integer Unix nanoseconds (NULL for the zero time) and
// come back as UTC; JSON documents are stored as text, byte for byte.
package sqlite
