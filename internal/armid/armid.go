package armid

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrInvalidID is wrapped by every error Parse returns, so handlers can map
// any malformed ID to one ARM error code without matching on text.
var ErrInvalidID = errors.New("armid: invalid resource ID")

// ErrInvalidName is wrapped by every naming-rule error ValidName returns, for
// the same reason (ARM answers these with InvalidResourceName /
// InvalidResourceGroupName).
var ErrInvalidName = errors.New("armid: invalid resource name")

// Fixed segments and the types ARM reports for resources that are not below
// a provider namespace.
const (
	segSubscriptions  = "subscriptions"
	segResourceGroups = "resourceGroups"
	segProviders      = "providers"

	typeSubscription  = "Microsoft.Resources/subscriptions"
	typeResourceGroup = "Microsoft.Resources/resourceGroups"
	typeProvider      = "Microsoft.Resources/providers"
)

// canonical is the one table of well-known segment casings, keyed by the
// folded form (see foldKey). Add new namespaces and types here only.
var canonical = func() map[string]string {
	m := make(map[string]string)
	for _, s := range []string{
		"Microsoft.Compute",
		"Microsoft.Resources",
		"Microsoft.Network",
		"virtualMachines",
		"virtualMachineScaleSets",
		"extensions",
		"disks",
		"locations",
		"operations",
		"networkInterfaces",
		"publicIPAddresses",
		"virtualNetworks",
		"subnets",
		"networkSecurityGroups",
		"securityRules",
		"ipConfigurations",
		"loadBalancers",
		"frontendIPConfigurations",
		"backendAddressPools",
		"inboundNatPools",
		"inboundNatRules",
		"loadBalancingRules",
		"probes",
		segResourceGroups,
		segSubscriptions,
		segProviders,
	} {
		m[foldKey(s)] = s
		// The canonical spelling itself, which most IDs use: found as it
		// is, without folding (Canonical).
		m[s] = s
	}
	return m
}()

// ID is a parsed ARM resource ID.
//
// Parse stores Namespace and Types in canonical casing (see Canonical) so
// callers can compare them with ==; SubscriptionID, ResourceGroup and Names
// keep the casing they were written in, because ARM echoes names as created.
//
// An ID with a Namespace but no Types is a resource provider, e.g.
// /subscriptions/{sub}/providers/Microsoft.Compute. Types and Names are meant
// to have equal length; methods use only the complete pairs.
type ID struct {
	SubscriptionID string   // as written
	ResourceGroup  string   // "" for subscription-level IDs
	Namespace      string   // provider namespace, e.g. "Microsoft.Compute"; "" if none
	Types          []string // resource types below the namespace, e.g. ["virtualMachines"] or ["virtualMachineScaleSets","virtualMachines"]
	Names          []string // names parallel to Types
}

// Parse parses an ARM resource ID of the forms
//
//	/subscriptions/{sub}
//	/subscriptions/{sub}/resourceGroups/{rg}
//	/subscriptions/{sub}[/resourceGroups/{rg}]/providers/{ns}[/{type}/{name}]...
//
// The fixed segments (subscriptions, resourceGroups, providers) match in any
// casing; one trailing slash is tolerated. Extension resources (a second
// "providers" below a resource) are rejected: the emulator serves none.
// Parse checks structure only; use ValidName for the naming rules.
func Parse(s string) (ID, error) {
	bad := func(reason string) (ID, error) {
		return ID{}, fmt.Errorf("%w %q: %s", ErrInvalidID, s, reason)
	}
	rest, ok := strings.CutPrefix(s, "/")
	if !ok {
		return bad("must start with /")
	}
	// Clients and path joins commonly leave one trailing slash; more than one
	// leaves an empty segment and is rejected below.
	rest = strings.TrimSuffix(rest, "/")
	if rest == "" {
		return bad("must start with /subscriptions/{subscriptionId}")
	}
	segs := strings.Split(rest, "/")
	for i, seg := range segs {
		if seg == "" {
			return bad(fmt.Sprintf("segment %d is empty", i+1))
		}
	}
	if len(segs)%2 != 0 {
		return bad("odd number of segments: every type or fixed segment needs a name")
	}
	if !strings.EqualFold(segs[0], segSubscriptions) {
		return bad("must start with /subscriptions/{subscriptionId}")
	}
	id := ID{SubscriptionID: segs[1]}
	segs = segs[2:]
	if len(segs) > 0 && strings.EqualFold(segs[0], segResourceGroups) {
		id.ResourceGroup = segs[1]
		segs = segs[2:]
	}
	if len(segs) == 0 {
		return id, nil
	}
	if !strings.EqualFold(segs[0], segProviders) {
		return bad(fmt.Sprintf("unexpected segment %q where providers was expected", segs[0]))
	}
	id.Namespace = Canonical(segs[1])
	for segs = segs[2:]; len(segs) > 0; segs = segs[2:] {
		if strings.EqualFold(segs[0], segProviders) {
			return bad("extension resources are not supported")
		}
		id.Types = append(id.Types, Canonical(segs[0]))
		id.Names = append(id.Names, segs[1])
	}
	return id, nil
}

// pairs is the number of complete type/name pairs.
func (id ID) pairs() int { return min(len(id.Types), len(id.Names)) }

// String returns the canonical form of the ID: fixed segments, Namespace and
// types in canonical casing, names as written. It returns "" for an ID
// without a SubscriptionID, which no valid ID lacks.
func (id ID) String() string {
	if id.SubscriptionID == "" {
		return ""
	}
	// Sized first: a fleet keeps an ID per resource, and a builder left
	// to grow would keep up to twice the bytes.
	n := len("/"+segSubscriptions+"/") + len(id.SubscriptionID)
	if id.ResourceGroup != "" {
		n += len("/"+segResourceGroups+"/") + len(id.ResourceGroup)
	}
	if id.Namespace != "" {
		n += len("/"+segProviders+"/") + len(id.Namespace)
		for i := range id.pairs() {
			n += 2 + len(id.Types[i]) + len(id.Names[i])
		}
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString("/" + segSubscriptions + "/")
	b.WriteString(id.SubscriptionID)
	if id.ResourceGroup != "" {
		b.WriteString("/" + segResourceGroups + "/")
		b.WriteString(id.ResourceGroup)
	}
	if id.Namespace != "" {
		b.WriteString("/" + segProviders + "/")
		b.WriteString(Canonical(id.Namespace))
		for i := range id.pairs() {
			b.WriteByte('/')
			b.WriteString(Canonical(id.Types[i]))
			b.WriteByte('/')
			b.WriteString(id.Names[i])
		}
	}
	return b.String()
}

// Type returns the ARM resource type, e.g. "Microsoft.Compute/virtualMachines"
// or "Microsoft.Compute/virtualMachineScaleSets/virtualMachines", in canonical
// casing. Resource groups, subscriptions and providers report the
// Microsoft.Resources types ARM gives them. A zero ID has type "".
func (id ID) Type() string {
	if id.SubscriptionID == "" {
		return ""
	}
	if n := id.pairs(); id.Namespace != "" && n > 0 {
		parts := make([]string, 0, n+1)
		parts = append(parts, Canonical(id.Namespace))
		for _, t := range id.Types[:n] {
			parts = append(parts, Canonical(t))
		}
		return strings.Join(parts, "/")
	}
	switch {
	case id.Namespace != "":
		return typeProvider
	case id.ResourceGroup != "":
		return typeResourceGroup
	default:
		return typeSubscription
	}
}

// Name returns the last name in the ID: the resource's own name, the
// namespace for a provider, the resource group for a group, the subscription
// ID for a subscription. A zero ID has name "".
func (id ID) Name() string {
	if id.SubscriptionID == "" {
		return ""
	}
	if n := id.pairs(); id.Namespace != "" && n > 0 {
		return id.Names[n-1]
	}
	switch {
	case id.Namespace != "":
		return Canonical(id.Namespace)
	case id.ResourceGroup != "":
		return id.ResourceGroup
	default:
		return id.SubscriptionID
	}
}

// Parent returns the ID one level up: a child resource's parent resource, a
// top-level resource's or provider's resource group (or subscription, when
// it has no group), a group's subscription. A subscription, or an ID without
// one, has no parent. The result shares no memory with id.
func (id ID) Parent() (ID, bool) {
	if id.SubscriptionID == "" {
		return ID{}, false
	}
	n := id.pairs()
	switch {
	case id.Namespace != "" && n > 1:
		return ID{
			SubscriptionID: id.SubscriptionID,
			ResourceGroup:  id.ResourceGroup,
			Namespace:      id.Namespace,
			Types:          slices.Clone(id.Types[:n-1]),
			Names:          slices.Clone(id.Names[:n-1]),
		}, true
	case id.Namespace != "":
		return ID{SubscriptionID: id.SubscriptionID, ResourceGroup: id.ResourceGroup}, true
	case id.ResourceGroup != "":
		return ID{SubscriptionID: id.SubscriptionID}, true
	default:
		return ID{}, false
	}
}

// ResourceGroupID returns the canonical ID of a resource group.
func ResourceGroupID(sub, rg string) string {
	return ID{SubscriptionID: sub, ResourceGroup: rg}.String()
}

// VirtualMachineID returns the canonical ID of a virtual machine.
func VirtualMachineID(sub, rg, name string) string {
	return ID{
		SubscriptionID: sub,
		ResourceGroup:  rg,
		Namespace:      "Microsoft.Compute",
		Types:          []string{"virtualMachines"},
		Names:          []string{name},
	}.String()
}

// Equal reports whether two IDs name the same resource, as ARM compares them:
// case-insensitively, after parsing, so "resourcegroups" and a trailing
// slash do not matter. Strings that do not parse are compared with
// strings.EqualFold. Equal(a, b) == (Key(a) == Key(b)).
func Equal(a, b string) bool {
	// Parsing reads every fixed segment case-insensitively and drops only
	// one trailing slash, so IDs that fold equal are equal, and IDs that
	// do not and end without a slash are not: most comparisons need no
	// parse.
	if strings.EqualFold(a, b) {
		return true
	}
	if !strings.HasSuffix(a, "/") && !strings.HasSuffix(b, "/") {
		return false
	}
	ia, errA := Parse(a)
	ib, errB := Parse(b)
	if errA != nil || errB != nil {
		return strings.EqualFold(a, b)
	}
	return strings.EqualFold(ia.String(), ib.String())
}

// Key returns the key (Fold) of the canonical form of s, for use as a map
// key. A string that does not parse is folded as it is, so Key never
// fails.
func Key(s string) string {
	if id, err := Parse(s); err == nil {
		s = id.String()
	}
	return Fold(s)
}

// Canonical returns the canonical casing of a well-known namespace or type
// segment (e.g. "microsoft.compute" -> "Microsoft.Compute"); other segments
// are returned unchanged.
func Canonical(segment string) string {
	// Every ID parsed or written asks: the canonical spelling is found as
	// it is, any other folded on the stack.
	if c, ok := canonical[segment]; ok {
		return c
	}
	var buf [64]byte
	k, ascii := appendLowerASCII(buf[:0], segment)
	if !ascii {
		k = append(k[:0], foldKey(segment)...)
	}
	if c, ok := canonical[string(k)]; ok {
		return c
	}
	return segment
}

// appendLowerASCII appends s to b in lower case, and reports whether s
// was ASCII (when it was not, what it appended is not its fold).
func appendLowerASCII(b []byte, s string) ([]byte, bool) {
	for i := range len(s) {
		c := s[i]
		if c >= utf8.RuneSelf {
			return b, false
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b, true
}

// GUIDText writes b as a GUID in its 8-4-4-4-12 form, lower-case, bytes
// in order (no version or variant bits are set: b is written as it is).
func GUIDText(b [16]byte) string {
	// Every response and operation gets one: hex by hand, not Sprintf.
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], b[10:16])
	return string(out[:])
}

// IsGUID reports whether s has the 8-4-4-4-12 hexadecimal GUID form, in any
// casing and without braces.
func IsGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// ValidName checks name against Azure's naming rules for kind, which is
// "resourceGroups" or "virtualMachines" (or the full type, e.g.
// "Microsoft.Compute/virtualMachines"), in any casing. Naming-rule errors wrap
// ErrInvalidName and say which rule was broken; an unknown kind is a
// programming error and does not wrap it.
func ValidName(kind string, name string) error {
	switch {
	case strings.EqualFold(kind, segResourceGroups), strings.EqualFold(kind, typeResourceGroup):
		return validGroupName(name)
	case strings.EqualFold(kind, "virtualMachines"), strings.EqualFold(kind, "Microsoft.Compute/virtualMachines"):
		return validVMName(name)
	}
	return fmt.Errorf("armid: no naming rule for kind %q", kind)
}

// validGroupName applies ARM's resource group rule. "Letters" and "digits"
// are Unicode ones, as ARM allows, so lengths count characters, not bytes.
func validGroupName(name string) error {
	bad := func(rule string) error {
		return fmt.Errorf("%w: resource group name %q %s", ErrInvalidName, name, rule)
	}
	if n := utf8.RuneCountInString(name); n < 1 || n > 90 {
		return bad("must be 1-90 characters long")
	}
	for _, r := range name {
		if r == utf8.RuneError || !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("_-.()", r)) {
			return bad("may contain only letters, digits, underscores, hyphens, periods and parentheses")
		}
	}
	if strings.HasSuffix(name, ".") {
		return bad("must not end with a period")
	}
	return nil
}

// validVMName applies the virtual machine resource name rule. It is ASCII
// only: the name is the default computer name, which must be a host name.
// (The 15-character Windows limit is on osProfile.computerName, not here.)
func validVMName(name string) error {
	bad := func(rule string) error {
		return fmt.Errorf("%w: virtual machine name %q %s", ErrInvalidName, name, rule)
	}
	if n := len(name); n < 1 || n > 64 {
		return bad("must be 1-64 characters long")
	}
	for i := range len(name) {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return bad("may contain only letters, digits, hyphens, underscores and periods")
		}
	}
	switch {
	case name[0] == '_':
		return bad("must not start with an underscore")
	case name[0] == '-':
		return bad("must not start with a hyphen")
	case strings.HasSuffix(name, "."):
		return bad("must not end with a period")
	case strings.HasSuffix(name, "-"):
		return bad("must not end with a hyphen")
	}
	return nil
}

// foldKey folds s so that foldKey(a) == foldKey(b) exactly when
// strings.EqualFold(a, b): each rune becomes one fixed member of its Unicode
// simple-fold orbit (the lower-case one where there is one), and invalid
// UTF-8 bytes become U+FFFD, as EqualFold decodes them. strings.ToLower alone
// would disagree with EqualFold on runes such as 'ς' and 'İ', and Key must
// agree with Equal or map lookups would miss IDs that Equal matches.
func foldKey(s string) string {
	// ASCII in one pass, as IDs nearly always are: s itself when it has
	// no upper case, else one allocation.
	for i := range len(s) {
		c := s[i]
		if c >= utf8.RuneSelf {
			return foldRunes(s)
		}
		if 'A' <= c && c <= 'Z' {
			return lowerASCIIFrom(s, i)
		}
	}
	return s
}

// lowerASCIIFrom is s in lower case when s[:i] has none to lower: foldKey
// of s when s is ASCII.
func lowerASCIIFrom(s string, i int) string {
	var b strings.Builder
	b.Grow(len(s))
	from := 0 // s[from:i] is written as it is
	for ; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return foldRunes(s)
		}
		if 'A' <= c && c <= 'Z' {
			b.WriteString(s[from:i])
			b.WriteByte(c + 'a' - 'A')
			from = i + 1
		}
	}
	b.WriteString(s[from:])
	return b.String()
}

// foldRunes is foldKey of an s that is not ASCII.
func foldRunes(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		b.WriteRune(foldRune(r))
	}
	return b.String()
}

// foldRune picks the representative of r's simple-fold orbit: ToLower of the
// orbit's smallest member if that is in the orbit, else the smallest member.
// Deriving it from the orbit minimum makes it the same for every member.
func foldRune(r rune) rune {
	lo := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		lo = min(lo, f)
	}
	lower := unicode.ToLower(lo)
	if lower == lo {
		return lo
	}
	for f := unicode.SimpleFold(lo); f != lo; f = unicode.SimpleFold(f) {
		if f == lower {
			return lower
		}
	}
	return lo
}

// ComputeID returns the canonical ID of a Microsoft.Compute resource of the
// given type in a group (disks, virtualMachineScaleSets, ...).
func ComputeID(sub, rg, resourceType, name string) string {
	return providerID(sub, rg, "Microsoft.Compute", resourceType, name)
}

// providerID is the canonical ID of a top-level resource of a provider.
func providerID(sub, rg, namespace, resourceType, name string) string {
	return ID{SubscriptionID: sub, ResourceGroup: rg, Namespace: namespace, Types: []string{resourceType}, Names: []string{name}}.String()
}

// ChildID returns the ID of a child resource of parent (an extension of a
// VM, an instance of a scale set). parent is taken as it is written.
func ChildID(parent, childType, name string) string {
	return parent + "/" + childType + "/" + name
}

// Fold returns the case-insensitive key of a string that is already in
// canonical form (an ID this package built, a name): Key without the
// parse, for paths that build many keys. Fold(a) == Fold(b) exactly when
// strings.EqualFold(a, b).
//
// The key is canonical, not lower case: each slash-separated segment is
// folded, and one that folds as a well-known word (see Canonical) is
// spelt as IDs spell it. So the key of an ID whose names are already
// lower case is the ID itself, returned without a copy: a fleet keeps
// one string for both. Keys of one collection differ only in their
// names, so they sort as the folded names do.
func Fold(s string) string {
	// One pass, as most keys are made of IDs that are their own.
	seg, upper := 0, false
	for i := 0; i < len(s); {
		if i+8 <= len(s) && plain8(load8(s[i:i+8])) {
			i += 8
			continue
		}
		for end := min(i+8, len(s)); i < end; i++ {
			switch c := s[i]; {
			case c >= utf8.RuneSelf:
				return string(AppendFold(make([]byte, 0, len(s)), s))
			case c == '/':
				if !keptSegment(s[seg:i], upper) {
					return string(AppendFold(make([]byte, 0, len(s)), s))
				}
				seg, upper = i+1, false
			case c-'A' < 26:
				upper = true
			}
		}
	}
	if !keptSegment(s[seg:], upper) {
		return string(AppendFold(make([]byte, 0, len(s)), s))
	}
	return s
}

// AppendFold appends Fold(s) to b: a key made on the stack.
func AppendFold(b []byte, s string) []byte {
	for {
		seg, after, more := strings.Cut(s, "/")
		b, _ = appendFoldedSegment(b, seg)
		if !more {
			return b
		}
		b = append(b, '/')
		s = after
	}
}

// AppendFoldSegment appends Fold(seg) for seg one segment of a key (a
// subscription, a group, a name): false, with b as it was, when seg is
// empty or holds a slash.
func AppendFoldSegment(b []byte, seg string) ([]byte, bool) {
	if seg == "" {
		return b, false
	}
	return appendFoldedSegment(b, seg)
}

// appendFoldedSegment appends a segment of a key, folded and spelt as the
// well-known word it folds as, if any; false, with b as it was, when seg
// holds a slash.
func appendFoldedSegment(b []byte, seg string) ([]byte, bool) {
	// Copied at once and folded in place: every VM's GET makes its key.
	// An ASCII segment's word is as long as the segment.
	n := len(b)
	b = append(b, seg...)
	key := b[n:]
	for i := 0; i < len(key); {
		if i+8 <= len(key) && plain8(binary.LittleEndian.Uint64(key[i:])) {
			i += 8
			continue
		}
		for end := min(i+8, len(key)); i < end; i++ {
			switch c := key[i]; {
			case c >= utf8.RuneSelf:
				if strings.IndexByte(seg, '/') >= 0 {
					return b[:n], false
				}
				return appendFoldedRunes(b[:n], seg), true
			case c == '/':
				return b[:n], false
			case c-'A' < 26:
				key[i] = c + 'a' - 'A'
			}
		}
	}
	if mayBeWord(key) {
		if c, ok := canonical[string(key)]; ok {
			copy(key, c)
		}
	}
	return b, true
}

// appendFoldedRunes is appendFoldedSegment of a segment not ASCII.
func appendFoldedRunes(b []byte, seg string) []byte {
	n := len(b)
	for _, r := range seg {
		b = utf8.AppendRune(b, foldRune(r))
	}
	if mayBeWord(b[n:]) {
		if c, ok := canonical[string(b[n:])]; ok {
			b = append(b[:n], c...)
		}
	}
	return b
}

// load8 is the eight bytes of t as one word, the first lowest.
func load8(t string) uint64 {
	return uint64(t[0]) | uint64(t[1])<<8 | uint64(t[2])<<16 | uint64(t[3])<<24 |
		uint64(t[4])<<32 | uint64(t[5])<<40 | uint64(t[6])<<48 | uint64(t[7])<<56
}

// plain8 reports whether the eight bytes of w are ASCII, none upper case
// and none a slash: what a fold passes over, as IDs are mostly lower
// case and digits.
func plain8(w uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	// With every byte below 0x80, adding to each carries into no other:
	// the high bit says a byte is at least 'A', and at least 'Z'+1; a
	// slash is a zero byte of w^'/'.
	upper := (w + ones*(0x80-'A')) &^ (w + ones*(0x80-'Z'-1))
	x := w ^ ones*'/'
	return (w|upper|(x-ones)&^x)&highs == 0
}

// keptSegment reports whether seg, ASCII and with upper case when upper,
// is its own key segment: folded as it is, and spelt as the word it folds
// as when it folds as one.
func keptSegment(seg string, upper bool) bool {
	if !mayBeWord(seg) {
		return !upper
	}
	c, ok := canonical[seg]
	if upper {
		return ok && c == seg
	}
	return !ok || c == seg
}

// wordStarts holds, by length, the first letters (folded, as bits from
// 'a') of the well-known words: most segments are not one, and are told
// so without a lookup.
var wordStarts = func() (starts [64]uint32) {
	for k := range canonical {
		if len(k) < len(starts) {
			starts[len(k)] |= 1 << ((k[0] | 0x20) - 'a')
		}
	}
	return starts
}()

// mayBeWord reports whether seg may fold as a well-known word.
func mayBeWord[S string | []byte](seg S) bool {
	if len(seg) == 0 || len(seg) >= len(wordStarts) {
		return false
	}
	c := (seg[0] | 0x20) - 'a'
	return c < 32 && wordStarts[len(seg)]&(1<<c) != 0
}

// FoldAll returns s with every segment folded, the well-known words too
// (foldKey): the keys stores keep, which are lower case throughout, and
// patterns matched against lower-case text.
func FoldAll(s string) string { return foldKey(s) }

// Location returns a location name as ARM compares and returns it: lower
// case, without spaces ("West US" is "westus").
func Location(s string) string {
	if !strings.ContainsRune(s, ' ') {
		return foldKey(s)
	}
	return foldKey(strings.ReplaceAll(s, " ", ""))
}

// SameLocation reports whether two location names name the same region.
func SameLocation(a, b string) bool { return Location(a) == Location(b) }

// NetworkID returns the canonical ID of a Microsoft.Network resource of the
// given type in a group (virtualNetworks, networkInterfaces, ...).
func NetworkID(sub, rg, resourceType, name string) string {
	return providerID(sub, rg, "Microsoft.Network", resourceType, name)
}
