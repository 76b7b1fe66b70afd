package strategicpatch

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionslisters "k8s.io/apiextensions-apiserver/pkg/client/listers/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/apiserver/pkg/endpoints/request"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/cache"
)

var deploymentGVK = appsv1.SchemeGroupVersion.WithKind("Deployment")

func encodeProtobuf(t *testing.T, obj runtime.Object) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := protobuf.NewSerializer(clientgoscheme.Scheme, clientgoscheme.Scheme).Encode(obj, &buf); err != nil {
		t.Fatalf("encoding %T: %v", obj, err)
	}
	return buf.Bytes()
}

func protoDeployment() *appsv1.Deployment {
	replicas := int32(2)
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "nginx", Image: "nginx"}}},
			},
		},
	}
}

const deploymentJSON = `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"default"},
"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"strategy":{},
"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"nginx","image":"nginx","resources":{}}]}}},
"status":{}}`

func TestProtobufToJSON(t *testing.T) {
	tests := []struct {
		name     string
		body     []byte
		gvk      schema.GroupVersionKind
		want     string
		wantCode int32
	}{{
		name: "deployment",
		body: encodeProtobuf(t, protoDeployment()),
		gvk:  deploymentGVK,
		want: deploymentJSON,
	}, {
		name: "another built-in kind is converted, for the CRD handler to reject",
		body: encodeProtobuf(t, &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}, ObjectMeta: metav1.ObjectMeta{Name: "c"}}),
		gvk:  deploymentGVK,
		want: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}`,
	}, {
		name:     "kind without a built-in type",
		body:     encodeProtobuf(t, protoDeployment()),
		gvk:      schema.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Widget"},
		wantCode: http.StatusUnsupportedMediaType,
	}, {
		name:     "not protobuf",
		body:     []byte(`{"apiVersion":"apps/v1","kind":"Deployment"}`),
		gvk:      deploymentGVK,
		wantCode: http.StatusBadRequest,
	}, {
		name:     "truncated protobuf",
		body:     encodeProtobuf(t, protoDeployment())[:40],
		gvk:      deploymentGVK,
		wantCode: http.StatusBadRequest,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, statusErr := protobufToJSON(clientgoscheme.Scheme, tt.body, tt.gvk)
			if tt.wantCode != 0 {
				if statusErr == nil || statusErr.ErrStatus.Code != tt.wantCode {
					t.Fatalf("want a %d, got %v (body %s)", tt.wantCode, statusErr, got)
				}
				return
			}
			if statusErr != nil {
				t.Fatalf("protobufToJSON: %v", statusErr)
			}
			if diff := cmp.Diff(decode(t, tt.want), decode(t, string(got))); diff != "" {
				t.Errorf("JSON (-want +got):\n%s", diff)
			}
		})
	}
}

func TestServeHTTPProtobuf(t *testing.T) {
	deployment := encodeProtobuf(t, protoDeployment())
	tests := []struct {
		name        string
		method      string
		resource    string
		subresource string
		contentType string
		body        []byte
		// wantBody is the JSON the CRD handler gets; empty: r's own body.
		wantBody string
		wantCode int
	}{{
		name: "create", method: http.MethodPost, resource: "deployments",
		contentType: "application/vnd.kubernetes.protobuf", body: deployment, wantBody: deploymentJSON,
	}, {
		name: "update with parameters in the content type", method: http.MethodPut, resource: "deployments",
		contentType: "application/vnd.kubernetes.protobuf; charset=utf-8", body: deployment, wantBody: deploymentJSON,
	}, {
		name: "update status", method: http.MethodPut, resource: "deployments", subresource: "status",
		contentType: "application/vnd.kubernetes.protobuf", body: deployment, wantBody: deploymentJSON,
	}, {
		name: "scale is served in protobuf by the CRD handler", method: http.MethodPut, resource: "deployments", subresource: "scale",
		contentType: "application/vnd.kubernetes.protobuf", body: []byte("scale"),
	}, {
		name: "delete options are decoded by the CRD handler", method: http.MethodDelete, resource: "deployments",
		contentType: "application/vnd.kubernetes.protobuf", body: []byte("options"),
	}, {
		name: "JSON passes through", method: http.MethodPost, resource: "deployments",
		contentType: "application/json", body: []byte(`{"kind":"Deployment"}`),
	}, {
		name: "not a custom resource: the CRD handler answers 404", method: http.MethodPost, resource: "gadgets",
		contentType: "application/vnd.kubernetes.protobuf", body: deployment,
	}, {
		name: "kind without a built-in type", method: http.MethodPost, resource: "widgets",
		contentType: "application/vnd.kubernetes.protobuf", body: deployment, wantCode: http.StatusUnsupportedMediaType,
	}, {
		name: "invalid protobuf", method: http.MethodPost, resource: "deployments",
		contentType: "application/vnd.kubernetes.protobuf", body: []byte("garbage"), wantCode: http.StatusBadRequest,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *http.Request
			var gotBody []byte
			delegate := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = r
				gotBody, _ = io.ReadAll(r.Body)
				w.WriteHeader(http.StatusTeapot)
			})
			h := NewHandler(delegate, crdLister(t,
				crdOf("apps", "deployments", "Deployment"), crdOf("example.com", "widgets", "Widget")))

			group := "apps"
			if tt.resource == "widgets" {
				group = "example.com"
			}
			info := &request.RequestInfo{
				IsResourceRequest: true, Verb: verbOf(tt.method), APIGroup: group, APIVersion: "v1",
				Namespace: "default", Resource: tt.resource, Subresource: tt.subresource, Name: "web",
			}
			r := httptest.NewRequest(tt.method, "/apis/"+group+"/v1/namespaces/default/"+tt.resource, bytes.NewReader(tt.body))
			r = r.WithContext(request.WithRequestInfo(r.Context(), info))
			r.Header.Set("Content-Type", tt.contentType)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)

			if tt.wantCode != 0 {
				if w.Code != tt.wantCode || got != nil {
					t.Fatalf("status = %d (delegate called: %v), want %d from the handler: %s", w.Code, got != nil, tt.wantCode, w.Body)
				}
				return
			}
			if got == nil {
				t.Fatalf("the delegate was not called; status %d: %s", w.Code, w.Body)
			}
			if tt.wantBody == "" {
				if !bytes.Equal(gotBody, tt.body) || got.Header.Get("Content-Type") != tt.contentType {
					t.Errorf("delegate got %q as %q, want the request untouched", gotBody, got.Header.Get("Content-Type"))
				}
				return
			}
			if diff := cmp.Diff(decode(t, tt.wantBody), decode(t, string(gotBody))); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
			wantHeaders := map[string]string{"Content-Type": "application/json", "Content-Length": strconv.Itoa(len(gotBody))}
			gotHeaders := map[string]string{"Content-Type": got.Header.Get("Content-Type"), "Content-Length": got.Header.Get("Content-Length")}
			if diff := cmp.Diff(wantHeaders, gotHeaders); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
			if got.ContentLength != int64(len(gotBody)) {
				t.Errorf("ContentLength = %d, want %d", got.ContentLength, len(gotBody))
			}
		})
	}
}

func verbOf(method string) string {
	return map[string]string{http.MethodPost: "create", http.MethodPut: "update", http.MethodDelete: "delete"}[method]
}

func crdOf(group, plural, kind string) *apiextensionsv1.CustomResourceDefinition {
	return &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: plural + "." + group},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: group,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: plural, Kind: kind},
		},
	}
}

func crdLister(t *testing.T, crds ...*apiextensionsv1.CustomResourceDefinition) apiextensionslisters.CustomResourceDefinitionLister {
	t.Helper()
	indexer := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{})
	for _, crd := range crds {
		if err := indexer.Add(crd); err != nil {
			t.Fatal(err)
		}
	}
	return apiextensionslisters.NewCustomResourceDefinitionLister(indexer)
}
