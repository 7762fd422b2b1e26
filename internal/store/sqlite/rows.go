package sqlite

import (
	"context"
	"database/sql"
	"math/bits"
	"strings"
)

// The operations that the changes of an Apply upsert are written together,
// many rows to a statement, so that a statement's fixed cost (its trip
// through database/sql and the driver, the cursors it opens on the table
// and each index) is paid once for many rows: a group commit writes dozens
// of them, two for most changes (one started, one ended).
//
// Each is an INSERT OR FAIL: a statement that may stop half-way on a
// constraint (OR ABORT, the default) keeps a statement journal, a copy of
// every page it changes that the transaction had already changed, so as to
// undo its own rows alone, and past 64 KiB SQLite spills that journal to a
// temporary file, a file and its writes a commit. An Apply never goes on
// after a failed statement: it rolls the whole transaction back, which
// undoes the failed statement's rows as well.

// maxRowsPerStatement bounds the rows of one multi-row statement, so that
// its parameters stay far below SQLite's limit (32766) and its statements
// few: one for each power of two up to it.
const maxRowsPerStatement = 64

// multiRow is an INSERT of any number of rows of one table.
type multiRow struct {
	// bySize is the statement for 2^i rows at i, up to maxRowsPerStatement.
	bySize []string
}

// newMultiRow makes the statements of head, then row once a row, separated
// by commas, then tail: e.g. "INSERT INTO t (a, b) VALUES ", "(?, ?)" and
// " RETURNING c".
func newMultiRow(head, row, tail string) multiRow {
	var m multiRow
	for n := 1; n <= maxRowsPerStatement; n *= 2 {
		m.bySize = append(m.bySize, head+strings.Repeat(row+", ", n-1)+row+tail)
	}
	return m
}

// sql is the statement for n rows, a power of two.
func (m multiRow) sql(n int) string { return m.bySize[bits.Len(uint(n))-1] }

// chunks splits n rows into the sizes of the statements that write them,
// in order: as many full statements as fit, then the rest by powers of two,
// largest first, so that a batch of n rows takes at most
// n/maxRowsPerStatement+log2(maxRowsPerStatement) statements, all prepared.
func chunks(n int) []int {
	var out []int
	for ; n >= maxRowsPerStatement; n -= maxRowsPerStatement {
		out = append(out, maxRowsPerStatement)
	}
	for n > 0 {
		size := 1 << (bits.Len(uint(n)) - 1)
		out = append(out, size)
		n -= size
	}
	return out
}

// writeRows writes rows in order, chunk by chunk, each row given by its
// parameters; wrote, unless nil, is told each statement's result and rows.
func (s *Store) writeRows(ctx context.Context, tx *sql.Tx, m multiRow, rows [][]any, wrote func(res sql.Result, n int) error) error {
	var params []any
	first := 0
	for _, size := range chunks(len(rows)) {
		params = params[:0]
		for _, row := range rows[first : first+size] {
			params = append(params, row...)
		}
		res, err := tx.StmtContext(ctx, s.stmts[m.sql(size)]).ExecContext(ctx, params...)
		if err == nil && wrote != nil {
			err = wrote(res, size)
		}
		if err != nil {
			return err
		}
		first += size
	}
	return nil
}
