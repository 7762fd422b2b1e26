package sqlite

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// The history's names and details are kept packed (0014_packed_event_text.sql).
// A name was its resource's whole ARM ID, and a disk's detail names the VM
// it is attached to by ID: about 145 bytes each, most of it the scope
// /subscriptions/{sub}/resourceGroups/{group}/providers/, which a fleet's
// IDs share by the thousand. Each scope is kept once, in event_scopes,
// whose rows are numbered for good (AUTOINCREMENT: a number never names
// another scope, even after a reset) and never change, so a reader may
// remember them. A name or a detail is then kept as
//
//   - a text holding none of the bytes 1 to eventTextMarks (an ARM ID and
//     JSON text never do): the text with each scope written as byte 1 and
//     the uvarint number of its row, and each of eventTextWords (common
//     types after a scope, and the words of the details the kinds write)
//     as the byte of its place plus 3, the longest where several begin;
//   - any other, and the empty text: byte 2, then the text as it is.
//
// A packed text is read left to right: the number after byte 1 is read as
// a number, so its bytes are never taken for marks.
const (
	eventTextScope = '\x01'
	eventTextKept  = '\x02'
	eventTextFirst = 3
)

// eventTextWords are the words kept as a byte each. The stored names and
// details depend on this list: an entry is never moved or removed, only
// appended, up to byte 31 (JSON text holds no byte below 32 unescaped).
var eventTextWords = []string{
	// Types, after a scope.
	"Microsoft.Compute/virtualMachines/",
	"Microsoft.Compute/disks/",
	"Microsoft.Compute/virtualMachineScaleSets/",
	"Microsoft.Network/publicIPAddresses/",
	"Microsoft.Network/networkInterfaces/",
	"Microsoft.Network/virtualNetworks/",
	"Microsoft.Network/networkSecurityGroups/",
	"Microsoft.Network/loadBalancers/",
	// A VM's, a disk's and a public IP's details (vm.Detail, disk.Detail,
	// publicip.Detail).
	`{"location":"`,
	`","location":"`,
	`{"vmSize":"Standard_`,
	`","osType":"`,
	`Linux`,
	`Windows`,
	`","diskSku":"`,
	`","diskSizeGB":`,
	`,"managedBy":"`,
	`Premium_LRS`,
	`StandardSSD_LRS`,
	`Standard_LRS`,
	`Standard_`,
	`"}`,
	`","publicIpSku":"`,
	`","publicIpTier":"`,
	`","allocationMethod":"`,
	`","ipVersion":"`,
	// An OS disk's name, {vm}_OsDisk_1_{32 hex digits}, as Azure makes it.
	`_OsDisk_1_`,
}

// eventTextMarks is the last byte packEventText writes as a mark.
const eventTextMarks = eventTextFirst + 26

// eventTextWordsAt are the places in eventTextWords of the words that
// begin with each byte.
var eventTextWordsAt [256][]int

func init() {
	if len(eventTextWords) != eventTextMarks-eventTextFirst+1 || eventTextMarks > 31 {
		panic("sqlite: eventTextMarks does not match eventTextWords")
	}
	for i, w := range eventTextWords {
		eventTextWordsAt[w[0]] = append(eventTextWordsAt[w[0]], i)
	}
}

// wordAt is the place of the longest word text begins with, and its
// length (0 for none).
func wordAt(text string) (place, n int) {
	for _, i := range eventTextWordsAt[text[0]] {
		if w := eventTextWords[i]; len(w) > n && strings.HasPrefix(text, w) {
			place, n = i, len(w)
		}
	}
	return place, n
}

// scopeAt is the length of the scope text begins with, 0 for none.
func scopeAt(text string) int {
	rest, ok := strings.CutPrefix(text, "/subscriptions/")
	if !ok {
		return 0
	}
	sub := strings.IndexByte(rest, '/')
	if sub <= 0 {
		return 0
	}
	rest, ok = strings.CutPrefix(rest[sub+1:], "resourceGroups/")
	if !ok {
		return 0
	}
	group := strings.IndexByte(rest, '/')
	if group <= 0 || !strings.HasPrefix(rest[group+1:], "providers/") {
		return 0
	}
	return len(text) - len(rest) + group + 1 + len("providers/")
}

// packEventText packs text, numbering each scope by scopeRef.
func packEventText(text string, scopeRef func(scope string) (int64, error)) ([]byte, error) {
	// An empty text is kept too, so that no packed text is empty: the
	// driver reads an empty BLOB as it reads NULL.
	if text == "" || strings.ContainsFunc(text, func(r rune) bool { return r >= 1 && r <= eventTextMarks }) { // a rune below 0x80 is its byte
		return append([]byte{eventTextKept}, text...), nil
	}
	out := make([]byte, 0, len(text))
	for i := 0; i < len(text); {
		if n := scopeAt(text[i:]); n > 0 {
			ref, err := scopeRef(text[i : i+n])
			if err != nil {
				return nil, err
			}
			out = binary.AppendUvarint(append(out, eventTextScope), uint64(ref))
			i += n
			continue
		}
		if place, n := wordAt(text[i:]); n > 0 {
			out = append(out, byte(eventTextFirst+place))
			i += n
			continue
		}
		out = append(out, text[i])
		i++
	}
	return out, nil
}

// unpackEventText reads what packEventText packed, naming each scope by
// scopeText.
func unpackEventText(packed []byte, scopeText func(ref int64) (string, error)) (string, error) {
	if len(packed) > 0 && packed[0] == eventTextKept {
		return string(packed[1:]), nil
	}
	// Built on the stack, then copied once at its length: a name read
	// back may be kept as long as its resource is.
	var buf [256]byte
	out := buf[:0]
	for i := 0; i < len(packed); i++ {
		switch c := packed[i]; {
		case c == eventTextScope:
			ref, n := binary.Uvarint(packed[i+1:])
			if n <= 0 || ref > 1<<62 {
				return "", errors.New("a packed event text's scope number is cut short")
			}
			scope, err := scopeText(int64(ref))
			if err != nil {
				return "", err
			}
			out = append(out, scope...)
			i += n
		case c >= eventTextFirst && c <= eventTextMarks:
			out = append(out, eventTextWords[c-eventTextFirst]...)
		case c == eventTextKept:
			return "", errors.New("a packed event text holds byte 2 past its start")
		default:
			out = append(out, c)
		}
	}
	return string(out), nil
}

// eventScopes are the scopes' texts by number, as readers have found them:
// a scope's row never changes, so they are never forgotten.
type eventScopes struct {
	mu    sync.RWMutex
	texts map[int64]string
}

// text is the scope numbered ref, remembered or read through q (the
// reader's transaction, whose snapshot holds every scope its events name).
func (sc *eventScopes) text(ctx context.Context, q queryer, ref int64) (string, error) {
	sc.mu.RLock()
	text, ok := sc.texts[ref]
	sc.mu.RUnlock()
	if ok {
		return text, nil
	}
	found := false
	if err := query(ctx, q, `SELECT scope FROM event_scopes WHERE ref = ?`, []any{ref}, func(rows *sql.Rows) error {
		found = true
		return rows.Scan(&text)
	}); err != nil {
		return "", fmt.Errorf("scope %d: %w", ref, err)
	}
	if !found {
		return "", fmt.Errorf("scope %d: no such row", ref)
	}
	sc.mu.Lock()
	if sc.texts == nil {
		sc.texts = map[int64]string{}
	}
	sc.texts[ref] = text
	sc.mu.Unlock()
	return text, nil
}

// reader unpacks the texts of rows read through q.
func (sc *eventScopes) reader(ctx context.Context, q queryer) func([]byte) (string, error) {
	scope := func(ref int64) (string, error) { return sc.text(ctx, q, ref) }
	return func(packed []byte) (string, error) { return unpackEventText(packed, scope) }
}
