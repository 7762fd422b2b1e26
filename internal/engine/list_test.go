package engine

import (
	"slices"
	"strings"
	"testing"

	"github.com/azemu/azemu/internal/armid"
)

// ListVMsIn answers every page as ListVMs does with a match on the
// prefix, from any token, whatever the prefix and page size.
func TestListVMsInPagesLikeAPrefixMatch(t *testing.T) {
	r := newRig(t)
	for _, g := range []string{"rg-a", "RG-b", "rg-b2", "rg-c"} {
		r.group(g)
		for _, n := range []string{"vm1", "VM2", "vm3"} {
			r.createVM(g, n, false)
		}
	}
	all, _ := r.eng.ListVMs(nil, "", 0)
	if len(all) != 12 {
		t.Fatalf("%d VMs, want 12", len(all))
	}
	tokens := []string{"", "/", "/subscriptions/", "~"}
	for _, v := range all {
		tokens = append(tokens, armid.Fold(v.ID))
	}
	sub := "/subscriptions/" + armid.Fold(testSub) + "/"
	group := func(g string) string {
		return armid.Fold(armid.ResourceGroupID(testSub, g)) + "/providers/Microsoft.Compute/virtualMachines/"
	}
	if page, _ := r.eng.ListVMsIn(group("rg-a"), nil, "", 0); len(page) != 3 {
		t.Fatalf("%d VMs in rg-a, want 3", len(page))
	}
	odd := func(v *VM) bool { return strings.HasSuffix(v.Name, "1") || strings.HasSuffix(v.Name, "3") }
	for _, prefix := range []string{"", sub, group("rg-a"), group("rg-b"), group("RG-B2"), group("rg-c"), group("rg-none"), "/subscriptions/other/"} {
		for _, match := range []func(*VM) bool{nil, odd} {
			inPrefix := func(v *VM) bool {
				return strings.HasPrefix(armid.Fold(v.ID), prefix) && (match == nil || match(v))
			}
			for _, limit := range []int{0, 1, 2, 3, 5} {
				for _, after := range tokens {
					got, gotNext := r.eng.ListVMsIn(prefix, match, after, limit)
					want, wantNext := r.eng.ListVMs(inPrefix, after, limit)
					if !slices.Equal(got, want) || gotNext != wantNext {
						t.Fatalf("prefix %q, after %q, limit %d: %d VMs, next %q; want %d, next %q", prefix, after, limit, len(got), gotNext, len(want), wantNext)
					}
					// A token of a build whose keys were lower case
					// pages as the key it folds as.
					if old, _ := r.eng.ListVMsIn(prefix, match, armid.FoldAll(after), limit); !slices.Equal(old, got) {
						t.Fatalf("prefix %q, after %q lower case, limit %d: %d VMs; want %d", prefix, after, limit, len(old), len(got))
					}
				}
			}
		}
	}
}
