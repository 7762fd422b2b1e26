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
	return got, want, splitCanonical(vm.Model, &vmModel{}), nil
}
