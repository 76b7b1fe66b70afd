// Package netnstest runs a test in a network namespace of its own, so that
// it can program real iptables without touching the machine's: the test
// binary re-executes the test alone under `unshare --net`.
package netnstest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// childEnv marks the re-executed test binary; its value is the parent's
// network namespace, which the child refuses to touch.
const childEnv = "STRATA_PROXY_NETNS_PARENT"

// Enter reports whether the caller runs in its own network namespace. The
// first time (in the parent) it re-executes the calling test alone under
// `unshare --net`, reports its outcome and returns false; in that child it
// brings lo up and returns true. It skips unless root with unshare, ip and
// the given commands.
func Enter(t *testing.T, commands ...string) bool {
	t.Helper()
	parentNS, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Skipf("Cannot read the network namespace: %v", err)
	}
	if want := os.Getenv(childEnv); want != "" {
		if want == parentNS {
			t.Fatal("Still in the parent's network namespace: refusing to touch its iptables")
		}
		Run(t, "ip", "link", "set", "lo", "up")
		return true
	}
	if os.Geteuid() != 0 {
		t.Skip("Creating a network namespace needs root")
	}
	for _, cmd := range append([]string{"unshare", "ip"}, commands...) {
		if _, err := exec.LookPath(cmd); err != nil {
			t.Skipf("%s is not installed", cmd)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "unshare", "--net", "--", os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+parentNS)
	out, err := cmd.CombinedOutput()
	if bytes.Contains(out, []byte("unshare failed")) {
		t.Skipf("Cannot create a network namespace: %s", bytes.TrimSpace(out))
	}
	t.Logf("In a new network namespace:\n%s", out)
	if err != nil {
		t.Fatalf("The test failed in its network namespace: %v", err)
	}
	if bytes.Contains(out, []byte("--- SKIP: "+t.Name())) {
		t.Skip("Skipped in its network namespace")
	}
	if !bytes.Contains(out, []byte("--- PASS: "+t.Name())) {
		t.Fatal("The test did not run in its network namespace")
	}
	return false
}

// Run runs a command, failing the test on error, and returns its output.
func Run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}
