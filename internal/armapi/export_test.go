package armapi

import (
	"context"

	"github.com/azemu/azemu/internal/engine"
)

// VMAnswersBothWays renders each GET answer of vm as the handlers do
// (vmrender.go) and as they did before it (referenceVMAnswer), for the
// tests outside the package; the answers are keyed by the request that
// reads them. direct says whether the model was split as it is stored,
// with no decoding.
func VMAnswersBothWays(eng *engine.Engine, vm *engine.VM) (got, want map[string][]byte, direct bool, err error) {
	s := New(Config{Engine: eng})
	got, want = map[string][]byte{}, map[string][]byte{}
	exts := eng.Extensions(vm.ID)
	for name, a := range allVMAnswers {
		if got[name], err = s.renderVMAnswer(context.Background(), vm, a, exts); err != nil {
			return nil, nil, false, err
		}
		if want[name], err = s.referenceVMAnswer(context.Background(), vm, a, exts); err != nil {
			return nil, nil, false, err
		}
	}
	return got, want, splitCanonical(vm.Model.Bytes(), &vmModel{}), nil
}

// ListPagesBothWays writes the pages the list handlers answer for vms (on
// one page, with no nextLink) as they do (listrender.go) and as they did
// before it, keyed by the request's query; set's instance pages too when
// set is not nil, each over its members.
func ListPagesBothWays(eng *engine.Engine, vms []*engine.VM, set *engine.ScaleSet) (got, want map[string][]byte) {
	s := New(Config{Engine: eng})
	never := func() bool { return false }
	got = map[string][]byte{
		"statusOnly=true":      statusOnlyPage(vms, "", never, s.statusOnly),
		"":                     s.vmPage(vms, "", answerVM),
		"$expand=instanceView": s.vmPage(vms, "", answerVMInstanceView),
	}
	want = map[string][]byte{
		"statusOnly=true":      referenceStatusOnlyPage(vms, "", never),
		"":                     referenceVMPage(vms, "", false),
		"$expand=instanceView": referenceVMPage(vms, "", true),
	}
	if set != nil {
		members := eng.Members(set)
		got["instances"], want["instances"] = instancePage(set, members, answerVM), referenceInstancePage(set, members, false)
		got["instances&$expand=instanceView"] = instancePage(set, members, answerVMInstanceView)
		want["instances&$expand=instanceView"] = referenceInstancePage(set, members, true)
	}
	return got, want
}
