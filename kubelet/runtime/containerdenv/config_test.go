package containerdenv

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestLayoutOf(t *testing.T) {
	l := LayoutOf(Config{DataDir: "/var/lib/strata"})
	want := Layout{
		Config:     "/var/lib/strata/config.toml",
		Log:        "/var/lib/strata/containerd.log",
		PIDFile:    "/var/lib/strata/containerd.pid",
		Root:       "/var/lib/strata/root",
		State:      "/var/lib/strata/state",
		Socket:     "/var/lib/strata/containerd.sock",
		CNIConfDir: "/var/lib/strata/cni/net.d",
		CNIDataDir: "/var/lib/strata/cni/networks",
		Opt:        "/var/lib/strata/opt",
	}
	if diff := cmp.Diff(want, l); diff != "" {
		t.Errorf("Layout (-want +got):\n%s", diff)
	}
	if got := l.Endpoint(); got != "unix:///var/lib/strata/containerd.sock" {
		t.Errorf("Endpoint = %s", got)
	}

	long := "/" + strings.Repeat("d", 90)
	ll := LayoutOf(Config{DataDir: long})
	if !strings.HasPrefix(ll.Socket, "/run/strata/") || len(ll.Socket)+len(".ttrpc") > maxSocketPath {
		t.Errorf("Socket of a long data dir = %s, want a short path under /run/strata", ll.Socket)
	}
	if again := LayoutOf(Config{DataDir: long + "/"}); again.Socket != ll.Socket {
		t.Errorf("Socket depends on a trailing slash: %s vs %s", again.Socket, ll.Socket)
	}
	if other := LayoutOf(Config{DataDir: long + "x"}); other.Socket == ll.Socket {
		t.Errorf("Two data dirs share the socket %s", other.Socket)
	}
	if ll.Root != long+"/root" {
		t.Errorf("Root = %s, want it under the data dir", ll.Root)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"defaults", Config{DataDir: "/d"}, ""},
		{"no data dir", Config{}, "no data dir"},
		{"relative", Config{DataDir: "d"}, "not absolute"},
		{"bad subnet", Config{DataDir: "/d", Subnet: "10.0.0.0"}, "pod subnet"},
		{"host bits", Config{DataDir: "/d", Subnet: "10.0.0.1/24"}, "given by its first address"},
		{"ipv6", Config{DataDir: "/d", Subnet: "fd00::/64"}, "IPv4"},
		{"too small", Config{DataDir: "/d", Subnet: "10.0.0.0/31"}, "at least 4 addresses"},
		{"long bridge", Config{DataDir: "/d", BridgeName: "a-very-long-bridge"}, "bridge name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.withDefaults().validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Errorf("validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("validate() = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestContainerdConfig(t *testing.T) {
	c := Config{DataDir: "/data"}.withDefaults()
	got := ContainerdConfig(c, LayoutOf(c))
	for _, line := range []string{
		"version = 2",
		`root = "/data/root"`,
		`state = "/data/state"`,
		"oom_score = -999",
		`  address = "/data/containerd.sock"`,
		`    sandbox_image = "strata.local/pause:3.10"`,
		"    restrict_oom_score_adj = false",
		`      snapshotter = "overlayfs"`,
		`        runtime_type = "io.containerd.runc.v2"`,
		"          SystemdCgroup = false",
		`          Root = "/data/state/runc"`,
		`      bin_dir = "/usr/lib/cni"`,
		`      conf_dir = "/data/cni/net.d"`,
		`    path = "/data/opt"`,
	} {
		if !strings.Contains(got, line+"\n") {
			t.Errorf("config.toml lacks the line %q:\n%s", line, got)
		}
	}
	if strings.Contains(got, "disabled_plugins = [\"io.containerd.grpc.v1.cri\"") {
		t.Error("config.toml disables CRI")
	}

	c.RestrictOOMScoreAdj = true
	restricted := ContainerdConfig(c, LayoutOf(c))
	if strings.Contains(restricted, "oom_score = ") || !strings.Contains(restricted, "restrict_oom_score_adj = true\n") {
		t.Errorf("Restricted config.toml still lowers scores:\n%s", restricted)
	}
}

func TestTOMLString(t *testing.T) {
	tests := map[string]string{
		"/plain/path":    `"/plain/path"`,
		`a"b\c`:          `"a\"b\\c"`,
		"tab\tnewline\n": `"tab\u0009newline\u000A"`,
		"ünïcode":        `"ünïcode"`,
	}
	for in, want := range tests {
		if got := tomlString(in); got != want {
			t.Errorf("tomlString(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestCNIConfList(t *testing.T) {
	c := Config{DataDir: "/data", Subnet: "10.244.0.0/24", BridgeName: "br-test", NetworkName: "net"}.withDefaults()
	data, err := CNIConfList(c, LayoutOf(c))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"cniVersion": "1.0.0",
		"name":       "net",
		"plugins": []any{
			map[string]any{
				"type":        "bridge",
				"bridge":      "br-test",
				"isGateway":   true,
				"ipMasq":      true,
				"hairpinMode": true,
				"ipam": map[string]any{
					"type":    "host-local",
					"ranges":  []any{[]any{map[string]any{"subnet": "10.244.0.0/24"}}},
					"routes":  []any{map[string]any{"dst": "0.0.0.0/0"}},
					"dataDir": "/data/cni/networks",
				},
			},
			map[string]any{
				"type":         "portmap",
				"capabilities": map[string]any{"portMappings": true},
				"snat":         true,
			},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("conflist (-want +got):\n%s", diff)
	}
}

func TestNotReady(t *testing.T) {
	cond := func(typ string, ok bool, reason string) *runtimeapi.RuntimeCondition {
		return &runtimeapi.RuntimeCondition{Type: typ, Status: ok, Reason: reason, Message: "m"}
	}
	tests := []struct {
		name  string
		conds []*runtimeapi.RuntimeCondition
		want  string
	}{
		{"ready", []*runtimeapi.RuntimeCondition{cond(runtimeapi.RuntimeReady, true, ""), cond(runtimeapi.NetworkReady, true, "")}, ""},
		{"network not ready", []*runtimeapi.RuntimeCondition{cond(runtimeapi.RuntimeReady, true, ""), cond(runtimeapi.NetworkReady, false, "NetworkPluginNotReady")},
			"NetworkReady is false: NetworkPluginNotReady: m"},
		{"nothing reported", nil, "RuntimeReady not reported; NetworkReady not reported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := notReady(&runtimeapi.RuntimeStatus{Conditions: tt.conds})
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("notReady = %q, want %q", got, tt.want)
			}
		})
	}
}
