/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

// Package managertest runs layer managers in tests the way `make run` runs
// them: the webhook server on a free loopback port, the layers' webhook
// configurations pointed at its URL, no metrics or probe server. With
// nucleus/testenv it tests a layer without envtest's downloads:
//
//	env := testenv.Start(t)
//	if err := env.InstallCRDs(t.Context(), "../charts/example/crds"); err != nil {
//		t.Fatal(err)
//	}
//	managertest.Start(t, env.Config, "example")
//	// create objects with a client of env.Config, watch what the layer does
package managertest

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/strata-dev/strata/manager"
)

// setLogger sends controller-runtime's logs, like the manager's, to klog
// (which nucleus/testenv keeps out of the test output unless
// STRATA_TESTENV_LOGS=1), once per process.
var setLogger = sync.OnceFunc(func() { ctrl.SetLogger(klog.Background()) })

// Start runs the manager of layers (registered with manager.Register)
// against the cluster of cfg until the test ends, and returns its options
// once its webhook server accepts connections. The test fails if the
// manager cannot start, or stops with an error.
func Start(t testing.TB, cfg *rest.Config, layers ...string) manager.Options {
	t.Helper()
	setLogger()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("managertest: finding a free port: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()

	o := manager.Defaults()
	o.Layers = layers
	o.MetricsBindAddress, o.HealthProbeBindAddress = "0", "0"
	o.WebhookHost, o.WebhookPort = "127.0.0.1", port
	o.WebhookURL = fmt.Sprintf("https://127.0.0.1:%d", port)
	o.CertDir = t.TempDir()
	// Tests may start the same layers more than once in one process.
	o.SkipControllerNameValidation = true

	ctx, cancel := context.WithCancel(context.Background())
	mgr, err := manager.New(ctx, cfg, o)
	if err != nil {
		cancel()
		t.Fatalf("managertest: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("managertest: the manager of %v stopped with: %v", layers, err)
		}
	})

	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", addr,
			&tls.Config{InsecureSkipVerify: true}) //nolint:gosec // only probes that the server is up
		if err == nil {
			conn.Close()
			return o
		}
		select {
		case err := <-done:
			done <- err // for the cleanup
			t.Fatalf("managertest: the manager of %v stopped before serving its webhooks: %v", layers, err)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("managertest: the webhook server of %v does not answer on %s after 30s: %v", layers, addr, err)
		}
	}
}
