package httpx

import (
	"fmt"
	"net/http"
)

// CloneForRetry returns a deep copy of req with a fresh body from
// req.GetBody, ready to be sent again. A request without a body clones
// as is; one with a body but no GetBody returns ErrNotReplayable.
func CloneForRetry(req *http.Request) (*http.Request, error) {
	if req == nil {
		return nil, fmt.Errorf("%w: nil request", ErrNotReplayable)
	}
	r2 := req.Clone(req.Context())
	if req.Body == nil || req.Body == http.NoBody {
		return r2, nil
	}
	if req.GetBody == nil {
		return nil, ErrNotReplayable
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotReplayable, err)
	}
	r2.Body = body
	return r2, nil
}
