package armapi

import (
	"bytes"
	"net/http"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/lifecycle"
)

// A page of VMs is written as writeList would encode it (an object with
// "nextLink", when there is one, then "value", each VM's JSON in turn,
// and encodeJSON's final newline), but from each VM's answer written by
// the typed renderer (vmrender.go) or kept for its snapshot, never from a
// map encoded by reflection: a listing of a large fleet is a thousand
// such pages. listrender_internal_test.go compares every page with the
// encoding it replaced.

// pageWriter writes one list answer.
type pageWriter struct {
	b []byte
	n int // items written
}

// pageBuffers holds the buffers of pages already sent, so that a walk
// through a large fleet does not make a new one for each page.
var pageBuffers sync.Pool

// maxPooledPage is the largest buffer kept for another page: larger ones
// (a scale set of thousands of instances) are left to the collector.
const maxPooledPage = 1 << 20

// newPage starts a page whose nextLink is link ("" on the last page),
// with room for size bytes of items.
func newPage(link string, size int) pageWriter {
	size += len(link) + 32
	var p pageWriter
	if b, ok := pageBuffers.Get().(*[]byte); ok && cap(*b) >= size {
		p.b = (*b)[:0]
	} else {
		p.b = make([]byte, 0, size)
	}
	p.b = append(p.b, '{')
	if link != "" {
		p.b = append(p.b, `"nextLink":`...)
		p.b = appendJSONString(p.b, link, false)
		p.b = append(p.b, ',')
	}
	p.b = append(p.b, `"value":[`...)
	return p
}

// item starts the next item: after it, the item's JSON is appended to p.b.
func (p *pageWriter) item() {
	if p.n > 0 {
		p.b = append(p.b, ',')
	}
	p.n++
}

// end closes the page and returns its bytes.
func (p *pageWriter) end() []byte {
	return append(p.b, "]}\n"...)
}

// writePage answers 200 with page, then keeps its buffer for another.
func writePage(r *request, page []byte) {
	writeBody(r, http.StatusOK, page)
	if cap(page) <= maxPooledPage {
		pageBuffers.Put(&page)
	}
}

// nextLink is the absolute URL of the page after r's whose token is next:
// r's own query with $skiptoken set; "" when there is none.
func nextLink(r *request, next string) string {
	if next == "" {
		return ""
	}
	q := r.URL.Query()
	q.Set("$skiptoken", next)
	return r.base + r.URL.EscapedPath() + "?" + q.Encode()
}

// statusOnlySize is about what one VM takes in a statusOnly page, to size
// the page's buffer.
const statusOnlySize = 640

// statusOnlyCacheLimit bounds the statusOnly items kept: about 100,000
// VMs'. A poller of a fleet walks every page, so an item is read once a
// walk, and a walk of a fleet past the limit renders the rest.
const statusOnlyCacheLimit = 64 << 20

// statusOnlyPage is a page of listAll statusOnly=true holding vms, with
// the nextLink link. powerStateGone says, for each VM in turn, whether
// its power state is left out (the powerStateUnavailable fault). A VM's
// item depends on its snapshot alone, so it is kept in kept (when not nil)
// while there is room, and used while the snapshot is the VM's current
// one.
func statusOnlyPage(vms []*engine.VM, link string, powerStateGone func() bool, kept *renderCache) []byte {
	p := newPage(link, statusOnlySize*len(vms))
	for _, v := range vms {
		p.item()
		if powerStateGone() {
			p.b = appendStatusOnlyVM(p.b, v, withoutPowerState(v.Machine.State.Statuses()))
			continue
		}
		if kept != nil {
			if item, ok := kept.get(v, answerStatusOnly); ok {
				p.b = append(p.b, item...)
				continue
			}
		}
		start := len(p.b)
		p.b = appendStatusOnlyVM(p.b, v, v.Machine.State.Statuses())
		if kept != nil {
			kept.putIfRoom(v, answerStatusOnly, bytes.Clone(p.b[start:]))
		}
	}
	return p.end()
}

// appendStatusOnlyVM writes one VM of listAll statusOnly=true, in the
// shape Compute answers: its identity, provisioning state, vmId, an empty
// hardware profile, and the instance view's fault domain and statuses; no
// tags, no model, no agent or disk details. Keys in alphabetical order, as
// every other answer of azemu's.
func appendStatusOnlyVM(b []byte, v *engine.VM, statuses []lifecycle.Status) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, v.ID, false)
	b = append(b, `,"location":`...)
	b = appendJSONString(b, v.Spec.Location, false)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, v.Name, false)
	b = append(b, `,"properties":{"hardwareProfile":{},"instanceView":{`...)
	if v.Machine.State.Power.Allocated() {
		// The fault domain of a VM on a host, as in its instance view.
		b = append(b, `"platformFaultDomain":0,`...)
	}
	b = append(b, `"statuses":`...)
	b = appendStatuses(b, statuses)
	b = append(b, `},"provisioningState":`...)
	b = appendJSONString(b, string(v.Machine.State.Provisioning), false)
	b = append(b, `,"vmId":`...)
	b = appendJSONString(b, v.VMID, false)
	return append(b, `},"type":"Microsoft.Compute/virtualMachines"}`...)
}

// vmPage is a page of VMs as list and listAll show them, with the
// nextLink link: each VM's GET answer (answerVM or answerVMInstanceView)
// without userData, and without its extensions, which a list does not
// show.
func (s *Server) vmPage(vms []*engine.VM, link string, a vmAnswer) []byte {
	p := newPage(link, 0)
	for _, v := range vms {
		p.item()
		p.b = s.appendListedVM(p.b, v, a)
	}
	return p.end()
}

// appendListedVM writes v's answer a as a list item: without userData
// and extensions. A VM without
// extensions answers a GET with the same bytes, so the answer kept for
// its snapshot is used, and one rendered is kept while the render cache
// has room (a listing of a large fleet must not push out the answers that
// GETs read most).
func (s *Server) appendListedVM(b []byte, v *engine.VM, a vmAnswer) []byte {
	cacheable := len(s.eng.Extensions(v.ID)) == 0
	if cacheable {
		if body, ok := s.renders.get(v, a); ok {
			return append(b, body[:len(body)-1]...) // without the final newline
		}
	}
	start := len(b)
	b = appendVMItem(b, v, a, nil)
	if cacheable {
		body := make([]byte, 0, len(b)-start+1)
		s.renders.putIfRoom(v, a, append(append(body, b[start:]...), '\n'))
	}
	return b
}

// appendVMItem renders v's answer a as a list shows it, with no
// extensions, as set's instance when set is not nil.
func appendVMItem(b []byte, v *engine.VM, a vmAnswer, set *engine.ScaleSet) []byte {
	var r vmRendering
	if a == answerVMInstanceView {
		r.stateView = v
	}
	r.instanceOf = set
	model := splitPooled(v.Model)
	defer releaseSplit(model)
	return appendVM(b, v, *model, r)
}

// instancePage is a Uniform scale set's instances as its virtualMachines
// list shows them: each as its own GET does (answerVM or
// answerVMInstanceView), all on one page.
func instancePage(set *engine.ScaleSet, members []*engine.VM, a vmAnswer) []byte {
	p := newPage("", 0)
	for _, v := range members {
		p.item()
		p.b = appendVMItem(p.b, v, a, set)
	}
	return p.end()
}

// containsFold reports whether s contains lower, a lower-case ASCII
// string, in any case, as strings.Contains(strings.ToLower(s), lower)
// does, without a lower-case copy of s when s is ASCII: the listings ask
// it of every VM.
func containsFold(s, lower string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			// ToLower maps some other letters to ASCII ones (K, İ).
			return strings.Contains(strings.ToLower(s), lower)
		}
	}
	if lower == "" {
		return true
	}
	// s and lower are ASCII, where EqualFold folds ASCII letters alone.
	first := lower[0]
	if 'a' <= first && first <= 'z' {
		// A match starts with the first letter in either case.
		for i := 0; i+len(lower) <= len(s); i++ {
			if (s[i] == first || s[i] == first-'a'+'A') && strings.EqualFold(s[i:i+len(lower)], lower) {
				return true
			}
		}
		return false
	}
	// A match starts with the first byte, found quickly (a slash in an ID).
	for i := 0; i+len(lower) <= len(s); i++ {
		j := strings.IndexByte(s[i:len(s)-len(lower)+1], first)
		if j < 0 {
			return false
		}
		i += j
		if strings.EqualFold(s[i:i+len(lower)], lower) {
			return true
		}
	}
	return false
}
