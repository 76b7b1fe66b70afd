package strategicpatch

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/apiserver/pkg/endpoints/request"
)

// Client-go's typed clients send built-in kinds (a layer's apps/v1
// Deployment included) as protobuf, which the CRD handler cannot decode: it
// panics when the client asks for strict field validation, as kubectl does.
// Such bodies are converted to JSON through the built-in Go type before they
// reach the CRD handler. The CRD handler answers in JSON, which the clients
// accept.

// sendsProtobufObject reports whether r creates or updates a custom resource
// (or its status) with a protobuf body. The scale subresource is left alone:
// the CRD handler serves autoscaling/v1 Scale in protobuf itself, and so are
// DeleteOptions, which it decodes with the meta codecs.
func sendsProtobufObject(r *http.Request, info *request.RequestInfo) bool {
	if !info.IsResourceRequest || (info.Verb != "create" && info.Verb != "update") ||
		(info.Subresource != "" && info.Subresource != "status") {
		return false
	}
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mediaType == runtime.ContentTypeProtobuf
}

// serveProtobuf hands the CRD handler a JSON copy of r's protobuf body, or
// answers 415 if the resource's kind has no built-in Go type.
func (h *Handler) serveProtobuf(w http.ResponseWriter, r *http.Request, info *request.RequestInfo) {
	crd, err := h.crds.Get(info.Resource + "." + info.APIGroup)
	if err != nil {
		// Not a custom resource: the CRD handler answers 404.
		h.delegate.ServeHTTP(w, r)
		return
	}
	gvk := schema.GroupVersionKind{Group: info.APIGroup, Version: info.APIVersion, Kind: crd.Spec.Names.Kind}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeStatus(w, r, apierrors.NewBadRequest(fmt.Sprintf("reading the body: %v", err)))
		return
	}
	converted, statusErr := protobufToJSON(h.builtins, body, gvk)
	if statusErr != nil {
		writeStatus(w, r, statusErr)
		return
	}
	req := r.Clone(r.Context())
	req.Body = io.NopCloser(bytes.NewReader(converted))
	req.ContentLength = int64(len(converted))
	req.Header.Set("Content-Length", strconv.Itoa(len(converted)))
	req.Header.Set("Content-Type", runtime.ContentTypeJSON)
	h.delegate.ServeHTTP(w, req)
}

// protobufToJSON decodes a protobuf body into the built-in Go type of gvk
// and encodes it as JSON with its apiVersion and kind. A body that names
// another kind is converted too if the scheme knows it: the CRD handler
// rejects it as it rejects such a JSON body.
func protobufToJSON(scheme *runtime.Scheme, body []byte, gvk schema.GroupVersionKind) ([]byte, *apierrors.StatusError) {
	if !scheme.Recognizes(gvk) {
		return nil, unsupportedMediaType(gvk)
	}
	obj, actual, err := protobuf.NewSerializer(scheme, scheme).Decode(body, &gvk, nil)
	switch {
	case runtime.IsNotRegisteredError(err) && actual != nil:
		return nil, unsupportedMediaType(*actual)
	case err != nil:
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the body of the request is not a valid protobuf %s: %v", gvk.Kind, err))
	}
	obj.GetObjectKind().SetGroupVersionKind(*actual)
	var out bytes.Buffer
	if err := json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme, scheme, json.SerializerOptions{}).Encode(obj, &out); err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	return out.Bytes(), nil
}

// unsupportedMediaType is the CRD handler's 415, saying why protobuf is
// refused.
func unsupportedMediaType(gvk schema.GroupVersionKind) *apierrors.StatusError {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status: metav1.StatusFailure,
		Code:   http.StatusUnsupportedMediaType,
		Reason: metav1.StatusReasonUnsupportedMediaType,
		Message: fmt.Sprintf("the body of the request was in an unknown format - accepted media types include: %s, %s "+
			"(%s only for built-in kinds, and %s %s is not one)",
			runtime.ContentTypeJSON, runtime.ContentTypeYAML, runtime.ContentTypeProtobuf, gvk.GroupVersion(), gvk.Kind),
	}}
}
