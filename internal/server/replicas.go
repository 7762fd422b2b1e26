package server

import (
	"net/http"

	"github.com/azemu/azemu/internal/armerror"
	"github.com/azemu/azemu/internal/engine"
)

// caughtUp serves each request only once the engine has caught up on the
// changes other servers of its store committed (engine.Sync): a write one
// replica acknowledged is in what any replica answers next. On a store no
// other server shares, next is returned as it is.
func caughtUp(eng *engine.Engine, next http.Handler) http.Handler {
	if !eng.Shared() {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := eng.Sync(r.Context()); err != nil {
			if r.Context().Err() != nil {
				return // the client has gone
			}
			e := armerror.New("ServiceUnavailable", "The store shared by azemu's servers did not answer: %v. Retry the request.", err)
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write(e.Envelope())
			return
		}
		next.ServeHTTP(w, r)
	})
}
