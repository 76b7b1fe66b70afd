/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package v1

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	stratav1 "github.com/strata-dev/strata/apis/apps/v1"
)

// The paths are the ones controller-runtime derives from the GVK
// (/mutate-<group>-<version>-<kind>).
//
// +kubebuilder:webhook:path=/mutate-apps-v1-deployment,mutating=true,failurePolicy=fail,sideEffects=None,groups=apps,resources=deployments,verbs=create;update,versions=v1,name=mdeployment-v1.apps.strata.io,admissionReviewVersions=v1
// +kubebuilder:webhook:path=/validate-apps-v1-deployment,mutating=false,failurePolicy=fail,sideEffects=None,groups=apps,resources=deployments,verbs=create;update,versions=v1,name=vdeployment-v1.apps.strata.io,admissionReviewVersions=v1

// deploymentGroupKind names Deployments in Invalid errors, as upstream's
// "Deployment.apps".
var deploymentGroupKind = schema.GroupKind{Group: stratav1.GroupVersion.Group, Kind: "Deployment"}

// SetupDeploymentWebhookWithManager registers the Deployment defaulting and
// validating webhooks with the manager's webhook server.
func SetupDeploymentWebhookWithManager(mgr ctrl.Manager) error {
	return ctrl.NewWebhookManagedBy(mgr, &stratav1.Deployment{}).
		WithDefaulter(&DeploymentDefaulter{}).
		WithValidator(&DeploymentValidator{}).
		Complete()
}

// DeploymentDefaulter applies upstream's apps/v1 Deployment defaults.
type DeploymentDefaulter struct{}

var _ admission.Defaulter[*stratav1.Deployment] = &DeploymentDefaulter{}

// Default sets the defaults of a Deployment being created or updated. It
// refuses negative replicas itself: the custom resource's scale validation,
// which runs between the mutating and the validating webhooks, would
// otherwise answer first with its own message instead of upstream's.
func (*DeploymentDefaulter) Default(_ context.Context, d *stratav1.Deployment) error {
	if err := invalid(deploymentGroupKind, d.Name, validateReplicas(d.Spec.Replicas)); err != nil {
		return err
	}
	DefaultDeployment(d)
	return nil
}

// DeploymentValidator applies upstream's apps/v1 Deployment validation.
type DeploymentValidator struct{}

var _ admission.Validator[*stratav1.Deployment] = &DeploymentValidator{}

// ValidateCreate checks a new Deployment. Like kube-apiserver it warns
// about names that are not DNS labels and about odd pod templates.
func (*DeploymentValidator) ValidateCreate(_ context.Context, d *stratav1.Deployment) (admission.Warnings, error) {
	warnings := append(nameWarnings(d.Name), templateWarnings(&d.Spec.Template)...)
	return warnings, invalid(deploymentGroupKind, d.Name, ValidateDeployment(d))
}

// ValidateUpdate checks an update of a Deployment; it warns about the pod
// template when the spec changed.
func (*DeploymentValidator) ValidateUpdate(_ context.Context, old, d *stratav1.Deployment) (admission.Warnings, error) {
	var warnings admission.Warnings
	if d.Generation != old.Generation {
		warnings = templateWarnings(&d.Spec.Template)
	}
	return warnings, invalid(deploymentGroupKind, d.Name, ValidateDeploymentUpdate(d, old))
}

// ValidateDelete allows every deletion.
func (*DeploymentValidator) ValidateDelete(context.Context, *stratav1.Deployment) (admission.Warnings, error) {
	return nil, nil
}

// invalid returns upstream's 422 Invalid error for errs, or nil if there
// are none. Through the webhook it becomes the admission response's status,
// whose causes kubectl prints field by field.
func invalid(gk schema.GroupKind, name string, errs field.ErrorList) error {
	if len(errs) == 0 {
		return nil
	}
	return apierrors.NewInvalid(gk, name, errs)
}
