package armapi

import "net/http"

// reply is what a handler answers when it succeeds: a status, headers of
// its own, and a JSON body (nil for none).
type reply struct {
	status int
	header map[string]string
	body   any
}

func ok(body any) (reply, error) { return reply{status: http.StatusOK, body: body}, nil }

// tagged answers 200 with a resource and its entity tag, as a GET of one
// resource does.
func tagged(etag string, body any) (reply, error) {
	return reply{status: http.StatusOK, header: map[string]string{"ETag": etag}, body: body}, nil
}

// handler is a handler that returns its answer instead of writing it: a
// reply, or an error that answer renders in ARM's envelope.
type handler func(r *request) (reply, error)

// answer is the one writer of a handler's result, curried so that a route
// can hand it a handler's call: s.answer(r)(s.costQuery(r, sub, rg)).
func (s *Server) answer(r *request) func(reply, error) {
	return func(rep reply, err error) {
		if err != nil {
			s.writeErr(r, err)
			return
		}
		for k, v := range rep.header {
			r.w.Header().Set(k, v)
		}
		if rep.body == nil {
			r.w.WriteHeader(rep.status)
			return
		}
		s.writeJSON(r, rep.status, rep.body)
	}
}

// serve adapts a returning handler to the router's calls.
func (s *Server) serve(h handler) func(*request) {
	return func(r *request) { s.answer(r)(h(r)) }
}
