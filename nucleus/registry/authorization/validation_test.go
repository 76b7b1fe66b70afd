package authorization

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func paths(errs field.ErrorList) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Field)
	}
	return out
}

func TestValidateSubjectAccessReview(t *testing.T) {
	res := &authorizationv1.ResourceAttributes{Verb: "get", Resource: "pods", Namespace: "default"}
	nonRes := &authorizationv1.NonResourceAttributes{Verb: "get", Path: "/healthz"}
	for _, tc := range []struct {
		name string
		sar  authorizationv1.SubjectAccessReview
		want []string
	}{
		{"resource", authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: "u", ResourceAttributes: res}}, nil},
		{"group only", authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{Groups: []string{"g"}, NonResourceAttributes: nonRes}}, nil},
		{"neither", authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: "u"}}, []string{"spec.resourceAttributes"}},
		{"both", authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: "u", ResourceAttributes: res, NonResourceAttributes: nonRes}}, []string{"spec.nonResourceAttributes"}},
		{"no subject", authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{ResourceAttributes: res}}, []string{"spec.user"}},
		{"metadata", authorizationv1.SubjectAccessReview{ObjectMeta: metav1.ObjectMeta{Name: "x"}, Spec: authorizationv1.SubjectAccessReviewSpec{User: "u", ResourceAttributes: res}}, []string{"metadata"}},
		{"selector both raw and requirements", authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: "u", ResourceAttributes: &authorizationv1.ResourceAttributes{
			Verb: "list", Resource: "pods", FieldSelector: &authorizationv1.FieldSelectorAttributes{RawSelector: "a=b", Requirements: []metav1.FieldSelectorRequirement{{Key: "a", Operator: metav1.FieldSelectorOpIn, Values: []string{"b"}}}}}}},
			[]string{"spec.resourceAttributes.fieldSelector.rawSelector"}},
		{"empty selector", authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: "u", ResourceAttributes: &authorizationv1.ResourceAttributes{
			Verb: "list", Resource: "pods", LabelSelector: &authorizationv1.LabelSelectorAttributes{}}}},
			[]string{"spec.resourceAttributes.labelSelector.requirements"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, paths(ValidateSubjectAccessReview(&tc.sar))); diff != "" {
				t.Errorf("error fields (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateLocalSubjectAccessReview(t *testing.T) {
	lsar := func(ns, attrNS string, nonRes bool) *authorizationv1.LocalSubjectAccessReview {
		l := &authorizationv1.LocalSubjectAccessReview{ObjectMeta: metav1.ObjectMeta{Namespace: ns}, Spec: authorizationv1.SubjectAccessReviewSpec{User: "u"}}
		if nonRes {
			l.Spec.NonResourceAttributes = &authorizationv1.NonResourceAttributes{Verb: "get", Path: "/"}
		} else {
			l.Spec.ResourceAttributes = &authorizationv1.ResourceAttributes{Verb: "get", Resource: "pods", Namespace: attrNS}
		}
		return l
	}
	for _, tc := range []struct {
		name string
		lsar *authorizationv1.LocalSubjectAccessReview
		want []string
	}{
		{"same namespace", lsar("default", "default", false), nil},
		{"other namespace", lsar("default", "other", false), []string{"spec.resourceAttributes.namespace"}},
		{"non-resource", lsar("default", "", true), []string{"spec.nonResourceAttributes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, paths(ValidateLocalSubjectAccessReview(tc.lsar))); diff != "" {
				t.Errorf("error fields (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAttributesFor(t *testing.T) {
	a := attributesFor(nil, &authorizationv1.ResourceAttributes{Verb: "list", Resource: "pods",
		FieldSelector: &authorizationv1.FieldSelectorAttributes{Requirements: []metav1.FieldSelectorRequirement{{Key: "spec.nodeName", Operator: metav1.FieldSelectorOpIn, Values: []string{"n1"}}}}}, nil)
	got, err := a.GetFieldSelector()
	if err != nil {
		t.Fatal(err)
	}
	want := fields.Requirements{{Field: "spec.nodeName", Operator: selection.Equals, Value: "n1"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("field selector (-want +got):\n%s", diff)
	}
	if a.APIVersion != "*" {
		t.Errorf("empty version became %q, want *", a.APIVersion)
	}
}
