package conntrack

import (
	"errors"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

func TestExecArgs(t *testing.T) {
	var calls []string
	e := &Exec{logger: logr.Discard(), path: "/usr/sbin/conntrack", run: func(_ string, args ...string) ([]byte, error) {
		calls = append(calls, strings.Join(args, " "))
		return nil, nil
	}}
	udp := corev1.ProtocolUDP
	for _, err := range []error{
		e.ClearEntriesForIP("10.96.0.10", udp),
		e.ClearEntriesForIP("fd00::10", udp),
		e.ClearEntriesForPort(30053, false, udp),
		e.ClearEntriesForPort(30053, true, udp),
		e.ClearEntriesForNAT("10.96.0.10", "10.244.0.5", udp),
		e.ClearEntriesForPortNAT("10.244.0.5", 30053, udp),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		"-D --orig-dst 10.96.0.10 -p udp",
		"-D --orig-dst fd00::10 -p udp -f ipv6",
		"-D -p udp --dport 30053",
		"-D -p udp --dport 30053 -f ipv6",
		"-D --orig-dst 10.96.0.10 --dst-nat 10.244.0.5 -p udp",
		"-D -p udp --dport 30053 --dst-nat 10.244.0.5",
	}
	if diff := cmp.Diff(want, calls); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if err := e.ClearEntriesForPort(0, false, udp); err == nil {
		t.Error("Port 0 accepted")
	}
}

func TestExecErrors(t *testing.T) {
	out, fail := "", errors.New("exit status 1")
	e := &Exec{logger: logr.Discard(), path: "/usr/sbin/conntrack", run: func(string, ...string) ([]byte, error) { return []byte(out), fail }}
	out = "conntrack v1.4.7 (conntrack-tools): 0 flow entries have been deleted.\n"
	if err := e.ClearEntriesForIP("10.96.0.10", corev1.ProtocolUDP); err != nil {
		t.Errorf("Nothing to delete is an error: %v", err)
	}
	out = "conntrack v1.4.7 (conntrack-tools): Operation failed: invalid parameters\n"
	if err := e.ClearEntriesForIP("10.96.0.10", corev1.ProtocolUDP); err == nil || !strings.Contains(err.Error(), "invalid parameters") {
		t.Errorf("Error %v", err)
	}
}

func TestExecMissingCommand(t *testing.T) {
	e := &Exec{logger: logr.Discard(), run: func(string, ...string) ([]byte, error) {
		t.Fatal("Ran a missing command")
		return nil, nil
	}}
	if err := e.ClearEntriesForIP("10.96.0.10", corev1.ProtocolUDP); err != nil {
		t.Errorf("A missing conntrack is an error: %v", err)
	}
}
