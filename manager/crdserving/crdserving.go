/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

// Package crdserving turns the API of a CustomResourceDefinition off and on
// without deleting it: it sets `served` on every version. An unserved CRD
// keeps its objects in etcd, but the API server stops serving them and
// drops them from discovery; serving it again brings back the same objects,
// UIDs and all. `strata crds unserve` runs it from the apps chart's
// pre-delete hook, so that `helm uninstall` removes the Deployment and
// ReplicaSet APIs while the pods they made keep running.
//
// Unserving changes `served` with an update, which makes the updater the
// owner of those fields in managedFields. Helm installs the chart again
// with server-side apply, which would then conflict with that owner. So
// after the change the updater removes its own managedFields entry: the
// fields are left without owner and the next apply (Helm's) takes them
// without a conflict.
package crdserving

import (
	"context"
	"fmt"
	"slices"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset/typed/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/util/retry"
	"k8s.io/klog/v2"
)

// FieldManager is the field manager of the updates to `served`, whose
// managedFields entry is removed again afterwards.
const FieldManager = "strata-crds"

// Outcome says what SetServed did to one CRD.
type Outcome string

const (
	// Changed: at least one version's served flag was changed.
	Changed Outcome = "changed"
	// Unchanged: every version already had the wanted flag.
	Unchanged Outcome = "unchanged"
	// NotFound: no CRD of that name exists; nothing to do.
	NotFound Outcome = "not found"
)

// WithServed sets served on every version of crd and returns the names of
// the versions it changed.
func WithServed(crd *apiextensionsv1.CustomResourceDefinition, served bool) []string {
	var changed []string
	for i := range crd.Spec.Versions {
		if crd.Spec.Versions[i].Served != served {
			crd.Spec.Versions[i].Served = served
			changed = append(changed, crd.Spec.Versions[i].Name)
		}
	}
	return changed
}

// WithoutManager returns fields without the entries of manager made by
// updates (operation Update); apply entries of the same name stay.
func WithoutManager(fields []metav1.ManagedFieldsEntry, manager string) []metav1.ManagedFieldsEntry {
	return slices.DeleteFunc(slices.Clone(fields), func(e metav1.ManagedFieldsEntry) bool {
		return e.Manager == manager && e.Operation == metav1.ManagedFieldsOperationUpdate
	})
}

// SetServed sets served on every version of the CRD name, then removes the
// managedFields entry the change gave FieldManager.
func SetServed(ctx context.Context, crds apiextensionsclient.CustomResourceDefinitionInterface, name string, served bool) (Outcome, error) {
	outcome := Unchanged
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		crd, err := crds.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			outcome = NotFound
			return nil
		}
		if err != nil {
			return err
		}
		if len(WithServed(crd, served)) == 0 {
			return nil
		}
		if _, err := crds.Update(ctx, crd, metav1.UpdateOptions{FieldManager: FieldManager}); err != nil {
			return err
		}
		outcome = Changed
		return nil
	})
	if err != nil {
		return outcome, fmt.Errorf("setting served=%t on the versions of CustomResourceDefinition %s: %w", served, name, err)
	}
	if outcome == NotFound {
		return outcome, nil
	}
	if err := releaseFields(ctx, crds, name); err != nil {
		return outcome, fmt.Errorf("removing the managedFields entry of %s from CustomResourceDefinition %s (`helm install` may then need --force-conflicts): %w", FieldManager, name, err)
	}
	return outcome, nil
}

// releaseFields removes FieldManager's update entry from the CRD's
// managedFields. An update whose managedFields differ from the stored ones
// replaces them; since nothing else changes, no new entry is recorded.
func releaseFields(ctx context.Context, crds apiextensionsclient.CustomResourceDefinitionInterface, name string) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		crd, err := crds.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		rest := WithoutManager(crd.ManagedFields, FieldManager)
		if len(rest) == len(crd.ManagedFields) {
			return nil
		}
		if len(rest) == 0 {
			// An empty list would mean "unchanged"; a list with one empty
			// entry clears them.
			rest = []metav1.ManagedFieldsEntry{{}}
		}
		crd.ManagedFields = rest
		_, err = crds.Update(ctx, crd, metav1.UpdateOptions{FieldManager: FieldManager})
		return err
	})
}

// Resource names the API of a CRD as discovery lists it.
type Resource struct {
	GroupVersions []string
	Plural        string
}

// ResourceOf returns the group/versions and plural of crd.
func ResourceOf(crd *apiextensionsv1.CustomResourceDefinition) Resource {
	r := Resource{Plural: crd.Spec.Names.Plural}
	for _, v := range crd.Spec.Versions {
		r.GroupVersions = append(r.GroupVersions, crd.Spec.Group+"/"+v.Name)
	}
	return r
}

// Discovered reports whether discovery lists r in any of its
// group/versions.
func Discovered(d discovery.DiscoveryInterface, r Resource) (bool, error) {
	for _, gv := range r.GroupVersions {
		list, err := d.ServerResourcesForGroupVersion(gv)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return false, err
		}
		for _, res := range list.APIResources {
			if res.Name == r.Plural {
				return true, nil
			}
		}
	}
	return false, nil
}

// WaitDiscovery waits until discovery lists r (served) or no longer does
// (!served), polling every interval until ctx ends.
func WaitDiscovery(ctx context.Context, d discovery.DiscoveryInterface, r Resource, served bool, interval time.Duration) error {
	var last error
	err := wait.PollUntilContextCancel(ctx, interval, true, func(context.Context) (bool, error) {
		found, err := Discovered(d, r)
		if err != nil {
			last = err
			return false, nil
		}
		return found == served, nil
	})
	if err != nil && last != nil {
		return fmt.Errorf("%w (last discovery error: %v)", err, last)
	}
	return err
}

// Run sets served on the CRDs names and waits until discovery agrees,
// logging one line per CRD.
func Run(ctx context.Context, crds apiextensionsclient.CustomResourceDefinitionInterface, d discovery.DiscoveryInterface, names []string, served bool, timeout time.Duration) error {
	logger := klog.FromContext(ctx)
	for _, name := range names {
		outcome, err := SetServed(ctx, crds, name, served)
		if err != nil {
			return err
		}
		logger.Info("Set served on every version", "crd", name, "served", served, "outcome", outcome)
		if outcome == NotFound {
			continue
		}
		crd, err := crds.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("reading CustomResourceDefinition %s: %w", name, err)
		}
		wctx, cancel := context.WithTimeout(ctx, timeout)
		err = WaitDiscovery(wctx, d, ResourceOf(crd), served, 250*time.Millisecond)
		cancel()
		if err != nil {
			want := "lists"
			if !served {
				want = "no longer lists"
			}
			return fmt.Errorf("waiting until discovery %s %s: %w", want, name, err)
		}
	}
	return nil
}
