// Package strategicpatch lets custom resources whose kind is a built-in
// Kubernetes type (a layer's apps/v1 Deployment, batch/v1 Job, …) accept
// strategic merge patches, which the apiextensions server refuses with 415.
//
// kubectl uses strategic merge patch for `set image`, `set env`,
// `rollout restart|pause|resume|undo` and client-side `apply`. The handler
// reads the current object, applies the patch with upstream semantics (merge
// keys and strategies from the k8s.io/api struct tags), and hands the result
// to the CRD handler as a JSON merge patch carrying the resourceVersion it
// read. A concurrent writer therefore causes a conflict, never a lost update;
// the handler retries conflicts unless the client pinned a resourceVersion.
//
// It also converts protobuf bodies of such resources, which client-go's typed
// clients send, to JSON (see protobuf.go).
package strategicpatch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	apiextensionslisters "k8s.io/apiextensions-apiserver/pkg/client/listers/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/apiserver/pkg/endpoints/handlers/responsewriters"
	"k8s.io/apiserver/pkg/endpoints/request"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
)

// maxAttempts bounds the retries after conflicts with concurrent writers.
const maxAttempts = 5

// Handler wraps the CRD handler.
type Handler struct {
	delegate http.Handler
	crds     apiextensionslisters.CustomResourceDefinitionLister
	// builtins knows the Go types of the built-in kinds.
	builtins *runtime.Scheme
}

// NewHandler returns a handler that serves strategic merge patches for
// custom resources of built-in kinds and passes everything else to delegate.
func NewHandler(delegate http.Handler, crds apiextensionslisters.CustomResourceDefinitionLister) *Handler {
	return &Handler{delegate: delegate, crds: crds, builtins: clientgoscheme.Scheme}
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	info, ok := request.RequestInfoFrom(r.Context())
	if ok && sendsProtobufObject(r, info) {
		h.serveProtobuf(w, r, info)
		return
	}
	if !ok || !info.IsResourceRequest || info.Verb != "patch" || !isStrategicMergePatch(r) ||
		(info.Subresource != "" && info.Subresource != "status") {
		h.delegate.ServeHTTP(w, r)
		return
	}
	dataStruct, ok := h.builtinType(info)
	if !ok {
		h.delegate.ServeHTTP(w, r)
		return
	}
	patch, err := io.ReadAll(r.Body)
	if err != nil {
		writeStatus(w, r, apierrors.NewBadRequest(fmt.Sprintf("reading the patch: %v", err)))
		return
	}
	if !json.Valid(patch) {
		writeStatus(w, r, apierrors.NewBadRequest("the patch is not valid JSON"))
		return
	}
	pinned := pinnedResourceVersion(patch)
	var last *bufferedResponse
	for attempt := 0; attempt < maxAttempts; attempt++ {
		current := h.serve(r, info, "get", http.MethodGet, "", nil)
		if current.status != http.StatusOK {
			current.copyTo(w)
			return
		}
		mergePatch, statusErr := toMergePatch(current.body.Bytes(), patch, dataStruct, pinned)
		if statusErr != nil {
			writeStatus(w, r, statusErr)
			return
		}
		last = h.serve(r, info, "patch", http.MethodPatch, string(types.MergePatchType), mergePatch)
		if last.status != http.StatusConflict || pinned {
			break
		}
	}
	last.copyTo(w)
}

// builtinType returns an empty value of the built-in Go type of the custom
// resource the request addresses, if it has one.
func (h *Handler) builtinType(info *request.RequestInfo) (runtime.Object, bool) {
	crd, err := h.crds.Get(info.Resource + "." + info.APIGroup)
	if err != nil {
		return nil, false
	}
	gvk := schema.GroupVersionKind{Group: info.APIGroup, Version: info.APIVersion, Kind: crd.Spec.Names.Kind}
	obj, err := h.builtins.New(gvk)
	if err != nil {
		return nil, false
	}
	return obj, true
}

// toMergePatch applies the strategic merge patch to current and expresses
// the result as a JSON merge patch from current, pinned to current's
// resourceVersion unless the client pinned one itself.
func toMergePatch(current, patch []byte, dataStruct runtime.Object, pinned bool) ([]byte, *apierrors.StatusError) {
	merged, err := strategicpatch.StrategicMergePatch(current, patch, dataStruct)
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	mergePatch, err := jsonpatch.CreateMergePatch(current, merged)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	if pinned {
		return mergePatch, nil
	}
	var cur struct {
		Metadata struct {
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(current, &cur); err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	var m map[string]interface{}
	if err := json.Unmarshal(mergePatch, &m); err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	md, _ := m["metadata"].(map[string]interface{})
	if md == nil {
		md = map[string]interface{}{}
	}
	md["resourceVersion"] = cur.Metadata.ResourceVersion
	m["metadata"] = md
	out, err := json.Marshal(m)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	return out, nil
}

// serve runs a request derived from r through the CRD handler and buffers
// the answer.
func (h *Handler) serve(r *http.Request, info *request.RequestInfo, verb, method, contentType string, body []byte) *bufferedResponse {
	derived := *info
	derived.Verb = verb
	ctx := request.WithRequestInfo(r.Context(), &derived)
	req := r.Clone(ctx)
	req.Method = method
	if body == nil {
		req.Body = http.NoBody
		req.ContentLength = 0
		req.Header.Del("Content-Type")
		req.URL.RawQuery = ""
	} else {
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	rec := &bufferedResponse{header: http.Header{}, status: http.StatusOK}
	h.delegate.ServeHTTP(rec, req)
	return rec
}

func isStrategicMergePatch(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	if i := strings.Index(ct, ";"); i >= 0 {
		ct = ct[:i]
	}
	return strings.TrimSpace(ct) == string(types.StrategicMergePatchType)
}

// pinnedResourceVersion reports whether the patch names a resourceVersion,
// which makes it conditional on that version.
func pinnedResourceVersion(patch []byte) bool {
	var p struct {
		Metadata struct {
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
	}
	return json.Unmarshal(patch, &p) == nil && p.Metadata.ResourceVersion != ""
}

func writeStatus(w http.ResponseWriter, r *http.Request, err *apierrors.StatusError) {
	responsewriters.ErrorNegotiated(err, errorCodecs, schema.GroupVersion{Version: "v1"}, w, r)
}

var errorCodecs = newStatusCodecs()

// bufferedResponse is an http.ResponseWriter that keeps the answer.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header         { return b.header }
func (b *bufferedResponse) Write(p []byte) (int, error) { return b.body.Write(p) }
func (b *bufferedResponse) WriteHeader(status int)      { b.status = status }

func (b *bufferedResponse) copyTo(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	w.WriteHeader(b.status)
	_, _ = w.Write(b.body.Bytes())
}
