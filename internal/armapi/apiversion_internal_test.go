package armapi

import "testing"

func TestWellFormedAPIVersion(t *testing.T) {
	for v, want := range map[string]bool{
		"2025-04-01": true, "2024-03-01-preview": true, "2019-07-01-beta.2": true,
		"": false, "2025-4-01": false, "2025/04/01": false, "2025-04-01-": false, "2025-04-01preview": false,
		"abcd-ef-gh": false, "2025-04-01-pre view": false, "2025-04-0x": false,
	} {
		if got := wellFormedAPIVersion(v); got != want {
			t.Errorf("%q: %v, want %v", v, got, want)
		}
	}
}

func FuzzWellFormedAPIVersion(f *testing.F) {
	for _, s := range []string{"2025-04-01", "2024-03-01-preview", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if wellFormedAPIVersion(v) && (len(v) < 10 || v[4] != '-' || v[7] != '-') {
			t.Fatalf("accepted %q", v)
		}
	})
}
