/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package replicaset

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/testr"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/yaml"

	stratav1 "github.com/strata-dev/strata/apis/apps/v1"
	"github.com/strata-dev/strata/apis/scheme"
	"github.com/strata-dev/strata/kubelet/simulated"
	"github.com/strata-dev/strata/nucleus/testenv"
)

// TestReplicaSetOnNucleus runs the controller in a manager against an
// in-process nucleus with simulated nodes: the pods it creates are
// scheduled and run, the status follows them, and scaling down deletes
// pods. Assertions go through a direct client, not the manager's cache.
func TestReplicaSetOnNucleus(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a nucleus")
	}
	if os.Getenv("STRATA_TEST_CONTROLLER_LOGS") != "" {
		ctrllog.SetLogger(testr.New(t))
	} else {
		ctrllog.SetLogger(logr.Discard())
	}
	env := testenv.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	installCRD(ctx, t, env, filepath.Join("..", "..", "..", "config", "crd", "bases", "apps_replicasets.yaml"))

	kube, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	startNodes(ctx, t, kube)

	// Custom resources are served as JSON only; without this,
	// controller-runtime would send protobuf for apps/v1 kinds, which
	// client-go's scheme knows.
	cfg := rest.CopyConfig(env.Config)
	cfg.ContentType = runtime.ContentTypeJSON
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:     scheme.New(),
		Metrics:    metricsserver.Options{BindAddress: "0"},
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := &Reconciler{Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder("replicaset-controller")}
	if err := r.SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	mgrCtx, stopMgr := context.WithCancel(context.Background())
	mgrDone := make(chan error, 1)
	go func() { mgrDone <- mgr.Start(mgrCtx) }()
	t.Cleanup(func() {
		stopMgr()
		if err := <-mgrDone; err != nil {
			t.Errorf("manager: %v", err)
		}
	})

	c, err := client.New(cfg, client.Options{Scheme: scheme.New()})
	if err != nil {
		t.Fatal(err)
	}
	const ns = "rs-story"
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	rs := makeRS("web").Replicas(3).Obj()
	rs.Namespace, rs.UID, rs.Generation = ns, "", 0
	if err := c.Create(ctx, rs); err != nil {
		t.Fatalf("creating the ReplicaSet: %v", err)
	}

	waitStatus := func(what string, ok func(*stratav1.ReplicaSet, []corev1.Pod) bool) {
		t.Helper()
		var last stratav1.ReplicaSetStatus
		err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
			got := &stratav1.ReplicaSet{}
			if err := c.Get(ctx, client.ObjectKeyFromObject(rs), got); err != nil {
				return false, err
			}
			var pods corev1.PodList
			if err := c.List(ctx, &pods, client.InNamespace(ns)); err != nil {
				return false, err
			}
			last = got.Status
			return ok(got, pods.Items), nil
		})
		if err != nil {
			t.Fatalf("waiting for %s: %v; last status %+v", what, err, last)
		}
	}
	running := func(pods []corev1.Pod) (n int) {
		for i := range pods {
			if pods[i].Status.Phase == corev1.PodRunning && pods[i].DeletionTimestamp == nil && isPodReady(&pods[i]) {
				n++
			}
		}
		return n
	}

	waitStatus("3 ready replicas", func(got *stratav1.ReplicaSet, pods []corev1.Pod) bool {
		return got.Status.ReadyReplicas == 3 && got.Status.AvailableReplicas == 3 &&
			got.Status.ObservedGeneration == got.Generation && got.Status.Selector == "app=web" &&
			len(pods) == 3 && running(pods) == 3
	})

	var scaled stratav1.ReplicaSet
	if err := c.Get(ctx, client.ObjectKeyFromObject(rs), &scaled); err != nil {
		t.Fatal(err)
	}
	scaled.Spec.Replicas = ptr.To(int32(1))
	if err := c.Update(ctx, &scaled); err != nil {
		t.Fatal(err)
	}
	waitStatus("1 replica after scaling down", func(got *stratav1.ReplicaSet, pods []corev1.Pod) bool {
		return got.Status.Replicas == 1 && got.Status.ReadyReplicas == 1 &&
			got.Status.ObservedGeneration == got.Generation && running(pods) == 1
	})

	// The events name the pods, as upstream's.
	var evs corev1.EventList
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		if err := c.List(ctx, &evs, client.InNamespace(ns)); err != nil {
			return false, err
		}
		reasons := map[string]int{}
		for _, e := range evs.Items {
			if e.InvolvedObject.Kind == "ReplicaSet" && e.InvolvedObject.Name == "web" {
				reasons[e.Reason]++
			}
		}
		return reasons["SuccessfulCreate"] >= 3 && reasons["SuccessfulDelete"] >= 2, nil
	})
	if err != nil {
		t.Errorf("waiting for SuccessfulCreate and SuccessfulDelete events: %v; got %d events", err, len(evs.Items))
	}
}

func installCRD(ctx context.Context, t *testing.T, env *testenv.Env, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.Unmarshal(data, crd); err != nil {
		t.Fatalf("decoding %s: %v", path, err)
	}
	cs, err := apiextensionsclient.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, crd, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating CRD %s: %v", crd.Name, err)
	}
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		got, err := cs.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, crd.Name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, c := range got.Status.Conditions {
			if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("waiting for CRD %s to be established: %v", crd.Name, err)
	}
}

func startNodes(ctx context.Context, t *testing.T, kube kubernetes.Interface) {
	t.Helper()
	cfg := simulated.DefaultConfig()
	cfg.Count = 2
	cfg.NamePrefix = "rs-sim-"
	sim, err := simulated.New(kube, cfg)
	if err != nil {
		t.Fatal(err)
	}
	simCtx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := sim.Run(simCtx); err != nil && simCtx.Err() == nil {
			t.Errorf("simulated nodes: %v", err)
		}
	}()
	t.Cleanup(func() { stop(); <-done })
	for _, name := range sim.NodeNames() {
		err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
			n, err := kube.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, nil
			}
			for _, c := range n.Status.Conditions {
				if c.Type == corev1.NodeReady {
					return c.Status == corev1.ConditionTrue, nil
				}
			}
			return false, nil
		})
		if err != nil {
			t.Fatalf("waiting for node %s: %v", name, err)
		}
	}
}
