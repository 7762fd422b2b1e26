package armerror

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
)

func TestStatusAndEnvelope(t *testing.T) {
	for _, tc := range []struct {
		err        *Error
		wantStatus int
		wantBody   string
	}{
		{ResourceGroupNotFound("rg1"), 404, `{"error":{"code":"ResourceGroupNotFound","message":"Resource group 'rg1' could not be found."}}`},
		{WithTarget(CodeInvalidParameter, "properties.x", "bad %d", 7), 400, `{"error":{"code":"InvalidParameter","message":"bad 7","target":"properties.x"}}`},
		{&Error{Code: CodeOperationNotAllowed, Message: "no", Status: 400}, 400, `{"error":{"code":"OperationNotAllowed","message":"no"}}`},
		{New(CodeOperationNotAllowed, "no"), 409, `{"error":{"code":"OperationNotAllowed","message":"no"}}`},
		{New("SomethingNew", "?"), 500, `{"error":{"code":"SomethingNew","message":"?"}}`},
	} {
		if got := tc.err.HTTPStatus(); got != tc.wantStatus {
			t.Errorf("%v: status %d, want %d", tc.err, got, tc.wantStatus)
		}
		if got := string(tc.err.Envelope()); got != tc.wantBody+"\n" {
			t.Errorf("%v: body %s, want %s", tc.err, got, tc.wantBody)
		}
		var parsed map[string]map[string]string
		if err := json.Unmarshal(tc.err.Envelope(), &parsed); err != nil || parsed["error"]["code"] != tc.err.Code {
			t.Errorf("%v: envelope does not parse: %v", tc.err, err)
		}
	}
}

func TestFrom(t *testing.T) {
	wrapped := fmt.Errorf("putting: %w", ResourceNotFound("Microsoft.Compute/disks", "rg", "d1"))
	if e, known := From(wrapped); !known || e.Code != CodeResourceNotFound || e.HTTPStatus() != 404 {
		t.Errorf("wrapped: %v %v", e, known)
	}
	e, known := From(errors.New("disk I/O error: /var/lib/secret"))
	if known || e.Code != CodeInternalServerError || e.HTTPStatus() != 500 || e.Message == "" {
		t.Errorf("internal: %v %v", e, known)
	}
}
