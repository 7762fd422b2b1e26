package storetest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/store"
)

// OldHistory is a history as a backend's schema before the compact event
// rows kept it, for a migration test: each event with the Seq it had. Its
// IDs, state words, details and operation IDs take every form the
// migration must keep as they were, and its Seqs leave gaps, as Reset and
// Compact leave them.
func OldHistory() []store.Event {
	a, b := vmID(subA, "rg", "a"), vmID(subB, "RG", "B")
	detail := json.RawMessage(`{"vmSize":"Standard_D2s_v5","location":"westeurope","osType":"Linux"}`)
	var evs []store.Event
	at := t0
	add := func(seq int64, id, opID string, detail json.RawMessage, words ...string) {
		evs = append(evs, store.Event{Seq: seq, VMID: id, At: at, ProvisioningState: words[0], ProvisioningCode: words[1],
			PowerState: words[2], OperationID: opID, OperationKind: words[3], Detail: detail})
		at = at.Add(time.Second + time.Nanosecond)
	}
	creating := []string{"Creating", "ProvisioningState/creating", "", "create"}
	running := []string{"Succeeded", "ProvisioningState/succeeded", "running", "create"}
	add(3, a, opID(1), detail, creating...)
	add(4, b, strings.ToUpper(subB), detail, creating...)
	add(5, a, opID(1), detail, running...)
	add(9, b, "", nil, "Succeeded", "ProvisioningState/succeeded", "", "")
	add(10, a, "not-a-guid", json.RawMessage(`{}`), "Updating", "ProvisioningState/updating", "stopping", "powerOff")
	add(11, b, opID(2), json.RawMessage(`{"vmSize":"Standard_D2s_v5"}`), running...)
	add(12, a, opID(3), detail, "Deleted", "ProvisioningState/deleted", "", "delete")
	add(13, strings.ToUpper(a), opID(4), detail, creating...)
	return evs
}

// OldCounter is the events' sequence counter of OldHistory's store: past
// its last Seq, as after a Reset of newer events.
const OldCounter = 20

// CheckMigratedHistory checks that s, migrated from a schema that held
// OldHistory, reads it back as it was, whole and by resource, and numbers
// a new event after OldCounter.
func CheckMigratedHistory(t *testing.T, s store.Store) {
	t.Helper()
	old := OldHistory()
	check(t, "the migrated history", allHistory(t, s), old)
	var ofA []store.Event
	for _, e := range old {
		if store.Key(e.VMID) == store.Key(old[0].VMID) {
			ofA = append(ofA, e)
		}
	}
	check(t, "a resource's migrated history", history(t, s, strings.ToUpper(old[0].VMID), farPast, farFuture), ofA)
	next := old[len(old)-1]
	next.Seq, next.At = 0, next.At.Add(time.Hour)
	c := store.Change{Events: []store.Event{next}}
	if err := s.Apply(context.Background(), c); err != nil {
		t.Fatalf("Apply after the migration: %v", err)
	}
	if c.Events[0].Seq <= OldCounter {
		t.Errorf("the first Seq after the migration is %d, want more than %d", c.Events[0].Seq, OldCounter)
	}
	check(t, "the history after a new event", allHistory(t, s), append(old, c.Events[0]))
}
