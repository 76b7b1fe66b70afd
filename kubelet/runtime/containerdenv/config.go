// Package containerdenv runs a containerd owned by Strata: Debian's
// containerd and runc with a configuration of Strata's, its own root, state
// and socket under a data dir (so it never meets a system containerd), the
// CRI plugin enabled with Strata's pause image, and pod networking by the
// standard CNI plugins (bridge, host-local, portmap; containerd adds
// loopback) with a generated configuration.
//
// Start writes the configuration, starts containerd, waits until its CRI
// reports the runtime and the network ready, and imports image archives
// (made by `make images`) with `ctr images import`. Tests and the bring-up
// command use it; the kubelet talks CRI to Instance.Endpoint.
package containerdenv

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"time"

	"github.com/strata-dev/strata/images"
)

// Defaults of Config.
const (
	DefaultSubnet      = "10.88.0.0/16"
	DefaultBridge      = "strata0"
	DefaultNetworkName = "strata"
	// DefaultCNIBinDir is where Debian's containernetworking-plugins puts the plugins.
	DefaultCNIBinDir    = "/usr/lib/cni"
	DefaultStartTimeout = 30 * time.Second
	// Namespace is the containerd namespace of CRI: images imported into
	// any other are invisible to the kubelet.
	Namespace = "k8s.io"
	// maxSocketPath leaves room in sockaddr_un's 108 bytes for the
	// terminating NUL and the ".ttrpc" suffix of containerd's second socket.
	maxSocketPath = 100
	// shortSocketDir holds the socket when the data dir's path is too long.
	shortSocketDir = "/run/strata"
)

// Config describes a containerd instance. Only DataDir is required.
type Config struct {
	// DataDir holds everything of the instance (see Layout).
	DataDir string
	// Subnet is the pod network, handed out by host-local; the bridge gets
	// its first address as the pods' gateway. Default DefaultSubnet.
	Subnet string
	// BridgeName is the Linux bridge of the pod network, at most 15
	// characters. Default DefaultBridge; two instances on one machine need
	// different bridges and subnets.
	BridgeName string
	// NetworkName is the CNI network's name. Default DefaultNetworkName.
	NetworkName string
	// CNIBinDir holds the CNI plugins. Default DefaultCNIBinDir.
	CNIBinDir string
	// SandboxImage is the pause image. Default images.PauseRef.
	SandboxImage string
	// Containerd and Ctr are the binaries; default found on PATH.
	Containerd string
	Ctr        string
	// Images are archives imported after start (e.g. bin/images/*.tar).
	Images []string
	// StartTimeout bounds the wait for containerd's CRI to become ready.
	// Default DefaultStartTimeout.
	StartTimeout time.Duration
	// SkipHostSetup leaves the kernel settings alone (see PrepareHost).
	SkipHostSetup bool
	// RestrictOOMScoreAdj makes CRI raise every container's oom_score_adj to
	// at least containerd's own. Start turns it on when the process lacks
	// CAP_SYS_RESOURCE (as in some sandboxes and VMs), where lowering a
	// score fails and with it every pod.
	RestrictOOMScoreAdj bool
}

// Layout is where an instance keeps its files.
type Layout struct {
	// Config is containerd's config.toml; Log its output.
	Config string
	Log    string
	// PIDFile holds the containerd process id while it runs.
	PIDFile string
	// Root is containerd's persistent root: content store, metadata,
	// snapshots (overlayfs), CRI's container logs are the kubelet's business.
	Root string
	// State is containerd's state: task bundles, CRI sandbox files, network
	// namespaces, runc's state (State/runc).
	State string
	// Socket is the gRPC socket (Socket+".ttrpc" is the ttrpc one).
	Socket string
	// CNIConfDir holds the generated conflist; CNIDataDir host-local's
	// address allocations.
	CNIConfDir string
	CNIDataDir string
	// Opt is containerd's opt plugin directory.
	Opt string
}

// Endpoint is the CRI endpoint of the layout's socket, as the kubelet's
// --container-runtime-endpoint takes it.
func (l Layout) Endpoint() string { return "unix://" + l.Socket }

func (c Config) withDefaults() Config {
	if c.Subnet == "" {
		c.Subnet = DefaultSubnet
	}
	if c.BridgeName == "" {
		c.BridgeName = DefaultBridge
	}
	if c.NetworkName == "" {
		c.NetworkName = DefaultNetworkName
	}
	if c.CNIBinDir == "" {
		c.CNIBinDir = DefaultCNIBinDir
	}
	if c.SandboxImage == "" {
		c.SandboxImage = images.PauseRef
	}
	if c.Containerd == "" {
		c.Containerd = "containerd"
	}
	if c.Ctr == "" {
		c.Ctr = "ctr"
	}
	if c.StartTimeout == 0 {
		c.StartTimeout = DefaultStartTimeout
	}
	return c
}

func (c Config) validate() error {
	if c.DataDir == "" {
		return fmt.Errorf("containerd: no data dir")
	}
	if !filepath.IsAbs(c.DataDir) {
		return fmt.Errorf("containerd: data dir %q is not absolute", c.DataDir)
	}
	prefix, err := netip.ParsePrefix(c.Subnet)
	if err != nil {
		return fmt.Errorf("containerd: pod subnet: %w", err)
	}
	if !prefix.Addr().Is4() || prefix.Bits() > 30 || prefix.Masked() != prefix {
		return fmt.Errorf("containerd: pod subnet %s: want an IPv4 network of at least 4 addresses, given by its first address", c.Subnet)
	}
	if len(c.BridgeName) == 0 || len(c.BridgeName) > 15 || strings.ContainsAny(c.BridgeName, "/ \t\n") {
		return fmt.Errorf("containerd: bridge name %q: want 1 to 15 characters without '/' or spaces", c.BridgeName)
	}
	return nil
}

// LayoutOf returns where the instance of c keeps its files: everything under
// DataDir, except the socket, which moves to /run/strata/<hash of DataDir>/
// when DataDir is too long for a unix socket path.
func LayoutOf(c Config) Layout {
	d := c.DataDir
	l := Layout{
		Config:     filepath.Join(d, "config.toml"),
		Log:        filepath.Join(d, "containerd.log"),
		PIDFile:    filepath.Join(d, "containerd.pid"),
		Root:       filepath.Join(d, "root"),
		State:      filepath.Join(d, "state"),
		Socket:     filepath.Join(d, "containerd.sock"),
		CNIConfDir: filepath.Join(d, "cni", "net.d"),
		CNIDataDir: filepath.Join(d, "cni", "networks"),
		Opt:        filepath.Join(d, "opt"),
	}
	if len(l.Socket)+len(".ttrpc") > maxSocketPath {
		sum := sha256.Sum256([]byte(filepath.Clean(d)))
		l.Socket = filepath.Join(shortSocketDir, hex.EncodeToString(sum[:6]), "containerd.sock")
	}
	return l
}

// tomlString quotes s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\u%04X", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// ContainerdConfig renders containerd's config.toml (version 2, which
// containerd 1.6 and 1.7 read). It replaces any system configuration: the
// CRI plugin is enabled whatever /etc/containerd/config.toml says.
func ContainerdConfig(c Config, l Layout) string {
	q := tomlString
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("# Generated by Strata (kubelet/runtime/containerdenv); rewritten at every start.")
	w("version = 2")
	w("root = %s", q(l.Root))
	w("state = %s", q(l.State))
	if !c.RestrictOOMScoreAdj {
		// As Debian's containerd.service (OOMScoreAdjust=-999).
		w("oom_score = -999")
	}
	// Snapshotters this machine has no use for only log errors at start.
	w(`disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]`)
	w("")
	w("[grpc]")
	w("  address = %s", q(l.Socket))
	w("")
	w("[plugins]")
	w(`  [plugins."io.containerd.grpc.v1.cri"]`)
	w("    sandbox_image = %s", q(c.SandboxImage))
	// Unprivileged pods may bind ports below 1024 and ping, as in containerd 2.
	w("    enable_unprivileged_ports = true")
	w("    enable_unprivileged_icmp = true")
	w("    netns_mounts_under_state_dir = true")
	w("    restrict_oom_score_adj = %t", c.RestrictOOMScoreAdj)
	w("    disable_tcp_service = true")
	w(`    stream_server_address = "127.0.0.1"`)
	w(`    stream_server_port = "0"`)
	w("    max_container_log_line_size = 16384")
	w(`    [plugins."io.containerd.grpc.v1.cri".containerd]`)
	w(`      snapshotter = "overlayfs"`)
	w(`      default_runtime_name = "runc"`)
	w(`      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]`)
	w(`        runtime_type = "io.containerd.runc.v2"`)
	w(`        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]`)
	w("          SystemdCgroup = false")
	w("          Root = %s", q(filepath.Join(l.State, "runc")))
	w(`    [plugins."io.containerd.grpc.v1.cri".cni]`)
	w("      bin_dir = %s", q(c.CNIBinDir))
	w("      conf_dir = %s", q(l.CNIConfDir))
	w("      max_conf_num = 1")
	w(`  [plugins."io.containerd.internal.v1.opt"]`)
	w("    path = %s", q(l.Opt))
	return b.String()
}

// CNIConfList renders the pod network: a bridge with the pods' gateway
// address, masquerading traffic leaving the subnet, addresses from
// host-local (state under the data dir), and portmap for hostPort.
// containerd's CRI adds the loopback plugin itself.
func CNIConfList(c Config, l Layout) ([]byte, error) {
	type obj = map[string]any
	conf := obj{
		"cniVersion": "1.0.0",
		"name":       c.NetworkName,
		"plugins": []obj{
			{
				"type":        "bridge",
				"bridge":      c.BridgeName,
				"isGateway":   true,
				"ipMasq":      true,
				"hairpinMode": true,
				"ipam": obj{
					"type":    "host-local",
					"ranges":  [][]obj{{{"subnet": c.Subnet}}},
					"routes":  []obj{{"dst": "0.0.0.0/0"}},
					"dataDir": l.CNIDataDir,
				},
			},
			{
				"type":         "portmap",
				"capabilities": obj{"portMappings": true},
				"snat":         true,
			},
		},
	}
	return json.MarshalIndent(conf, "", "  ")
}

// CNIConfFile is the conflist's file name in Layout.CNIConfDir.
const CNIConfFile = "10-strata.conflist"
