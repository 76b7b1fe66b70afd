/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

const (
	burstPods     = 1000
	simNodes      = 20
	doomedObjects = 300
)

// TestNucleusKilledMidBurst kills the nucleus with SIGKILL while it deletes
// a namespace and schedules a burst of 1,000 pods onto simulated nodes,
// restarts it on the same data, and checks that the work completes: every
// pod bound once and Running, the namespace gone.
func TestNucleusKilledMidBurst(t *testing.T) {
	if testing.Short() {
		t.Skip("starts its own nucleus and 1,000 pods")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	dataDir := t.TempDir()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	n, err := launchNucleus(dataDir, port, "crash-nucleus.log")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = n.stop() }()

	cfg, err := clientcmd.BuildConfigFromFlags("", n.kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	cfg.QPS, cfg.Burst = 500, 1000
	cfg.Timeout = 10 * time.Second
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}

	// Simulated nodes, as their own process: they outlive the crash.
	simLog, err := os.Create(filepath.Join(artifactsDir, "crash-kubelet.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer simLog.Close()
	sim := exec.Command(strataBin, "kubelet", "--simulate", fmt.Sprint(simNodes), "--kubeconfig", n.kubeconfig(), "--name-prefix", "crash-")
	sim.Stdout, sim.Stderr = simLog, simLog
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	simExited := make(chan error, 1)
	go func() { simExited <- sim.Wait() }()
	defer func() { _ = sim.Process.Kill() }()
	waitFor(ctx, t, "the simulated nodes to register", func(ctx context.Context) (bool, error) {
		select {
		case err := <-simExited:
			return false, fmt.Errorf("strata kubelet --simulate exited: %v (see %s)", err, simLog.Name())
		default:
		}
		nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		return err == nil && len(nodes.Items) == simNodes, nil
	})

	// A namespace full of objects, to be deleted while the nucleus dies.
	for _, ns := range []string{"doomed", "burst"} {
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	parallel(doomedObjects, 16, func(i int) {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cm-%03d", i)}, Data: map[string]string{"i": fmt.Sprint(i)}}
		createUntilDone(ctx, t, func(ctx context.Context) error {
			_, err := cs.CoreV1().ConfigMaps("doomed").Create(ctx, cm, metav1.CreateOptions{})
			return err
		})
	})

	// The burst: creators retry through the crash; a create whose answer
	// was lost shows up as AlreadyExists.
	var created atomic.Int32
	killed := make(chan struct{})
	go func() {
		defer close(killed)
		for created.Load() < burstPods/3 {
			if ctx.Err() != nil {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err := cs.CoreV1().Namespaces().Delete(ctx, "doomed", metav1.DeleteOptions{}); err != nil {
			t.Errorf("deleting namespace doomed: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
		t.Logf("killing the nucleus with %d pods created", created.Load())
		n.kill()
		restarted, err := launchNucleus(dataDir, port, "crash-nucleus.log")
		if err != nil {
			t.Errorf("restarting the nucleus: %v", err)
			return
		}
		n = restarted
	}()
	parallel(burstPods, 8, func(i int) {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("pod-%04d", i)},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{
				Name: "c", Image: "busybox",
				Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m")}},
			}}},
		}
		createUntilDone(ctx, t, func(ctx context.Context) error {
			_, err := cs.CoreV1().Pods("burst").Create(ctx, pod, metav1.CreateOptions{})
			return err
		})
		created.Add(1)
	})
	<-killed
	if t.Failed() {
		return
	}

	waitFor(ctx, t, "every pod to be bound and Running", func(ctx context.Context) (bool, error) {
		pods, err := cs.CoreV1().Pods("burst").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		running := 0
		for _, p := range pods.Items {
			if p.Spec.NodeName != "" && p.Status.Phase == corev1.PodRunning {
				running++
			}
		}
		return running == burstPods, nil
	})
	pods, err := cs.CoreV1().Pods("burst").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != burstPods {
		t.Errorf("%d pods in the burst namespace, want %d", len(pods.Items), burstPods)
	}
	// Each pod is on one node, and the nodes' view adds up.
	perNode := map[string]int{}
	for _, p := range pods.Items {
		perNode[p.Spec.NodeName]++
	}
	total := 0
	for _, c := range perNode {
		total += c
	}
	if total != burstPods || len(perNode) > simNodes {
		t.Errorf("pods per node %v: total %d on %d nodes, want %d on at most %d", perNode, total, len(perNode), burstPods, simNodes)
	}
	waitFor(ctx, t, "namespace doomed to be deleted", func(ctx context.Context) (bool, error) {
		_, err := cs.CoreV1().Namespaces().Get(ctx, "doomed", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
}

// createUntilDone retries create through a server outage; AlreadyExists
// means an earlier attempt landed.
func createUntilDone(ctx context.Context, t *testing.T, create func(context.Context) error) {
	err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		err := create(ctx)
		return err == nil || apierrors.IsAlreadyExists(err), nil
	})
	if err != nil {
		t.Errorf("create never succeeded: %v", err)
	}
}

// parallel runs f(0..n-1) on workers goroutines.
func parallel(n, workers int, f func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

func waitFor(ctx context.Context, t *testing.T, what string, cond func(context.Context) (bool, error)) {
	t.Helper()
	if err := wait.PollUntilContextCancel(ctx, 500*time.Millisecond, true, cond); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}
