package scenariotest

import (
	"reflect"
	"testing"

	"github.com/azemu/azemu/internal/kinds/resource"
)

// A Decoder reads a kind's snapshot back from its stored row.
type Decoder func(id string, row resource.Row, version int64) (resource.State, error)

// SameDecoding fails t unless byHand, a kind's hand reader, reads body as
// json (encoding/json) does: an error for an error, else the same
// snapshot.
func SameDecoding(t testing.TB, body []byte, json, byHand Decoder) {
	t.Helper()
	row := resource.Row{SubscriptionID: "s", ResourceGroup: "rg", Name: "n", Body: body}
	want, wantErr := json("/id", row, 3)
	got, err := byHand("/id", row, 3)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("decode %q: error %v, json's %v", body, err, wantErr)
	}
	if err == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("decode %q:\n got %#v\nwant %#v", body, got, want)
	}
}
