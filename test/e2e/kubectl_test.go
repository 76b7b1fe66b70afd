/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// kubectlTimeout bounds a single kubectl run.
const kubectlTimeout = 60 * time.Second

// kubectl runs bin/kubectl against the cluster.
type kubectl struct {
	// env is added to the environment, e.g. KUBE_EDITOR.
	env []string
	// stdin, if set, is kubectl's standard input.
	stdin string
}

// environ is the environment of every kubectl run: the admin kubeconfig and a
// HOME of its own, so no discovery cache of another cluster is read.
func (k kubectl) environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if name == "KUBECONFIG" || name == "HOME" || name == "KUBE_EDITOR" || name == "EDITOR" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "KUBECONFIG="+cluster.kubeconfig(), "HOME="+cluster.home)
	return append(env, k.env...)
}

// command returns the kubectl command line for args.
func (k kubectl) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, kubectlBin, args...)
	cmd.Env = k.environ()
	if k.stdin != "" {
		cmd.Stdin = strings.NewReader(k.stdin)
	}
	return cmd
}

// try runs kubectl and returns its standard output, standard error and
// error.
func (k kubectl) try(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), kubectlTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := k.command(ctx, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	t.Logf("$ kubectl %s", strings.Join(args, " "))
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// run runs kubectl, fails the test if it fails, and returns its standard
// output.
func (k kubectl) run(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := k.try(t, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// runFails runs kubectl, expects it to fail, and returns its standard error.
func (k kubectl) runFails(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := k.try(t, args...)
	if err == nil {
		t.Fatalf("kubectl %s succeeded, want an error; it printed:\n%s", strings.Join(args, " "), out)
	}
	return errOut
}

// run runs kubectl with no extra settings.
func run(t *testing.T, args ...string) string {
	t.Helper()
	return kubectl{}.run(t, args...)
}

// requireResource skips the test unless the nucleus serves the resource
// (as `kubectl api-resources -o name` names it: "pods",
// "deployments.apps").
func requireResource(t *testing.T, resource string) {
	t.Helper()
	if !serves(t, resource) {
		t.Skipf("SKIP: the nucleus does not serve %s yet; this step runs once it does", resource)
	}
}

func serves(t *testing.T, resource string) bool {
	t.Helper()
	names := strings.Fields(run(t, "api-resources", "-o", "name"))
	return slices.Contains(names, resource)
}

// createNamespace creates a namespace for one test.
func createNamespace(t *testing.T, name string) string {
	t.Helper()
	run(t, "create", "namespace", name)
	return name
}

// mustContain fails the test unless out contains every one of want.
func mustContain(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output does not contain %q:\n%s", w, out)
		}
	}
}

// headerFields returns the column names of a table kubectl printed.
func headerFields(out string) []string {
	line, _, _ := strings.Cut(out, "\n")
	return strings.Fields(line)
}

// mustHaveHeaders fails the test unless the table's header is exactly want.
func mustHaveHeaders(t *testing.T, out string, want ...string) {
	t.Helper()
	if got := headerFields(out); !slices.Equal(got, want) {
		t.Errorf("table headers are %v, want %v:\n%s", got, want, out)
	}
}

// rowOf returns the fields of the table row whose first column is name.
func rowOf(t *testing.T, out, name string) []string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && f[0] == name {
			return f
		}
	}
	t.Fatalf("no row %q in:\n%s", name, out)
	return nil
}

// writeFile writes a file into the test's temporary directory.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := t.TempDir() + "/" + name
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func jsonpath(t *testing.T, expr string, args ...string) string {
	t.Helper()
	return run(t, append(args, "-o", fmt.Sprintf("jsonpath=%s", expr))...)
}

// waitEstablished runs `kubectl wait --for condition=established` on a CRD.
// Until the API server's naming controller has set the first condition, a
// new CRD's status.conditions is null and kubectl wait stops with an
// accessor error (upstream behaves the same on a busy machine), so that
// error is retried.
func waitEstablished(t *testing.T, crd string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, errOut, err := kubectl{}.try(t, "wait", "--for", "condition=established", "--timeout=60s", "crd/"+crd)
		if err == nil {
			mustContain(t, out, "condition met")
			return
		}
		if !strings.Contains(errOut, "accessor error") || time.Now().After(deadline) {
			t.Fatalf("kubectl wait for crd/%s: %v\n%s", crd, err, errOut)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
