// Package postgres implements store.Store on a PostgreSQL database through
// github.com/jackc/pgx/v5, for teams that keep their state in the database
// server they already run.
//
// It keeps the SQLite backend's semantics exactly, and passes the same
// storetest suite: one Apply is one transaction, sent as one pipelined
// batch; versioned writes of VMs and resources turn a lost race into
// store.ErrConflict; events get a Seq from an identity column, and a
// transaction that writes events takes a transaction-scoped advisory lock
// first, so that Seq order is commit order even with concurrent writers (a
// reader that has seen Seq n never later meets a smaller one); History
// streams one snapshot through a server-side cursor. Instants are Unix
// nanoseconds in BIGINT columns, as in SQLite (see store.UnixNano), since
// timestamptz would round them to microseconds; JSON documents are TEXT,
// byte for byte.
//
// The schema is created and upgraded by the numbered scripts embedded from
// migrations/, applied at Open in one transaction under an advisory lock
// and recorded in schema_migrations.
//
// Several servers may serve one database at once, as replicas: Store is a
// store.Shared, numbering every change in a changes table, with a
// fleet-wide advisory lock for the servers' writes and LISTEN/NOTIFY to
// tell them of each other's changes (shared.go). Claim registers a server
// among them.
package postgres
