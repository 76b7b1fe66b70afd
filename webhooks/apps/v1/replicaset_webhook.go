/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package v1

import (
	"context"

	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	stratav1 "github.com/strata-dev/strata/apis/apps/v1"
)

// +kubebuilder:webhook:path=/mutate-apps-v1-replicaset,mutating=true,failurePolicy=fail,sideEffects=None,groups=apps,resources=replicasets,verbs=create;update,versions=v1,name=mreplicaset-v1.apps.strata.io,admissionReviewVersions=v1
// +kubebuilder:webhook:path=/validate-apps-v1-replicaset,mutating=false,failurePolicy=fail,sideEffects=None,groups=apps,resources=replicasets,verbs=create;update,versions=v1,name=vreplicaset-v1.apps.strata.io,admissionReviewVersions=v1

// replicaSetGroupKind names ReplicaSets in Invalid errors, as upstream's
// "ReplicaSet.apps".
var replicaSetGroupKind = schema.GroupKind{Group: stratav1.GroupVersion.Group, Kind: "ReplicaSet"}

// SetupReplicaSetWebhookWithManager registers the ReplicaSet defaulting and
// validating webhooks with the manager's webhook server.
func SetupReplicaSetWebhookWithManager(mgr ctrl.Manager) error {
	return ctrl.NewWebhookManagedBy(mgr, &stratav1.ReplicaSet{}).
		WithDefaulter(&ReplicaSetDefaulter{}).
		WithValidator(&ReplicaSetValidator{}).
		Complete()
}

// ReplicaSetDefaulter applies upstream's apps/v1 ReplicaSet defaults.
type ReplicaSetDefaulter struct{}

var _ admission.Defaulter[*stratav1.ReplicaSet] = &ReplicaSetDefaulter{}

// Default sets the defaults of a ReplicaSet being created or updated, and
// refuses negative replicas (see DeploymentDefaulter.Default).
func (*ReplicaSetDefaulter) Default(_ context.Context, rs *stratav1.ReplicaSet) error {
	if err := invalid(replicaSetGroupKind, rs.Name, validateReplicas(rs.Spec.Replicas)); err != nil {
		return err
	}
	DefaultReplicaSet(rs)
	return nil
}

// ReplicaSetValidator applies upstream's apps/v1 ReplicaSet validation.
type ReplicaSetValidator struct{}

var _ admission.Validator[*stratav1.ReplicaSet] = &ReplicaSetValidator{}

// ValidateCreate checks a new ReplicaSet. Like kube-apiserver it warns
// about names that are not DNS labels and about odd pod templates.
func (*ReplicaSetValidator) ValidateCreate(_ context.Context, rs *stratav1.ReplicaSet) (admission.Warnings, error) {
	warnings := append(nameWarnings(rs.Name), templateWarnings(&rs.Spec.Template)...)
	return warnings, invalid(replicaSetGroupKind, rs.Name, ValidateReplicaSet(rs))
}

// ValidateUpdate checks an update of a ReplicaSet; it warns about the pod
// template when the spec changed.
func (*ReplicaSetValidator) ValidateUpdate(_ context.Context, old, rs *stratav1.ReplicaSet) (admission.Warnings, error) {
	var warnings admission.Warnings
	if rs.Generation != old.Generation {
		warnings = templateWarnings(&rs.Spec.Template)
	}
	return warnings, invalid(replicaSetGroupKind, rs.Name, ValidateReplicaSetUpdate(rs, old))
}

// ValidateDelete allows every deletion.
func (*ReplicaSetValidator) ValidateDelete(context.Context, *stratav1.ReplicaSet) (admission.Warnings, error) {
	return nil, nil
}
