package armapi_test

import (
	"net/http"
	"testing"
	"time"
)

// BenchmarkUniformScale0To1000AndBack scales a Uniform set from 0 to 1,000
// instances, lets every create finish (the manual clock fires each step of
// all 1,000 at once, one transaction per step), and back to 0. It checks
// the counts at both ends.
func BenchmarkUniformScale0To1000AndBack(b *testing.B) {
	e := newEnv(b, withPageSize(1000))
	e.createGroup("rg")
	e.must(http.StatusCreated, http.MethodPut, setPath("rg", "ss"), uniformSet("rg", 0))
	e.advance(time.Minute)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.must(http.StatusOK, http.MethodPut, setPath("rg", "ss"), uniformSet("rg", 1000))
		e.advance(2 * time.Minute)
		if got := e.summary("rg", "ss")["PowerState/running"]; got != 1000 {
			b.Fatalf("%d instances running, want 1000", got)
		}
		e.must(http.StatusOK, http.MethodPut, setPath("rg", "ss"), uniformSet("rg", 0))
		e.advance(time.Minute)
		if v := e.must(http.StatusOK, http.MethodGet, setPath("rg", "ss")+"/virtualMachines", nil).JSON(b)["value"].([]any); len(v) != 0 {
			b.Fatalf("%d instances left, want 0", len(v))
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/cycle")
}
