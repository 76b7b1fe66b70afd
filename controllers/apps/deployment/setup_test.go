/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package deployment

import (
	"context"
	"os"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	eventsv1 "k8s.io/api/events/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/yaml"

	stratav1 "github.com/strata-dev/strata/apis/apps/v1"
	"github.com/strata-dev/strata/apis/scheme"
	"github.com/strata-dev/strata/nucleus/testenv"
)

// TestAgainstNucleus runs the controller in a manager against a real
// nucleus serving the CRDs: the watches, the status subresource, the
// revision annotation patch and events.k8s.io events. The test plays the
// ReplicaSet controller.
func TestAgainstNucleus(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a nucleus")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env := testenv.Start(t)
	// controller-runtime picks protobuf for kinds client-go's scheme knows,
	// apps/v1 Deployment among them; the custom resources speak JSON only.
	cfg := rest.CopyConfig(env.Config)
	cfg.ContentType = runtime.ContentTypeJSON

	c, err := client.New(cfg, client.Options{Scheme: scheme.New()})
	if err != nil {
		t.Fatal(err)
	}
	installCRD(t, ctx, c, "../../../config/crd/bases/apps_deployments.yaml", &stratav1.DeploymentList{})
	installCRD(t, ctx, c, "../../../config/crd/bases/apps_replicasets.yaml", &stratav1.ReplicaSetList{})

	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme.New(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := (&Reconciler{Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder("deployment-controller")}).SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- mgr.Start(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	d := makeDeployment("web").Replicas(2).Obj()
	d.UID, d.Generation, d.TypeMeta = "", 0, metav1.TypeMeta{}
	if err := c.Create(ctx, d); err != nil {
		t.Fatal(err)
	}

	// The controller creates the first ReplicaSet; the test reports its
	// pods available, as the ReplicaSet controller would.
	rs := waitForNewReplicaSet(t, ctx, c, "nginx:1")
	if specReplicas(rs) != 2 || metav1.GetControllerOf(rs).UID != d.UID {
		t.Fatalf("ReplicaSet %s: %d replicas, owner %+v", rs.Name, specReplicas(rs), rs.OwnerReferences)
	}
	reportAvailable(t, ctx, c, rs)
	waitFor(t, "the rollout to complete", func() (bool, error) {
		got := &stratav1.Deployment{}
		if err := c.Get(ctx, client.ObjectKeyFromObject(d), got); err != nil {
			return false, err
		}
		p := getCondition(got.Status.DeploymentStatus, appsv1.DeploymentProgressing)
		return got.Status.AvailableReplicas == 2 && got.Status.Selector == "app=web" &&
			got.Annotations[RevisionAnnotation] == "1" && p != nil && p.Reason == NewRSAvailableReason, nil
	})

	// A new template: the next ReplicaSet surges by one (25% of 2).
	got := &stratav1.Deployment{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(d), got); err != nil {
		t.Fatal(err)
	}
	got.Spec.Template.Spec.Containers[0].Image = "nginx:2"
	if err := c.Update(ctx, got); err != nil {
		t.Fatal(err)
	}
	next := waitForNewReplicaSet(t, ctx, c, "nginx:2")
	if specReplicas(next) != 1 || next.Annotations[RevisionAnnotation] != "2" {
		t.Errorf("new ReplicaSet %s: %d replicas, revision %q", next.Name, specReplicas(next), next.Annotations[RevisionAnnotation])
	}

	waitFor(t, "a ScalingReplicaSet event", func() (bool, error) {
		list := &eventsv1.EventList{}
		if err := c.List(ctx, list, client.InNamespace("default")); err != nil {
			return false, err
		}
		for _, e := range list.Items {
			if e.Reason == "ScalingReplicaSet" && e.Regarding.Name == "web" && e.Note == "Scaled up replica set "+next.Name+" from 0 to 1" {
				return true, nil
			}
		}
		return false, nil
	})
}

// installCRD creates a CRD and waits until list is served.
func installCRD(t *testing.T, ctx context.Context, c client.Client, path string, list client.ObjectList) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.Unmarshal(raw, crd); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, crd); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "CRD "+crd.Name+" established", func() (bool, error) {
		if err := c.Get(ctx, client.ObjectKeyFromObject(crd), crd); err != nil {
			return false, err
		}
		for _, cond := range crd.Status.Conditions {
			if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
	// The client's REST mapper learns of the new kind on its next lookup.
	waitFor(t, crd.Name+" served", func() (bool, error) {
		return c.List(ctx, list) == nil, nil
	})
}

func waitForNewReplicaSet(t *testing.T, ctx context.Context, c client.Client, image string) *stratav1.ReplicaSet {
	t.Helper()
	var found *stratav1.ReplicaSet
	waitFor(t, "a ReplicaSet of "+image, func() (bool, error) {
		list := &stratav1.ReplicaSetList{}
		if err := c.List(ctx, list, client.InNamespace("default")); err != nil {
			return false, err
		}
		for i := range list.Items {
			if list.Items[i].Spec.Template.Spec.Containers[0].Image == image {
				found = &list.Items[i]
				return true, nil
			}
		}
		return false, nil
	})
	return found
}

func reportAvailable(t *testing.T, ctx context.Context, c client.Client, rs *stratav1.ReplicaSet) {
	t.Helper()
	n := specReplicas(rs)
	rs.Status.Replicas, rs.Status.ReadyReplicas, rs.Status.AvailableReplicas = n, n, n
	rs.Status.ObservedGeneration = rs.Generation
	rs.Status.TerminatingReplicas = ptr.To[int32](0)
	if err := c.Status().Update(ctx, rs); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, cond func() (bool, error)) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		ok, err := cond()
		last = err
		return ok && err == nil, nil
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v (last error: %v)", what, err, last)
	}
}
