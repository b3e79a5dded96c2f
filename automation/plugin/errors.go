package plugin

import (
	"context"
	"errors"
	"net/http"

	"github.com/google/go-github/v89/github"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent marks err as not worth retrying: retrying the same event would
// fail the same way.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// Retryable says whether a handler's error is worth retrying. Errors marked
// Permanent, cancelled contexts, GitHub 4xx responses other than rate
// limits, and API server errors that a retry cannot cure (invalid,
// forbidden, bad request) are not; everything else is.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	var p permanentError
	if errors.As(err, &p) || errors.Is(err, context.Canceled) {
		return false
	}
	var rl *github.RateLimitError
	var arl *github.AbuseRateLimitError
	if errors.As(err, &rl) || errors.As(err, &arl) {
		return true
	}
	var ge *github.ErrorResponse
	if errors.As(err, &ge) && ge.Response != nil {
		code := ge.Response.StatusCode
		return code >= 500 || code == http.StatusTooManyRequests
	}
	if apierrors.IsInvalid(err) || apierrors.IsForbidden(err) || apierrors.IsBadRequest(err) ||
		apierrors.IsMethodNotSupported(err) || apierrors.IsNotAcceptable(err) || apierrors.IsUnsupportedMediaType(err) {
		return false
	}
	return true
}
