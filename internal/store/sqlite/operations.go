package sqlite

import (
	"database/sql/driver"
	"fmt"
	"strings"

	"github.com/azemu/azemu/internal/store"
	modernc "modernc.org/sqlite"
)

// An operation's row is small (0011_compact_operations.sql). It kept its
// lower-case ID as the key and again as the ID (36 characters each, and
// the key a third time in its index), its subscription's GUID as text,
// its target's whole ARM ID and its status as a word: about 400 bytes an
// operation with its indexes. Now:
//
//   - the key (op) is a lower-case GUID's 16 bytes, any other key its text,
//     and the table is WITHOUT ROWID, so the key is kept once; the id
//     column is NULL when the ID is the key's text (the engine's are);
//   - the subscription is a lower-case GUID's 16 bytes, any other its text;
//   - the target is packed (packTarget);
//   - the status is a small integer (operationStatuses), any other its text.
//
// The in-progress operations, which Load reads, have an index of their own
// (a partial one, a few entries), and no index on the end time is kept:
// only a compaction, daily at most, looks for the operations that ended
// before its horizon, and it reads the whole history anyway.

// operationStatuses are the statuses kept as the number of their place.
// The stored rows depend on this list: an entry is never moved or removed.
var operationStatuses = []string{"InProgress", "Succeeded", "Failed", "Canceled"}

// inProgress is how the status column keeps InProgress.
const inProgress = 0

// statusArg is status as the status column keeps it.
func statusArg(status string) any {
	for i, s := range operationStatuses {
		if s == status {
			return int64(i)
		}
	}
	return status
}

// statusOf reads the status column.
func statusOf(v any) (string, error) {
	switch v := v.(type) {
	case int64:
		if v >= 0 && v < int64(len(operationStatuses)) {
			return operationStatuses[v], nil
		}
	case string:
		return v, nil
	}
	return "", fmt.Errorf("an operation's status of %T %v", v, v)
}

// opKeyArg is the key of an operation's ID as the op column keeps it.
func opKeyArg(id string) any { return operationIDArg(store.Key(id)) }

// opIDArg is an operation's ID as the id column keeps it: NULL when it is
// the text of its key.
func opIDArg(id string) any {
	if id == store.Key(id) {
		return nil
	}
	return id
}

// subscriptionArg is a subscription ID as the subscription_id column of
// operations keeps it: a lower-case GUID as its 16 bytes.
func subscriptionArg(sub string) any { return operationIDArg(sub) }

// Targets. Most targets are of the operation's own subscription, and of a
// few types: the scope /subscriptions/{sub}/resourceGroups/ is kept as
// byte 1, and each of targetTypes as the byte of its place plus 4. A
// target holding any byte from 1 to targetMarks, which an ARM ID never
// does, is kept whole behind byte 3; one outside the subscription as it
// is (it does not begin with byte 1 or 3).
const (
	targetScoped = '\x01'
	targetKept   = '\x03'
	targetFirst  = 4
)

// targetTypes are the segments kept as a byte each. The stored targets
// depend on this list: an entry is never moved or removed.
var targetTypes = []string{
	"/providers/Microsoft.Compute/virtualMachines/",
	"/providers/Microsoft.Compute/disks/",
	"/providers/Microsoft.Network/networkInterfaces/",
	"/providers/Microsoft.Network/publicIPAddresses/",
	"/providers/Microsoft.Network/virtualNetworks/",
	"/providers/Microsoft.Network/networkSecurityGroups/",
	"/providers/Microsoft.Compute/virtualMachineScaleSets/",
	"/providers/Microsoft.Resources/deployments/",
}

// targetMarks is the last byte packTarget writes as a mark.
const targetMarks = targetFirst + 7

func init() {
	if len(targetTypes) != targetMarks-targetFirst+1 {
		panic("sqlite: targetMarks does not match targetTypes")
	}
}

// packTarget packs target, an operation's of subscription sub.
func packTarget(target, sub string) string {
	if strings.ContainsFunc(target, func(r rune) bool { return r >= 1 && r <= targetMarks }) { // a rune below 0x80 is its byte
		return string(targetKept) + target
	}
	// The scope, /subscriptions/{sub}/resourceGroups/, cut a part at a
	// time rather than written out for every operation.
	rest, ok := strings.CutPrefix(target, "/subscriptions/")
	if ok {
		rest, ok = strings.CutPrefix(rest, sub)
	}
	if ok {
		rest, ok = strings.CutPrefix(rest, "/resourceGroups/")
	}
	if !ok || sub == "" {
		return target
	}
	for i, t := range targetTypes {
		rest = strings.ReplaceAll(rest, t, string(rune(targetFirst+i)))
	}
	return string(targetScoped) + rest
}

// unpackTarget reads a target packTarget packed.
func unpackTarget(packed, sub string) string {
	if packed == "" {
		return packed
	}
	switch packed[0] {
	case targetKept:
		return packed[1:]
	case targetScoped:
		var b strings.Builder
		b.WriteString("/subscriptions/" + sub + "/resourceGroups/")
		// By bytes: a mark is one, and no byte of a longer UTF-8
		// sequence is below 0x80.
		for i := 1; i < len(packed); i++ {
			if c := packed[i]; c >= targetFirst && c <= targetMarks {
				b.WriteString(targetTypes[c-targetFirst])
				continue
			}
			b.WriteByte(packed[i])
		}
		return b.String()
	}
	return packed
}

// The migration's functions, in SQL: pack_operation_key(op_key) is
// opKeyArg's, pack_target(target_id, subscription_id) packTarget's and
// operation_status(status) statusArg's.
func init() {
	text := func(name string, args []driver.Value) ([]string, error) {
		out := make([]string, len(args))
		for i, a := range args {
			s, ok := a.(string)
			if !ok {
				return nil, fmt.Errorf("%s: argument %d is %T, not TEXT", name, i+1, a)
			}
			out[i] = s
		}
		return out, nil
	}
	for name, f := range map[string]struct {
		n  int32
		fn func([]string) any
	}{
		"pack_operation_key": {1, func(a []string) any { return operationIDArg(a[0]) }},
		"pack_subscription":  {1, func(a []string) any { return subscriptionArg(a[0]) }},
		"pack_target":        {2, func(a []string) any { return packTarget(a[0], a[1]) }},
		"operation_status":   {1, func(a []string) any { return statusArg(a[0]) }},
	} {
		modernc.MustRegisterDeterministicScalarFunction(name, f.n,
			func(_ *modernc.FunctionContext, args []driver.Value) (driver.Value, error) {
				a, err := text(name, args)
				if err != nil {
					return nil, err
				}
				return f.fn(a), nil
			})
	}
}
