package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// newClients returns n clientsets for the admin kubeconfig, each with its
// own connection, as n separate clients would have, without client-side
// rate limiting and speaking protobuf like Kubernetes' own components.
func newClients(kubeconfig string, n int) ([]kubernetes.Interface, error) {
	base, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", kubeconfig, err)
	}
	base.QPS, base.Burst = 1e6, 1e6
	base.ContentType = runtime.ContentTypeProtobuf
	base.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	clients := make([]kubernetes.Interface, n)
	for i := range clients {
		cfg := *base
		// A dial function of its own keeps client-go from sharing one
		// cached transport, and so one connection, between the clients.
		cfg.Dial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
		if clients[i], err = kubernetes.NewForConfig(&cfg); err != nil {
			return nil, err
		}
	}
	return clients, nil
}

// warm makes one request with each client, so that connection setup is not
// part of what a cell measures.
func warm(ctx context.Context, clients []kubernetes.Interface) error {
	var wg sync.WaitGroup
	errs := make([]error, len(clients))
	for i, c := range clients {
		wg.Go(func() {
			_, errs[i] = c.CoreV1().Namespaces().Get(ctx, metav1.NamespaceDefault, metav1.GetOptions{})
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("warming up clients: %w", err)
	}
	return nil
}
