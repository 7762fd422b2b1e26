package sqlite

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"strings"

	"github.com/azemu/azemu/internal/store"
)

// A VM's state and model and a resource's body name the resources of their
// own group by ID: a VM's its disks and interfaces, a disk's the VM it is
// attached to. Each such ID begins with the row's scope,
// /subscriptions/{sub}/resourceGroups/{group}/providers/, about 90 bytes,
// which the row's own columns already hold. The document is kept with the
// scope written as one byte (0007_compact_documents.sql):
//
//   - a document holding none of the bytes 1 to 3, which JSON text never
//     holds unescaped, and holding the scope: byte 2, then the document
//     with each scope replaced by byte 1;
//   - a document holding any of them: byte 3, then the document as it is;
//   - any other: as it is (it does not begin with byte 2 or 3).
const (
	scopeMark    = "\x01"
	scopedPrefix = '\x02'
	keptPrefix   = '\x03'
)

// scopeOf is the scope of a row's documents.
func scopeOf(sub, group string) string {
	return "/subscriptions/" + sub + "/resourceGroups/" + group + "/providers/"
}

// packDocument binds doc, with its scope packed, as TEXT; nil as NULL.
func packDocument(doc json.RawMessage, scope string) any {
	if doc == nil {
		return nil
	}
	return string(packedDocument(doc, scope))
}

// packedDocument is doc with its scope packed, in bytes of its own.
func packedDocument(doc []byte, scope string) []byte {
	if hasMarks(doc) {
		return append([]byte{keptPrefix}, doc...)
	}
	mark := []byte(scope)
	i := bytes.Index(doc, mark)
	if i < 0 {
		return bytes.Clone(doc)
	}
	out := make([]byte, 0, len(doc))
	out = append(out, scopedPrefix)
	for ; i >= 0; i = bytes.Index(doc, mark) {
		out = append(append(out, doc[:i]...), scopeMark...)
		doc = doc[i+len(mark):]
	}
	return append(out, doc...)
}

// hasMarks reports whether doc holds any of the bytes 1 to 3, each sought
// with IndexByte, which reads many bytes at a time.
func hasMarks(doc []byte) bool {
	return bytes.IndexByte(doc, 1) >= 0 || bytes.IndexByte(doc, 2) >= 0 || bytes.IndexByte(doc, 3) >= 0
}

// unpackDocument reads a document packDocument bound.
func unpackDocument(col sql.NullString, scope string) json.RawMessage {
	if !col.Valid {
		return nil
	}
	s := col.String
	if s != "" {
		switch s[0] {
		case scopedPrefix:
			return json.RawMessage(strings.ReplaceAll(s[1:], scopeMark, scope))
		case keptPrefix:
			return json.RawMessage(s[1:])
		}
	}
	return json.RawMessage(s)
}

// resourceIDArg is a resource's ID as the id column keeps it: NULL when it
// is the ID of a top-level resource of its type, group and name, which
// a load builds again (resourceScanner).
func resourceIDArg(r store.Resource) any {
	if r.ID == topLevelID(r) {
		return nil
	}
	return r.ID
}

func topLevelID(r store.Resource) string {
	return scopeOf(r.SubscriptionID, r.ResourceGroup) + r.Type + "/" + r.Name
}
