/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package e2e

import (
	"bufio"
	"context"
	"strings"
	"testing"
	"time"
)

// TestWatch runs `kubectl get -w` in the background and checks that it
// prints the changes made meanwhile.
func TestWatch(t *testing.T) {
	ns := createNamespace(t, "e2e-watch")
	ctx, cancel := context.WithTimeout(context.Background(), kubectlTimeout)
	defer cancel()
	cmd := kubectl{}.command(ctx, "get", "configmaps", "-n", ns, "-w", "--output-watch-events")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			t.Logf("watch: %s", s.Text())
			lines <- s.Text()
		}
	}()
	// expect waits for a line with the fields want (in order, among others).
	expect := func(want ...string) {
		t.Helper()
		timeout := time.After(20 * time.Second)
		for {
			select {
			case line, ok := <-lines:
				if !ok {
					t.Fatalf("kubectl get -w ended before printing %v", want)
				}
				if hasFieldsInOrder(strings.Fields(line), want) {
					return
				}
			case <-timeout:
				t.Fatalf("kubectl get -w did not print %v within 20s", want)
			}
		}
	}

	// Give the watch a moment to be established; the objects created after
	// it show up as ADDED either way, since the initial list is printed too.
	time.Sleep(time.Second)
	run(t, "create", "configmap", "watched", "-n", ns, "--from-literal=a=1")
	expect("ADDED", "watched", "1")
	run(t, "patch", "configmap", "watched", "-n", ns, "--type", "merge", "-p", `{"data":{"b":"2"}}`)
	expect("MODIFIED", "watched", "2")
	run(t, "delete", "configmap", "watched", "-n", ns)
	expect("DELETED", "watched")
}

func hasFieldsInOrder(fields, want []string) bool {
	i := 0
	for _, f := range fields {
		if i < len(want) && f == want[i] {
			i++
		}
	}
	return i == len(want)
}
