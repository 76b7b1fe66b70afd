/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package replicaset

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	stratav1 "github.com/strata-dev/strata/apis/apps/v1"
)

func TestClaimFor(t *testing.T) {
	web := makeRS("web").Obj()
	deleting := makeRS("web").Deleting().Obj()
	tests := []struct {
		name string
		rs   *stratav1.ReplicaSet
		pod  *corev1.Pod
		want claim
	}{
		{name: "owned and selected", rs: web, pod: makePod("p").For(web).Obj(), want: keep},
		{name: "owned and selected, ReplicaSet being deleted", rs: deleting, pod: makePod("p").For(web).Obj(), want: keep},
		{name: "owned, labels no longer match", rs: web, pod: makePod("p").OwnedBy(web).Labels("app", "other").Obj(), want: release},
		{name: "owned, labels no longer match, ReplicaSet being deleted", rs: deleting, pod: makePod("p").OwnedBy(web).Labels("app", "other").Obj(), want: ignore},
		{name: "orphan matching", rs: web, pod: makePod("p").Labels("app", "web").Obj(), want: adopt},
		{name: "orphan matching with extra labels", rs: web, pod: makePod("p").Labels("app", "web", "x", "y").Obj(), want: adopt},
		{name: "orphan not matching", rs: web, pod: makePod("p").Labels("app", "api").Obj(), want: ignore},
		{name: "orphan matching, ReplicaSet being deleted", rs: deleting, pod: makePod("p").Labels("app", "web").Obj(), want: ignore},
		{name: "orphan matching but being deleted", rs: web, pod: makePod("p").Labels("app", "web").Deleting().Obj(), want: ignore},
		{name: "controlled by another controller", rs: web, pod: makePod("p").Labels("app", "web").ControlledByOther().Obj(), want: ignore},
		{name: "controlled by an earlier ReplicaSet of the same name", rs: web, pod: func() *corev1.Pod {
			p := makePod("p").For(web).Obj()
			p.OwnerReferences[0].UID = "uid-web-before"
			return p
		}(), want: ignore},
		{name: "owner reference to us that is not a controller", rs: web, pod: func() *corev1.Pod {
			p := makePod("p").For(web).Obj()
			p.OwnerReferences[0].Controller = ptr.To(false)
			return p
		}(), want: adopt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			selector, err := metav1.LabelSelectorAsSelector(tt.rs.Spec.Selector)
			if err != nil {
				t.Fatal(err)
			}
			if got := claimFor(tt.rs, selector, tt.pod); got != tt.want {
				t.Errorf("claimFor = %v, want %v", got, tt.want)
			}
		})
	}
}
