// Package customresourcedefinition serves apiextensions.k8s.io/v1
// CustomResourceDefinitions with upstream's registry, except that a CRD may
// use one of Kubernetes' built-in group names (apps, batch, …): that is how
// Strata's layers provide the upstream APIs.
package customresourcedefinition

import (
	"context"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	upstream "k8s.io/apiextensions-apiserver/pkg/registry/customresourcedefinition"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/strata-dev/strata/nucleus/registry/store"
	"github.com/strata-dev/strata/nucleus/scheme"
)

// BuiltinGroups are the group names without a dot that a CRD may use: the
// Kubernetes API groups that have no domain.
var BuiltinGroups = map[string]bool{
	"apps":         true,
	"batch":        true,
	"autoscaling":  true,
	"policy":       true,
	"extensions":   true,
	"certificates": true,
}

// dotlessGroupDetail is the detail of upstream's error for a group without a dot.
const dotlessGroupDetail = "should be a domain with at least one dot"

// Install adds the customresourcedefinitions storage and its status
// subresource to r. They are served by the core server, in front of the
// apiextensions server's own endpoint, so that this validation applies.
func Install(r store.Resources, d store.Deps) error {
	crds, err := upstream.NewREST(scheme.Scheme, d.OptsGetter)
	if err != nil {
		return err
	}
	crds.Store.CreateStrategy = createStrategy{crds.Store.CreateStrategy}
	crds.Store.UpdateStrategy = updateStrategy{crds.Store.UpdateStrategy}
	r["customresourcedefinitions"] = crds
	r["customresourcedefinitions/status"] = upstream.NewStatusREST(scheme.Scheme, crds)
	return nil
}

// createStrategy is upstream's create strategy with the built-in groups
// admitted.
type createStrategy struct{ rest.RESTCreateStrategy }

// Validate runs upstream's validation and drops the built-in group error.
func (s createStrategy) Validate(ctx context.Context, obj runtime.Object) field.ErrorList {
	return AdmitBuiltinGroup(obj, s.RESTCreateStrategy.Validate(ctx, obj))
}

// updateStrategy is upstream's update strategy with the built-in groups
// admitted, so that `helm upgrade` of a layer works.
type updateStrategy struct{ rest.RESTUpdateStrategy }

// ValidateUpdate runs upstream's validation and drops the built-in group error.
func (s updateStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	return AdmitBuiltinGroup(obj, s.RESTUpdateStrategy.ValidateUpdate(ctx, obj, old))
}

// AdmitBuiltinGroup removes upstream's "at least one dot" error from errs
// when the CRD's group is one of BuiltinGroups. Every other error stays.
func AdmitBuiltinGroup(obj runtime.Object, errs field.ErrorList) field.ErrorList {
	crd, ok := obj.(*apiextensions.CustomResourceDefinition)
	if !ok || !BuiltinGroups[crd.Spec.Group] {
		return errs
	}
	var kept field.ErrorList
	for _, e := range errs {
		if e.Type == field.ErrorTypeInvalid && e.Field == "spec.group" && e.Detail == dotlessGroupDetail {
			continue
		}
		kept = append(kept, e)
	}
	return kept
}
