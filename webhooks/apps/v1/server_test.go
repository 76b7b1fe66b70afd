/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package v1

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"github.com/google/go-cmp/cmp"
	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/yaml"

	stratav1 "github.com/strata-dev/strata/apis/apps/v1"
	"github.com/strata-dev/strata/apis/scheme"
)

// webhookMux builds a manager (never started, so no API server is needed),
// registers the webhooks as the apps layer's manager does, and returns the
// handler of its webhook server.
func webhookMux(t *testing.T) http.Handler {
	t.Helper()
	ctrl.SetLogger(logr.Discard())
	mgr, err := ctrl.NewManager(&rest.Config{Host: "https://127.0.0.1:1"}, ctrl.Options{
		Scheme:  scheme.New(),
		Metrics: metricsserver.Options{BindAddress: "0"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := SetupDeploymentWebhookWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	if err := SetupReplicaSetWebhookWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	return mgr.GetWebhookServer().WebhookMux()
}

// review posts an AdmissionReview for obj (and old, on updates) to path and
// returns the response.
func review(t *testing.T, mux http.Handler, path string, op admissionv1.Operation, obj, old runtime.Object) *admissionv1.AdmissionResponse {
	t.Helper()
	raw := func(o runtime.Object) runtime.RawExtension {
		if o == nil {
			return runtime.RawExtension{}
		}
		b, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		return runtime.RawExtension{Raw: b}
	}
	kind, resource := "Deployment", "deployments"
	if _, ok := obj.(*stratav1.ReplicaSet); ok {
		kind, resource = "ReplicaSet", "replicasets"
	}
	body, err := json.Marshal(&admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID:       types.UID("1"),
			Kind:      metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: kind},
			Resource:  metav1.GroupVersionResource{Group: "apps", Version: "v1", Resource: resource},
			Namespace: "default",
			Operation: op,
			Object:    raw(obj),
			OldObject: raw(old),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("POST %s: HTTP %d: %s", path, rec.Code, rec.Body)
	}
	var out admissionv1.AdmissionReview
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("POST %s: decoding the AdmissionReview: %v", path, err)
	}
	if out.Response == nil || out.Response.UID != "1" {
		t.Fatalf("POST %s: response %+v does not answer request 1", path, out.Response)
	}
	return out.Response
}

func TestServerDefaultsWithPatch(t *testing.T) {
	mux := webhookMux(t)
	d := makeDeployment("web").Obj()
	resp := review(t, mux, "/mutate-apps-v1-deployment", admissionv1.Create, d, nil)
	if !resp.Allowed || resp.PatchType == nil || *resp.PatchType != admissionv1.PatchTypeJSONPatch {
		t.Fatalf("response = allowed %t, patch type %v; want an allowed JSON patch", resp.Allowed, resp.PatchType)
	}
	// The API server applies the patch to what it sent: the result must be
	// the defaulted object.
	patch, err := jsonpatch.DecodePatch(resp.Patch)
	if err != nil {
		t.Fatal(err)
	}
	original, _ := json.Marshal(d)
	patched, err := patch.Apply(original)
	if err != nil {
		t.Fatalf("applying %s: %v", resp.Patch, err)
	}
	var got stratav1.Deployment
	if err := json.Unmarshal(patched, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(makeDeployment("web").Defaulted(), &got); diff != "" {
		t.Errorf("patched Deployment mismatch (-want +got):\n%s", diff)
	}

	// A defaulted object needs no patch.
	resp = review(t, mux, "/mutate-apps-v1-deployment", admissionv1.Update, makeDeployment("web").Defaulted(), makeDeployment("web").Defaulted())
	if !resp.Allowed || len(resp.Patch) != 0 {
		t.Errorf("defaulted Deployment: allowed %t, patch %s; want allowed without a patch", resp.Allowed, resp.Patch)
	}

	rs := makeReplicaSet("web").Obj()
	resp = review(t, mux, "/mutate-apps-v1-replicaset", admissionv1.Create, rs, nil)
	if !resp.Allowed || !strings.Contains(string(resp.Patch), `{"op":"add","path":"/spec/replicas","value":1}`) {
		t.Errorf("ReplicaSet: allowed %t, patch %s; want replicas added", resp.Allowed, resp.Patch)
	}
}

func TestServerDeniesInvalid(t *testing.T) {
	mux := webhookMux(t)
	d := makeDeployment("x").TemplateLabels(map[string]string{"app": "y"}).Defaulted()
	resp := review(t, mux, "/validate-apps-v1-deployment", admissionv1.Create, d, nil)
	if resp.Allowed {
		t.Fatal("invalid Deployment allowed")
	}
	// kube-apiserver prefixes the message with the webhook's name and keeps
	// code, reason and details, from which kubectl prints
	// The Deployment "x" is invalid: spec.template.metadata.labels: ...
	want := &metav1.Status{
		Status:  metav1.StatusFailure,
		Code:    http.StatusUnprocessableEntity,
		Reason:  metav1.StatusReasonInvalid,
		Message: "Deployment.apps \"x\" is invalid: spec.template.metadata.labels: Invalid value: {\"app\":\"y\"}: `selector` does not match template `labels`",
		Details: &metav1.StatusDetails{Name: "x", Group: "apps", Kind: "Deployment", Causes: []metav1.StatusCause{{
			Type:    metav1.CauseTypeFieldValueInvalid,
			Message: "Invalid value: {\"app\":\"y\"}: `selector` does not match template `labels`",
			Field:   "spec.template.metadata.labels",
		}}},
	}
	if diff := cmp.Diff(want, resp.Result); diff != "" {
		t.Errorf("denial status mismatch (-want +got):\n%s", diff)
	}

	// Updates see the old object: the selector is immutable.
	old := makeReplicaSet("r").Defaulted()
	rs := old.DeepCopy()
	rs.Spec.Selector.MatchLabels["tier"] = "front"
	rs.Spec.Template.Labels["tier"] = "front"
	resp = review(t, mux, "/validate-apps-v1-replicaset", admissionv1.Update, rs, old)
	if resp.Allowed || resp.Result.Code != http.StatusUnprocessableEntity ||
		resp.Result.Message != `ReplicaSet.apps "r" is invalid: spec.selector: Invalid value: {"matchLabels":{"app":"r","tier":"front"}}: field is immutable` {
		t.Errorf("selector change: allowed %t, status %+v; want a 422 about the immutable selector", resp.Allowed, resp.Result)
	}
}

func TestServerAllowsValidWithWarnings(t *testing.T) {
	mux := webhookMux(t)
	resp := review(t, mux, "/validate-apps-v1-deployment", admissionv1.Create, makeDeployment("web.v2").Replicas(3).Defaulted(), nil)
	if !resp.Allowed {
		t.Fatalf("valid Deployment denied: %+v", resp.Result)
	}
	if len(resp.Warnings) != 1 || !strings.HasPrefix(resp.Warnings[0], "metadata.name: this is used in Pod names and hostnames") {
		t.Errorf("warnings = %q, want the DNS label warning", resp.Warnings)
	}
	resp = review(t, mux, "/validate-apps-v1-replicaset", admissionv1.Delete, nil, makeReplicaSet("web").Defaulted())
	if !resp.Allowed {
		t.Errorf("deletion denied: %+v", resp.Result)
	}
}

// TestManifestsMatchServer checks that config/webhook/manifests.yaml, which
// controller-gen generates from the markers, points at the paths the
// builder registers, for the resources each one handles.
func TestManifestsMatchServer(t *testing.T) {
	raw, err := os.ReadFile("../../../config/webhook/manifests.yaml")
	if err != nil {
		t.Fatal(err)
	}
	type webhook struct {
		Name         string
		ClientConfig struct{ Service struct{ Path string } } `json:"clientConfig"`
		Rules        []struct {
			Resources  []string
			Operations []string
		}
		FailurePolicy string `json:"failurePolicy"`
	}
	var got []string
	for _, doc := range strings.Split(string(raw), "\n---\n") {
		var config struct {
			Kind     string
			Webhooks []webhook
		}
		if err := yaml.Unmarshal([]byte(doc), &config); err != nil {
			t.Fatal(err)
		}
		for _, w := range config.Webhooks {
			for _, r := range w.Rules {
				got = append(got, strings.Join([]string{config.Kind, w.Name, w.ClientConfig.Service.Path,
					strings.Join(r.Resources, ","), strings.Join(r.Operations, ","), w.FailurePolicy}, " "))
			}
		}
	}
	want := []string{
		"MutatingWebhookConfiguration mdeployment-v1.apps.strata.io /mutate-apps-v1-deployment deployments CREATE,UPDATE Fail",
		"MutatingWebhookConfiguration mreplicaset-v1.apps.strata.io /mutate-apps-v1-replicaset replicasets CREATE,UPDATE Fail",
		"ValidatingWebhookConfiguration vdeployment-v1.apps.strata.io /validate-apps-v1-deployment deployments CREATE,UPDATE Fail",
		"ValidatingWebhookConfiguration vreplicaset-v1.apps.strata.io /validate-apps-v1-replicaset replicasets CREATE,UPDATE Fail",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("webhook manifests mismatch (-want +got):\n%s", diff)
	}

	// Each path is served.
	mux := webhookMux(t)
	for _, path := range []string{"/mutate-apps-v1-deployment", "/mutate-apps-v1-replicaset", "/validate-apps-v1-deployment", "/validate-apps-v1-replicaset"} {
		obj := runtime.Object(makeDeployment("web").Defaulted())
		if strings.HasSuffix(path, "replicaset") {
			obj = makeReplicaSet("web").Defaulted()
		}
		if resp := review(t, mux, path, admissionv1.Create, obj, nil); !resp.Allowed {
			t.Errorf("%s denied a valid object: %+v", path, resp.Result)
		}
	}
}
