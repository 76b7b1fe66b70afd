package containerdenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrNotRoot is returned when the process cannot run containers.
var ErrNotRoot = errors.New("running containerd needs root")

// MissingError lists what the machine lacks to run containerd; install it
// with hack/install-deps.sh.
type MissingError struct {
	Missing []string
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("missing %s: run hack/install-deps.sh (Debian packages containerd, runc, containernetworking-plugins, iptables)",
		strings.Join(e.Missing, ", "))
}

// CheckHost reports what c needs and the machine lacks: root, the
// containerd, ctr, runc and iptables binaries, the CNI plugins.
func CheckHost(c Config) error {
	c = c.withDefaults()
	if os.Geteuid() != 0 {
		return ErrNotRoot
	}
	var missing []string
	for _, bin := range []string{c.Containerd, c.Ctr, "runc", "containerd-shim-runc-v2", "iptables"} {
		if _, err := exec.LookPath(bin); err != nil {
			missing = append(missing, bin)
		}
	}
	for _, plugin := range []string{"bridge", "host-local", "portmap", "loopback"} {
		p := filepath.Join(c.CNIBinDir, plugin)
		if st, err := os.Stat(p); err != nil || st.Mode()&0o111 == 0 {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return &MissingError{Missing: missing}
	}
	return nil
}

// hostSettings are the kernel settings pod networking needs: forwarding
// between the bridge and the host, and bridged traffic passing iptables (so
// the service proxy's rules and the bridge plugin's masquerading apply).
var hostSettings = []struct{ path, value, why string }{
	{"/proc/sys/net/ipv4/ip_forward", "1", "pods reach beyond their bridge"},
	{"/proc/sys/net/bridge/bridge-nf-call-iptables", "1", "bridged pod traffic passes iptables"},
}

// PrepareHost loads br_netfilter when the bridge's netfilter settings are
// missing and turns on the settings pod networking needs
// (net.ipv4.ip_forward, net.bridge.bridge-nf-call-iptables), as kubeadm's
// preflight asks of a node.
func PrepareHost() error {
	if _, err := os.Stat("/proc/sys/net/bridge"); errors.Is(err, os.ErrNotExist) {
		out, err := exec.Command("modprobe", "br_netfilter").CombinedOutput()
		if err != nil {
			return fmt.Errorf("loading kernel module br_netfilter (modprobe br_netfilter): %w: %s", err, strings.TrimSpace(string(out)))
		}
	}
	for _, s := range hostSettings {
		cur, err := os.ReadFile(s.path)
		if err != nil {
			return fmt.Errorf("reading %s (needed so %s): %w", s.path, s.why, err)
		}
		if strings.TrimSpace(string(cur)) == s.value {
			continue
		}
		if err := os.WriteFile(s.path, []byte(s.value), 0o644); err != nil { //nolint:gosec // a sysctl file
			name := strings.ReplaceAll(strings.TrimPrefix(s.path, "/proc/sys/"), "/", ".")
			return fmt.Errorf("setting %s=%s (needed so %s): %w", name, s.value, s.why, err)
		}
	}
	return nil
}

// capSysResource is CAP_SYS_RESOURCE's bit in /proc/<pid>/status.
const capSysResource = 24

// CanLowerOOMScore reports whether this process may lower an oom_score_adj
// (CAP_SYS_RESOURCE in its effective set).
func CanLowerOOMScore() bool {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		hexCaps, ok := strings.CutPrefix(line, "CapEff:")
		if !ok {
			continue
		}
		caps, err := strconv.ParseUint(strings.TrimSpace(hexCaps), 16, 64)
		return err == nil && caps&(1<<capSysResource) != 0
	}
	return false
}
