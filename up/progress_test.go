package up

import (
	"bytes"
	"errors"
	"os"
	"regexp"
	"testing"

	"golang.org/x/sys/unix"
)

// Off a terminal, each stage is a line when it starts and one when it ends,
// with its detail and duration; statuses are not printed.
func TestProgressOffTerminal(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out)
	if err := p.stageWithStatus("Installing layer dns", func(status func(string)) (string, error) {
		status("waiting for Deployment coredns (InProgress)")
		return "installed dns 0.1.0, revision 1", nil
	}); err != nil {
		t.Fatal(err)
	}
	failed := errors.New("boom")
	if err := p.stage("Starting kubelet", func() (string, error) { return "", failed }); !errors.Is(err, failed) {
		t.Errorf("stage returned %v, want the stage's error", err)
	}
	want := regexp.MustCompile(`^ … Installing layer dns\n ✓ Installing layer dns: installed dns 0\.1\.0, revision 1 \([0-9.]+m?s\)\n` +
		` … Starting kubelet\n ✗ Starting kubelet \([0-9.]+m?s\)\n$`)
	if !want.MatchString(out.String()) {
		t.Errorf("progress:\n%s\nwant it to match %s", out.String(), want)
	}
}

func TestHelmStatus(t *testing.T) {
	tests := []struct {
		msg   string
		attrs map[string]string
		want  string
	}{
		{"creating resource(s)", map[string]string{"resources": "7"}, "creating 7 objects"},
		{"checking resources for changes", map[string]string{"resources": "1"}, "updating 1 object"},
		{"waiting for resources", map[string]string{"count": "4", "timeout": "3m0s"}, "waiting for 4 objects to be ready"},
		{"waiting for resource", map[string]string{"kind": "Deployment", "name": "coredns", "actualStatus": "InProgress"}, "waiting for Deployment coredns (InProgress)"},
		{"waiting for resource", map[string]string{"kind": "Pod", "name": "strata-apps-manager"}, "waiting for Pod strata-apps-manager"},
		{"getting history for release", map[string]string{"release": "dns"}, ""},
	}
	for _, tc := range tests {
		if got := helmStatus(tc.msg, tc.attrs); got != tc.want {
			t.Errorf("helmStatus(%q, %v) = %q, want %q", tc.msg, tc.attrs, got, tc.want)
		}
	}
}

// A descriptor strata up inherited without close-on-exec (such as the lock
// of `flock LOCK make up`) must not reach the daemons.
func TestCloseInheritedOnExec(t *testing.T) {
	fd, err := unix.Open(os.DevNull, unix.O_RDONLY, 0) // no O_CLOEXEC, as an inherited descriptor
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	flags := func() int {
		f, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	if flags()&unix.FD_CLOEXEC != 0 {
		t.Fatal("the test's descriptor is already close-on-exec")
	}
	closeInheritedOnExec()
	if flags()&unix.FD_CLOEXEC == 0 {
		t.Error("an inherited descriptor stays open across exec")
	}
}
