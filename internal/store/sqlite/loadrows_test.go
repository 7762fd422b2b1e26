package sqlite

import "testing"

// TestRowScopes: each pair of names has its own scope, even pairs whose
// names run together alike, and the names a scope holds are the pair's.
func TestRowScopes(t *testing.T) {
	pairs := [][2]string{{"ab", "c"}, {"a", "bc"}, {"abc", ""}, {"", "abc"}, {"ab", "c"}, {"sub", "rg"}, {"SUB", "rg"}}
	var scopes rowScopes
	for _, p := range pairs {
		sc := scopes.of([]byte(p[0]), []byte(p[1]))
		if sc.scope != scopeOf(p[0], p[1]) || sc.sub != p[0] || sc.group != p[1] {
			t.Errorf("%q, %q: scope %q holding %q and %q, want %q", p[0], p[1], sc.scope, sc.sub, sc.group, scopeOf(p[0], p[1]))
		}
	}
	if len(scopes.known) != len(pairs)-1 {
		t.Errorf("%d scopes kept for %d distinct pairs", len(scopes.known), len(pairs)-1)
	}
}
