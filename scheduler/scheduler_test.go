package scheduler

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
)

// A scheduler that starts on a cluster with many nodes and a pending pod
// places the pod at once: it does not schedule before its cache holds the
// nodes the informers listed (a restarted scheduler reported "no nodes
// available" while its node handler was still replaying the list).
func TestSchedulerStartsWithTheListedNodes(t *testing.T) {
	var objects []runtime.Object
	for i := range 2000 {
		objects = append(objects, testNode(fmt.Sprintf("node-%04d", i), "4"))
	}
	objects = append(objects, testPod("pending", "100m", ""))
	client := fake.NewClientset(objects...)

	var mu sync.Mutex
	var bound []string
	var failed []string
	client.PrependReactor("create", "pods", func(a clienttesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "binding" {
			return false, nil, nil
		}
		b := a.(clienttesting.CreateAction).GetObject().(*corev1.Binding)
		mu.Lock()
		bound = append(bound, b.Name+"->"+b.Target.Name)
		mu.Unlock()
		return true, b, nil
	})
	client.PrependReactor("create", "events", func(a clienttesting.Action) (bool, runtime.Object, error) {
		if ev, ok := a.(clienttesting.CreateAction).GetObject().(*eventsv1.Event); ok && ev.Reason == "FailedScheduling" {
			mu.Lock()
			failed = append(failed, ev.Note)
			mu.Unlock()
		}
		return false, nil, nil
	})

	factory := informers.NewSharedInformerFactory(client, 0)
	s, err := New(client, factory)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	defer func() { cancel(); <-done }()

	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n, f := len(bound), append([]string(nil), failed...)
		mu.Unlock()
		if len(f) > 0 {
			t.Fatalf("the pending pod failed to schedule: %q", f)
		}
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the pending pod was not bound within 30s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
