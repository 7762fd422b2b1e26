package armapi

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/jsonshape"
	"github.com/azemu/azemu/internal/jsonwire"
	"github.com/azemu/azemu/internal/lifecycle"
)

// A VM's GET answers are its stored model with the server's fields and
// the instance view added: renderVM builds that as a map and encodeJSON
// writes it by reflection, which costs more than the rest of a GET. The
// renderer here writes the same bytes directly: the model is split into
// its members, each already in the encoding encodeJSON would give it
// (checked, never assumed: a model in any other form is split through
// json.Unmarshal and encodeJSON instead), and the server's fields, the
// instance view and the statuses are written by typed encoders in
// between, in the sorted order encodeJSON writes a map's keys in.
// vmrender_test.go compares the two for a varied fleet and fuzzes the
// model.

// member is one member of a JSON object: its key, decoded (for ordering),
// the key as written, and the value as encodeJSON writes it.
type member struct {
	key     []byte
	encoded []byte // the quoted key
	value   []byte
	fill    uint8 // for the server's members: written in place (fillProperties, ...)
}

// vmModel is a VM model split for rendering: its top-level members but
// "properties", and the members of its "properties" object (none when it
// is missing or not an object), each sorted by key.
type vmModel struct {
	top, props []member
	// raw is the room the model's bytes are written to (the engine keeps
	// them as a jsonshape.Doc), which the members point into.
	raw []byte
}

// splitModel splits a VM's stored model into m, appending to m.top and
// m.props (which the caller may give room beforehand).
func splitModel(model []byte, m *vmModel) {
	if !splitCanonical(model, m) {
		*m = splitDecoded(model)
	}
}

// splitModels keeps the room models are split into: canonicalObject's
// recursion makes its members escape to the heap, so that each uncached
// render would otherwise allocate it anew.
var splitModels = sync.Pool{New: func() any { return new(vmModel) }}

// splitPooled writes model's bytes and splits them into room from
// splitModels, which releaseSplit gives back once the render is written.
func splitPooled(model jsonshape.Doc) *vmModel {
	m := splitModels.Get().(*vmModel)
	m.top, m.props = m.top[:0], m.props[:0]
	m.raw = model.AppendTo(m.raw[:0])
	splitModel(m.raw, m)
	return m
}

// maxPooledModel bounds the room for a model's bytes that splitModels
// keeps: a rare large model is not held for the next render.
const maxPooledModel = 64 << 10

// releaseSplit gives m back to splitModels.
func releaseSplit(m *vmModel) {
	// The members point into the model: keep none of them alive.
	clear(m.top[:cap(m.top)])
	clear(m.props[:cap(m.props)])
	if cap(m.raw) > maxPooledModel {
		m.raw = nil
	}
	splitModels.Put(m)
}

// splitCanonical splits a model that is an object in encodeJSON's
// encoding into m; false when it is not, or not certainly so.
func splitCanonical(b []byte, m *vmModel) bool {
	if m.top == nil {
		m.top = make([]member, 0, 12)
	}
	if m.props == nil {
		m.props = make([]member, 0, 16) // canonicalObject appends to no nil
	}
	// One pass checks the whole model and splits both objects: the
	// top level's members into m.top, properties' into m.props.
	split := objectSplit{props: m.props[:0]}
	top, end, ok := canonicalObject(b, 0, 0, m.top[:0], &split)
	if !ok || end != len(b) {
		return false
	}
	m.top, m.props = top, split.props
	return true
}

// objectSplit is where canonicalObject splits the top level's
// "properties" member, an object, into: its members, rather than the
// member itself.
type objectSplit struct {
	props []member
}

// splitDecoded splits any model as renderVM reads it: json.Unmarshal into
// a map (what it cannot read is left out, as there), each value written
// by encodeJSON.
func splitDecoded(b []byte) vmModel {
	var all map[string]any
	_ = json.Unmarshal(b, &all)
	var m vmModel
	m.top = encodedMembers(all, "properties")
	if props, ok := all["properties"].(map[string]any); ok {
		m.props = encodedMembers(props, "")
	}
	return m
}

// encodedMembers is obj's members but skip, sorted and encoded as
// encodeJSON writes them.
func encodedMembers(obj map[string]any, skip string) []member {
	out := make([]member, 0, len(obj))
	for k, v := range obj {
		if k == skip && skip != "" {
			continue
		}
		value, err := encodeJSON(v)
		if err != nil {
			continue // a decoded value always encodes
		}
		out = append(out, member{key: []byte(k), encoded: appendJSONString(nil, k, false), value: bytes.TrimSuffix(value, []byte("\n"))})
	}
	slices.SortFunc(out, func(a, b member) int { return bytes.Compare(a.key, b.key) })
	return out
}

// maxCanonicalDepth bounds the nesting splitCanonical follows; deeper
// models take the decoding path, which has its own bound.
const maxCanonicalDepth = 100

// canonicalObject checks the object at b[i] and returns where it ends;
// when members is not nil, its members are appended to it, in order.
// With split (the top
// level), its "properties" member is not appended: when an object, its
// members are split into split.props.
func canonicalObject(b []byte, i, depth int, members []member, split *objectSplit) ([]member, int, bool) {
	if depth > maxCanonicalDepth || i >= len(b) || b[i] != '{' {
		return nil, 0, false
	}
	i++
	if i < len(b) && b[i] == '}' {
		return members, i + 1, true
	}
	var prev []byte
	for n := 0; ; n++ {
		keyEnd, ok := scanString(b, i, false)
		if !ok || keyEnd >= len(b) || b[keyEnd] != ':' {
			return nil, 0, false
		}
		key := b[i+1 : keyEnd-1]
		// encodeJSON writes a map's keys in increasing byte order, each
		// once.
		if n > 0 && !keyBefore(prev, key) {
			return nil, 0, false
		}
		prev = key
		var valueEnd int
		switch {
		case split != nil && string(key) == "properties":
			// Split when an object; left out when anything else, as the
			// answer's properties are the server's.
			if keyEnd+1 < len(b) && b[keyEnd+1] == '{' {
				split.props, valueEnd, ok = canonicalObject(b, keyEnd+1, depth+1, split.props, nil)
			} else {
				valueEnd, ok = canonicalValue(b, keyEnd+1, depth)
			}
		default:
			valueEnd, ok = canonicalValue(b, keyEnd+1, depth)
			if ok && members != nil {
				members = append(members, member{key: key, encoded: b[i:keyEnd], value: b[keyEnd+1 : valueEnd]})
			}
		}
		if !ok || valueEnd >= len(b) {
			return nil, 0, false
		}
		switch b[valueEnd] {
		case ',':
			i = valueEnd + 1
		case '}':
			return members, valueEnd + 1, true
		default:
			return nil, 0, false
		}
	}
}

// keyBefore reports whether key a sorts before key b, as bytes.Compare
// would (a's keys are short and mostly differ early: no call).
func keyBefore(a, b []byte) bool {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}

// canonicalValue checks that the value at b[i] is written as encodeJSON
// writes what json.Unmarshal makes of it, and returns where it ends.
func canonicalValue(b []byte, i, depth int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch c := b[i]; {
	case c == '{':
		_, end, ok := canonicalObject(b, i, depth+1, nil, nil)
		return end, ok
	case c == '[':
		if depth+1 > maxCanonicalDepth {
			return 0, false
		}
		i++
		if i < len(b) && b[i] == ']' {
			return i + 1, true
		}
		for {
			end, ok := canonicalValue(b, i, depth+1)
			if !ok || end >= len(b) {
				return 0, false
			}
			switch b[end] {
			case ',':
				i = end + 1
			case ']':
				return end + 1, true
			default:
				return 0, false
			}
		}
	case c == '"':
		return scanString(b, i, true)
	case c == '-' || c >= '0' && c <= '9':
		return canonicalNumber(b, i)
	case bytes.HasPrefix(b[i:], []byte("true")):
		return i + 4, true
	case bytes.HasPrefix(b[i:], []byte("false")):
		return i + 5, true
	case bytes.HasPrefix(b[i:], []byte("null")):
		return i + 4, true
	}
	return 0, false
}

// scanString returns where the string at b[i] ends, if it holds nothing
// encodeJSON would write otherwise; escapes, when allowed, must be the
// ones appendJSONString makes (a key must have none, so that it reads as
// written). The runs between what needs checking are skipped eight bytes
// at a time: a model's strings are mostly plain text.
func scanString(b []byte, i int, escapes bool) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return 0, false
	}
	for j := i + 1; j < len(b); {
		if j = jsonwire.PlainRunBytes(b, j, false); j == len(b) {
			break
		}
		c := b[j]
		switch {
		case c == '"':
			return j + 1, true
		case c < 0x20:
			return 0, false
		case c == '\\':
			n, ok := canonicalEscape(b, j)
			if !escapes || !ok {
				return 0, false
			}
			j += n
		default:
			r, size := utf8.DecodeRune(b[j:])
			if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
				return 0, false
			}
			j += size
		}
	}
	return 0, false
}

// canonicalEscape checks the escape at b[j] (a backslash) is one
// appendJSONString writes, and returns its length.
func canonicalEscape(b []byte, j int) (int, bool) {
	if j+1 >= len(b) {
		return 0, false
	}
	switch b[j+1] {
	case '"', '\\', 'b', 'f', 'n', 'r', 't':
		return 2, true
	case 'u':
	default:
		return 0, false
	}
	if j+6 > len(b) {
		return 0, false
	}
	u := string(b[j+2 : j+6])
	if u != "2028" && u != "2029" {
		v, err := strconv.ParseUint(u, 16, 16)
		if err != nil || v >= 0x20 || u != strings.ToLower(u) || shortEscape(byte(v)) != 0 {
			return 0, false
		}
	}
	return 6, true
}

// canonicalNumber checks that the number at b[i] is written as encodeJSON
// writes the float64 json.Unmarshal reads it as, and returns where it
// ends.
func canonicalNumber(b []byte, i int) (int, bool) {
	start := i
	if b[i] == '-' {
		i++
	}
	digits := i
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return 0, false
	}
	integer := i
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return 0, false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return 0, false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	// An integer of up to 15 digits is a float64 exactly, written back
	// as it is.
	if i == integer && integer-digits <= 15 {
		return i, true
	}
	f, err := strconv.ParseFloat(string(b[start:i]), 64)
	if err != nil {
		return 0, false
	}
	var buf [32]byte
	if !bytes.Equal(appendJSONFloat(buf[:0], f), b[start:i]) {
		return 0, false
	}
	return i, true
}

// appendJSONFloat writes f as encoding/json writes a float64: the
// shortest form that reads back the same, with an exponent only below
// 1e-6 or from 1e21 on, and no zero before the exponent's digit.
func appendJSONFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b) - start; n >= 4 && b[len(b)-4] == 'e' && b[len(b)-3] == '-' && b[len(b)-2] == '0' {
			b[len(b)-2] = b[len(b)-1]
			b = b[:len(b)-1]
		}
	}
	return b
}

// shortEscape is the letter of the two-character escape encoding/json
// writes for the control character c, or 0 when it writes \u00XX.
func shortEscape(c byte) byte {
	switch c {
	case '\b':
		return 'b'
	case '\f':
		return 'f'
	case '\n':
		return 'n'
	case '\r':
		return 'r'
	case '\t':
		return 't'
	}
	return 0
}

// appendJSONString writes s quoted as encoding/json does: invalid UTF-8
// as U+FFFD, U+2028 and U+2029 escaped, and with escapeHTML (json.Marshal)
// <, > and & too; encodeJSON leaves those three as they are.
func appendJSONString(b []byte, s string, escapeHTML bool) []byte {
	return jsonwire.AppendString(b, s, escapeHTML)
}

// merger yields the members of an object made of model's and server's
// members (each sorted by key) in key order: server's member wins a key
// both have, and model's member drop is left out.
type merger struct {
	model, server []member
	drop          string
	i, j          int
	cur           member // the member next found
}

// next finds the next member, into cur; false after the last.
func (g *merger) next() bool {
	for g.i < len(g.model) || g.j < len(g.server) {
		if g.j == len(g.server) || g.i < len(g.model) && bytes.Compare(g.model[g.i].key, g.server[g.j].key) < 0 {
			g.cur = g.model[g.i]
			g.i++
			if g.drop != "" && string(g.cur.key) == g.drop {
				continue
			}
			return true
		}
		if g.i < len(g.model) && bytes.Equal(g.model[g.i].key, g.server[g.j].key) {
			g.i++
		}
		g.cur = g.server[g.j]
		g.j++
		return true
	}
	return false
}

// A server member's value is written where it goes, rather than kept
// apart and copied, when it is one of these.
const (
	fillProperties = iota + 1
	fillInstanceView
	fillResources
)

// serverKey is the member of the server's field key, with no value yet;
// key must need no escaping.
func serverKey(key string) member {
	return member{key: []byte(key), encoded: []byte(`"` + key + `"`)}
}

// The members the server writes, in key order within each object.
var (
	keyEtag, keyID, keyLocation, keyManagedBy = serverKey("etag"), serverKey("id"), serverKey("location"), serverKey("managedBy")
	keyName, keyType                          = serverKey("name"), serverKey("type")
	keyProvisioningState, keyTimeCreated      = serverKey("provisioningState"), serverKey("timeCreated")
	keyVMID                                   = serverKey("vmId")
	keyProperties                             = member{key: []byte("properties"), encoded: []byte(`"properties"`), fill: fillProperties}
	keyInstanceView                           = member{key: []byte("instanceView"), encoded: []byte(`"instanceView"`), fill: fillInstanceView}
	keyResources                              = member{key: []byte("resources"), encoded: []byte(`"resources"`), fill: fillResources}
	vmType                                    = []byte(`"Microsoft.Compute/virtualMachines"`)
)

// with is m with value v.
func (m member) with(v []byte) member {
	m.value = v
	return m
}

// vmRendering is what a VM answer holds beside the model.
type vmRendering struct {
	userData     bool            // keep properties.userData
	instanceView *vmInstanceView // properties.instanceView, when not nil
	// stateView, when not nil, is the VM (without extensions) whose
	// instance view properties.instanceView is, written from its state
	// (stateview.go) rather than from instanceView.
	stateView *engine.VM
	resources [][]byte // the extensions, each encoded, when any
	// As an instance of this Uniform scale set, when not nil: the scale
	// set VM API's name, type, instanceId and sku, with no managedBy or
	// properties.virtualMachineScaleSet.
	instanceOf *engine.ScaleSet
}

// vmWriter writes a VM answer's objects: the top level, then properties
// in place, with the values the server fills in (no function calls
// itself, so that what it reads can stay on the caller's stack).
type vmWriter struct {
	model      vmModel
	top, props []member // the server's members
	dropTop    string   // the model's top-level member left out
	drop       string   // the model's property left out
	r          vmRendering
}

func (w *vmWriter) appendVM(b []byte) []byte {
	b = append(b, '{')
	top := merger{model: w.model.top, server: w.top, drop: w.dropTop}
	for n := 0; top.next(); n++ {
		b = appendKey(b, n, top.cur)
		if top.cur.fill != fillProperties {
			b = w.appendValue(b, top.cur)
			continue
		}
		b = append(b, '{')
		props := merger{model: w.model.props, server: w.props, drop: w.drop}
		for k := 0; props.next(); k++ {
			b = w.appendValue(appendKey(b, k, props.cur), props.cur)
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

// appendKey writes member m's key, after a comma unless it is the first
// (n is 0).
func appendKey(b []byte, n int, m member) []byte {
	if n > 0 {
		b = append(b, ',')
	}
	return append(append(b, m.encoded...), ':')
}

func (w *vmWriter) appendValue(b []byte, m member) []byte {
	switch m.fill {
	case fillInstanceView:
		if w.r.stateView != nil {
			return appendStateInstanceView(b, w.r.stateView)
		}
		return appendInstanceView(b, w.r.instanceView)
	case fillResources:
		b = append(b, '[')
		for i, x := range w.r.resources {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, x...)
		}
		return append(b, ']')
	}
	return append(b, m.value...)
}

// appendVM writes v as renderVM shows it, with what r adds, from its
// model split.
func appendVM(b []byte, v *engine.VM, model vmModel, r vmRendering) []byte {
	// The server's values, written one after the other.
	var scratch [512]byte
	s := scratch[:0]
	var at [8]int
	s = appendJSONString(s, string(v.Machine.State.Provisioning), false)
	at[0] = len(s)
	s = append(s, '"')
	s = appendComputeTime(s, v.TimeCreated)
	s = append(s, '"')
	at[1] = len(s)
	s = appendJSONString(s, v.VMID, false)
	at[2] = len(s)
	s = append(s, `"\"`...)
	s = strconv.AppendInt(s, v.Version, 10)
	s = append(s, `\""`...)
	at[3] = len(s)
	s = appendJSONString(s, v.ID, false)
	at[4] = len(s)
	s = appendJSONString(s, v.Spec.Location, false)
	at[5] = len(s)
	s = appendJSONString(s, v.Spec.ScaleSetID, false)
	at[6] = len(s)
	s = appendJSONString(s, v.Name, false)
	at[7] = len(s)

	w := vmWriter{model: model, r: r, drop: "userData"}
	if r.userData {
		w.drop = ""
	}
	if r.instanceOf != nil {
		return appendInstance(b, v, w, s, at)
	}
	var propsArr [4]member
	w.props = propsArr[:0]
	if r.instanceView != nil || r.stateView != nil {
		w.props = append(w.props, keyInstanceView)
	}
	w.props = append(w.props, keyProvisioningState.with(s[:at[0]]), keyTimeCreated.with(s[at[0]:at[1]]), keyVMID.with(s[at[1]:at[2]]))

	var topArr [8]member
	w.top = append(topArr[:0], keyEtag.with(s[at[2]:at[3]]), keyID.with(s[at[3]:at[4]]), keyLocation.with(s[at[4]:at[5]]))
	if v.Spec.ScaleSetID != "" {
		w.top = append(w.top, keyManagedBy.with(s[at[5]:at[6]]))
	}
	w.top = append(w.top, keyName.with(s[at[6]:at[7]]), keyProperties)
	if len(r.resources) > 0 {
		w.top = append(w.top, keyResources)
	}
	w.top = append(w.top, keyType.with(vmType))
	return w.appendVM(b)
}

// The members only a scale set's instance has.
var (
	keyInstanceID, keySKU = serverKey("instanceId"), serverKey("sku")
	keyLatestModelApplied = serverKey("latestModelApplied")
	instanceType          = appendJSONString(nil, engine.ScaleSetType+"/virtualMachines", false)
	jsonTrue              = []byte("true")
)

// appendInstance writes v as the scale set VM API shows an instance of
// w.r.instanceOf: renderVM's VM named after its set and instance ID, with
// its size as its sku, the latest model applied, and neither managedBy nor
// properties.virtualMachineScaleSet; userData stays. s and at are the
// server's values appendVM wrote.
func appendInstance(b []byte, v *engine.VM, w vmWriter, s []byte, at [8]int) []byte {
	instanceID := v.ID[strings.LastIndex(v.ID, "/")+1:]
	var scratch [256]byte
	x := appendJSONString(scratch[:0], instanceID, false)
	n0 := len(x)
	x = appendJSONString(x, w.r.instanceOf.Name+"_"+instanceID, false)
	n1 := len(x)
	x = append(x, `{"name":`...)
	x = appendJSONString(x, v.Spec.VMSize, false)
	x = append(x, `,"tier":"Standard"}`...)

	w.dropTop, w.drop = "managedBy", "virtualMachineScaleSet"
	var propsArr [5]member
	w.props = propsArr[:0]
	if w.r.instanceView != nil || w.r.stateView != nil {
		w.props = append(w.props, keyInstanceView)
	}
	w.props = append(w.props, keyLatestModelApplied.with(jsonTrue),
		keyProvisioningState.with(s[:at[0]]), keyTimeCreated.with(s[at[0]:at[1]]), keyVMID.with(s[at[1]:at[2]]))
	var topArr [8]member
	w.top = append(topArr[:0], keyEtag.with(s[at[2]:at[3]]), keyID.with(s[at[3]:at[4]]), keyInstanceID.with(x[:n0]),
		keyLocation.with(s[at[4]:at[5]]), keyName.with(x[n0:n1]), keyProperties, keySKU.with(x[n1:]), keyType.with(instanceType))
	return w.appendVM(b)
}

// object writes a JSON object's members, the commas between them.
type object struct {
	b []byte
	n int
}

// key starts a member; k is its quoted key and colon.
func (o *object) key(k string) {
	if o.n > 0 {
		o.b = append(o.b, ',')
	}
	o.n++
	o.b = append(o.b, k...)
}

func (o *object) str(k, v string, escapeHTML bool) {
	o.key(k)
	o.b = appendJSONString(o.b, v, escapeHTML)
}

// appendInstanceView writes iv as encodeJSON does.
func appendInstanceView(b []byte, iv *vmInstanceView) []byte {
	o := object{b: append(b, '{')}
	if iv.PlatformUpdateDomain != nil {
		o.key(`"platformUpdateDomain":`)
		o.b = strconv.AppendInt(o.b, int64(*iv.PlatformUpdateDomain), 10)
	}
	if iv.PlatformFaultDomain != nil {
		o.key(`"platformFaultDomain":`)
		o.b = strconv.AppendInt(o.b, int64(*iv.PlatformFaultDomain), 10)
	}
	for _, f := range [...]struct{ k, v string }{
		{`"computerName":`, iv.ComputerName}, {`"osName":`, iv.OSName}, {`"osVersion":`, iv.OSVersion},
		{`"hyperVGeneration":`, iv.HyperVGeneration},
	} {
		if f.v != "" {
			o.str(f.k, f.v, false)
		}
	}
	if a := iv.VMAgent; a != nil {
		o.key(`"vmAgent":`)
		o.b = appendAgent(o.b, a)
	}
	if len(iv.Disks) > 0 {
		o.key(`"disks":`)
		o.b = appendArray(o.b, iv.Disks, func(do *object, d diskStatusView) {
			do.str(`"name":`, d.Name, false)
			do.key(`"statuses":`)
			do.b = appendStatuses(do.b, d.Statuses)
		})
	}
	if len(iv.Extensions) > 0 {
		o.key(`"extensions":`)
		o.b = appendArray(o.b, iv.Extensions, func(xo *object, x extensionView) {
			xo.str(`"name":`, x.Name, false)
			xo.str(`"type":`, x.Type, false)
			xo.str(`"typeHandlerVersion":`, x.TypeHandlerVersion, false)
			xo.key(`"statuses":`)
			xo.b = appendStatuses(xo.b, x.Statuses)
		})
	}
	o.key(`"statuses":`)
	o.b = appendStatuses(o.b, iv.Statuses)
	return append(o.b, '}')
}

// appendAgent writes the guest agent's report as encodeJSON does.
func appendAgent(b []byte, a *vmAgentView) []byte {
	ao := object{b: append(b, '{')}
	ao.str(`"vmAgentVersion":`, a.VMAgentVersion, false)
	ao.key(`"statuses":`)
	ao.b = appendStatuses(ao.b, a.Statuses)
	ao.key(`"extensionHandlers":`)
	if a.ExtensionHandlers == nil {
		ao.b = append(ao.b, "null"...)
	} else {
		ao.b = appendArray(ao.b, a.ExtensionHandlers, func(ho *object, h extensionHandler) {
			ho.str(`"type":`, h.Type, false)
			ho.str(`"typeHandlerVersion":`, h.TypeHandlerVersion, false)
			ho.key(`"status":`)
			ho.b = appendStatus(ho.b, h.Status)
		})
	}
	return append(ao.b, '}')
}

// appendArray writes xs as a JSON array of objects, each written by member.
func appendArray[T any](b []byte, xs []T, member func(*object, T)) []byte {
	b = append(b, '[')
	for i, x := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		o := object{b: append(b, '{')}
		member(&o, x)
		b = append(o.b, '}')
	}
	return append(b, ']')
}

func appendStatuses(b []byte, ss []lifecycle.Status) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, st := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendStatus(b, st)
	}
	return append(b, ']')
}

// appendStatus writes st as its MarshalJSON does: json.Marshal, which
// escapes <, > and &, and the time in Compute's layout.
func appendStatus(b []byte, st lifecycle.Status) []byte {
	o := object{b: append(b, '{')}
	o.str(`"code":`, st.Code, true)
	o.str(`"level":`, string(st.Level), true)
	o.str(`"displayStatus":`, st.DisplayStatus, true)
	if st.Message != "" {
		o.str(`"message":`, st.Message, true)
	}
	if st.Time != nil {
		o.key(`"time":"`)
		o.b = appendComputeTime(o.b, *st.Time)
		o.b = append(o.b, '"')
	}
	return append(o.b, '}')
}

// renderVMAnswer writes a VM's answer a, with its extensions exts, and
// the final newline encodeJSON ends with.
func (s *Server) renderVMAnswer(ctx context.Context, vm *engine.VM, a vmAnswer, exts []*engine.Extension) ([]byte, error) {
	return s.appendVMAnswer(ctx, nil, vm, a, exts)
}

// appendVMAnswer is renderVMAnswer appending to dst.
func (s *Server) appendVMAnswer(ctx context.Context, dst []byte, vm *engine.VM, a vmAnswer, exts []*engine.Extension) ([]byte, error) {
	withView := a == answerInstanceView || a == answerVMInstanceView
	var iv *vmInstanceView
	if withView && len(exts) > 0 {
		v := s.withExtensions(ctx, exts, instanceView(vm))
		iv = &v
	}
	if a == answerInstanceView {
		b := slices.Grow(dst, 1024)
		if iv == nil {
			return append(appendStateInstanceView(b, vm), '\n'), nil
		}
		return append(appendInstanceView(b, iv), '\n'), nil
	}
	r := vmRendering{userData: a == answerVMUserData, instanceView: iv}
	if withView && iv == nil {
		r.stateView = vm
	}
	for _, x := range exts {
		// The VM's extensions, as child resources: what `az vm
		// extension list` reads.
		body, err := encodeJSON(s.renderExtension(ctx, x, false))
		if err != nil {
			return nil, err
		}
		r.resources = append(r.resources, bytes.TrimSuffix(body, []byte("\n")))
	}
	model := splitPooled(vm.Model)
	defer releaseSplit(model)
	// Room for the answer: the model, the server's fields (about 300
	// bytes beside the ID and names), the instance view (about 900 bytes
	// for a running VM with two disks) and the extensions.
	size := len(model.raw) + len(vm.ID) + len(vm.Name) + len(vm.Spec.ScaleSetID) + 320
	if withView {
		size += 1024 + 160*len(vm.Spec.Disks)
	}
	for _, x := range r.resources {
		size += len(x) + 1
	}
	return append(appendVM(slices.Grow(dst, size), vm, *model, r), '\n'), nil
}
