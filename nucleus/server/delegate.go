package server

import (
	"net/http"

	genericapiserver "k8s.io/apiserver/pkg/server"
)

// withHandler is a delegation target whose requests pass through handler
// first; everything else is the wrapped target's.
type withHandler struct {
	genericapiserver.DelegationTarget
	handler http.Handler
}

// UnprotectedHandler returns the wrapping handler.
func (w withHandler) UnprotectedHandler() http.Handler { return w.handler }
