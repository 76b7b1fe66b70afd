package pods

import (
	"errors"
	"io/fs"
	"testing"
	"time"

	"google.golang.org/protobuf/testing/protocmp"
	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/utils/ptr"
)

func TestLinuxResources(t *testing.T) {
	const gi = int64(1 << 30)
	tests := []struct {
		name     string
		pod      *corev1.Pod
		capacity int64
		quota    bool
		want     *runtimeapi.LinuxContainerResources
	}{{
		name:  "best effort",
		pod:   makePod("p").Containers("a").Obj(),
		quota: true,
		want:  &runtimeapi.LinuxContainerResources{CpuShares: 2, CpuPeriod: 100000, OomScoreAdj: 1000},
	}, {
		name:  "guaranteed",
		pod:   makePod("p").Containers("a").Resources("a", "cpu=500m,memory=1Gi", "cpu=500m,memory=1Gi").Obj(),
		quota: true,
		want:  &runtimeapi.LinuxContainerResources{CpuShares: 512, CpuPeriod: 100000, CpuQuota: 50000, MemoryLimitInBytes: gi, OomScoreAdj: -997},
	}, {
		name:  "limit only: shares from the limit",
		pod:   makePod("p").Containers("a").Resources("a", "", "cpu=2").Obj(),
		quota: true,
		want:  &runtimeapi.LinuxContainerResources{CpuShares: 2048, CpuPeriod: 100000, CpuQuota: 200000, OomScoreAdj: 999},
	}, {
		name:     "burstable: OOM score by the share of memory requested",
		pod:      makePod("p").Containers("a").Resources("a", "memory=2Gi", "").Obj(),
		capacity: 8 * gi,
		quota:    true,
		want:     &runtimeapi.LinuxContainerResources{CpuShares: 2, CpuPeriod: 100000, OomScoreAdj: 750},
	}, {
		name:     "burstable asking for all the memory",
		pod:      makePod("p").Containers("a").Resources("a", "memory=8Gi", "").Obj(),
		capacity: 8 * gi,
		want:     &runtimeapi.LinuxContainerResources{CpuShares: 2, OomScoreAdj: 3},
	}, {
		name:  "tiny cpu limit: the least quota",
		pod:   makePod("p").Containers("a").Resources("a", "cpu=1m", "cpu=1m").Obj(),
		quota: true,
		want:  &runtimeapi.LinuxContainerResources{CpuShares: 2, CpuPeriod: 100000, CpuQuota: 1000, OomScoreAdj: 999},
	}, {
		name: "no quota",
		pod:  makePod("p").Containers("a").Resources("a", "cpu=1", "cpu=1").Obj(),
		want: &runtimeapi.LinuxContainerResources{CpuShares: 1024, OomScoreAdj: 999},
	}, {
		name: "node critical",
		pod: func() *corev1.Pod {
			p := makePod("p").Containers("a").Obj()
			p.Spec.PriorityClassName = "system-node-critical"
			return p
		}(),
		want: &runtimeapi.LinuxContainerResources{CpuShares: 2, OomScoreAdj: -997},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := LinuxResources(tt.pod, &tt.pod.Spec.Containers[0], tt.capacity, tt.quota)
			diff(t, "resources", tt.want, got, protocmp.Transform())
		})
	}
}

func TestContainerSecurityContext(t *testing.T) {
	pod := makePod("p").Containers("a").Obj()
	pod.Spec.HostPID = true
	pod.Spec.SecurityContext = &corev1.PodSecurityContext{
		RunAsUser:          ptr.To[int64](1000),
		RunAsGroup:         ptr.To[int64](2000),
		FSGroup:            ptr.To[int64](3000),
		SupplementalGroups: []int64{4000},
		SeccompProfile:     &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
	pod.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{
		RunAsUser:                ptr.To[int64](1001),
		ReadOnlyRootFilesystem:   ptr.To(true),
		AllowPrivilegeEscalation: ptr.To(false),
		Capabilities:             &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN"}, Drop: []corev1.Capability{"ALL"}},
	}
	got := containerSecurityContext(pod, &pod.Spec.Containers[0])
	want := &runtimeapi.LinuxContainerSecurityContext{
		NamespaceOptions:   &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_POD, Pid: runtimeapi.NamespaceMode_NODE, Ipc: runtimeapi.NamespaceMode_POD},
		RunAsUser:          &runtimeapi.Int64Value{Value: 1001},
		RunAsGroup:         &runtimeapi.Int64Value{Value: 2000},
		SupplementalGroups: []int64{3000, 4000},
		ReadonlyRootfs:     true,
		NoNewPrivs:         true,
		Capabilities:       &runtimeapi.Capability{AddCapabilities: []string{"NET_ADMIN"}, DropCapabilities: []string{"ALL"}},
		Seccomp:            &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_RuntimeDefault},
		MaskedPaths:        defaultMaskedPaths,
		ReadonlyPaths:      defaultReadonlyPaths,
	}
	diff(t, "security context", want, got, protocmp.Transform())

	pod.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: ptr.To(true)}
	privileged := containerSecurityContext(pod, &pod.Spec.Containers[0])
	if !privileged.Privileged || privileged.MaskedPaths != nil || privileged.ReadonlyPaths != nil {
		t.Errorf("privileged container: privileged=%v masked=%v readonly=%v", privileged.Privileged, privileged.MaskedPaths, privileged.ReadonlyPaths)
	}
	if !sandboxSecurityContext(pod).Privileged {
		t.Error("sandbox of a privileged container is not privileged")
	}
}

func TestPodHostname(t *testing.T) {
	long := "a-very-long-pod-name-that-goes-on-and-on-and-on-well-past-sixty-three-characters"
	tests := []struct {
		name string
		pod  *corev1.Pod
		want string
	}{
		{"pod name", makePod("web").Obj(), "web"},
		{"spec.hostname", func() *corev1.Pod { p := makePod("web").Obj(); p.Spec.Hostname = "www"; return p }(), "www"},
		{"host network", makePod("web").HostNetwork().Obj(), "node-1"},
		{"cut to 63", makePod(long).Obj(), "a-very-long-pod-name-that-goes-on-and-on-and-on-well-past-sixty"},
	}
	for _, tt := range tests {
		if got := podHostname(tt.pod, "node-1"); got != tt.want {
			t.Errorf("%s: podHostname = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestHostsFile(t *testing.T) {
	pod := makePod("web").Obj()
	pod.Spec.Subdomain = "backends"
	pod.Spec.HostAliases = []corev1.HostAlias{{IP: "10.0.0.9", Hostnames: []string{"db", "db.local"}}}
	got := string(hostsFile(pod, []string{"10.88.0.2"}, "web", "cluster.local"))
	want := `# Kubernetes-managed hosts file.
127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
fe00::0	ip6-localnet
fe00::0	ip6-mcastprefix
fe00::1	ip6-allnodes
fe00::2	ip6-allrouters
10.88.0.2	web.backends.default.svc.cluster.local	web

# Entries added by HostAliases.
10.0.0.9	db	db.local
`
	diff(t, "hosts file", want, got)
}

func TestApplyDefaultTag(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"busybox", "busybox:latest", ""},
		{"busybox:1.36", "busybox:1.36", ""},
		{"registry.local:5000/tools/busybox", "registry.local:5000/tools/busybox:latest", ""},
		{"registry.local:5000/tools/busybox:1", "registry.local:5000/tools/busybox:1", ""},
		{"busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", ""},
		{"BusyBox", "", `couldn't parse image name "BusyBox": invalid reference format: repository name (library/BusyBox) must be lowercase`},
	}
	for _, tt := range tests {
		got, err := applyDefaultTag(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("applyDefaultTag(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("applyDefaultTag(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestToRuntimeContainer(t *testing.T) {
	files := map[string]string{
		"/pods/uid/containers/app/ab12":  "the end",
		"/logs/app/0.log":                "2026-03-01T12:00:00Z stdout F first\n2026-03-01T12:00:00Z stderr F last words\n",
		"/pods/uid/containers/app/empty": "",
	}
	readFile := func(path string) ([]byte, error) {
		if s, ok := files[path]; ok {
			return []byte(s), nil
		}
		return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
	}
	status := func(state runtimeapi.ContainerState, code int32, reason, policy, mountHost string) *runtimeapi.ContainerStatus {
		s := &runtimeapi.ContainerStatus{
			Id:         "abc",
			Metadata:   &runtimeapi.ContainerMetadata{Name: "app", Attempt: 2},
			State:      state,
			CreatedAt:  t0.UnixNano(),
			StartedAt:  t0.Add(time.Second).UnixNano(),
			FinishedAt: t0.Add(2 * time.Second).UnixNano(),
			ExitCode:   code,
			Reason:     reason,
			Image:      &runtimeapi.ImageSpec{Image: "docker.io/library/busybox:latest", UserSpecifiedImage: "busybox"},
			ImageRef:   "sha256:abc",
			Labels:     map[string]string{ContainerNameLabel: "app"},
			User:       &runtimeapi.ContainerUser{Linux: &runtimeapi.LinuxContainerUser{Uid: 1000, Gid: 1000, SupplementalGroups: []int64{1000, 10}}},
			Annotations: map[string]string{
				containerHashAnnotation:                     "1234",
				containerRestartCountAnnotation:             "2",
				containerTerminationMessagePathAnnotation:   "/dev/termination-log",
				containerTerminationMessagePolicyAnnotation: policy,
			},
			LogPath: "/logs/app/0.log",
		}
		if mountHost != "" {
			s.Mounts = []*runtimeapi.Mount{{HostPath: mountHost, ContainerPath: "/dev/termination-log"}}
		}
		return s
	}
	user := &corev1.ContainerUser{Linux: &corev1.LinuxContainerUser{UID: 1000, GID: 1000, SupplementalGroups: []int64{1000, 10}}}
	tests := []struct {
		name   string
		status *runtimeapi.ContainerStatus
		want   RuntimeContainer
	}{{
		name:   "running",
		status: status(runtimeapi.ContainerState_CONTAINER_RUNNING, 0, "", "File", "/pods/uid/containers/app/ab12"),
		want: RuntimeContainer{ID: "abc", Name: "app", SandboxID: "sb", State: ContainerRunning, RestartCount: 2,
			CreatedAt: t0, StartedAt: t0.Add(time.Second), Image: "busybox", ImageRef: "sha256:abc", Hash: "1234", User: user, LogPath: "/logs/app/0.log"},
	}, {
		name:   "created: not started",
		status: status(runtimeapi.ContainerState_CONTAINER_CREATED, 0, "", "File", ""),
		want: RuntimeContainer{ID: "abc", Name: "app", SandboxID: "sb", State: ContainerCreated, RestartCount: 2,
			CreatedAt: t0, Image: "busybox", ImageRef: "sha256:abc", Hash: "1234", User: user, LogPath: "/logs/app/0.log"},
	}, {
		name:   "exited with a termination message",
		status: status(runtimeapi.ContainerState_CONTAINER_EXITED, 0, "Completed", "File", "/pods/uid/containers/app/ab12"),
		want: RuntimeContainer{ID: "abc", Name: "app", SandboxID: "sb", State: ContainerExited, RestartCount: 2,
			CreatedAt: t0, StartedAt: t0.Add(time.Second), FinishedAt: t0.Add(2 * time.Second), Reason: "Completed", Message: "the end",
			Image: "busybox", ImageRef: "sha256:abc", Hash: "1234", User: user, LogPath: "/logs/app/0.log"},
	}, {
		name:   "failed, no message, fallback to logs",
		status: status(runtimeapi.ContainerState_CONTAINER_EXITED, 2, "Error", "FallbackToLogsOnError", "/pods/uid/containers/app/empty"),
		want: RuntimeContainer{ID: "abc", Name: "app", SandboxID: "sb", State: ContainerExited, RestartCount: 2, ExitCode: 2,
			CreatedAt: t0, StartedAt: t0.Add(time.Second), FinishedAt: t0.Add(2 * time.Second), Reason: "Error", Message: "first\nlast words\n",
			Image: "busybox", ImageRef: "sha256:abc", Hash: "1234", User: user, LogPath: "/logs/app/0.log"},
	}, {
		name:   "succeeded: no fallback to logs",
		status: status(runtimeapi.ContainerState_CONTAINER_EXITED, 0, "Completed", "FallbackToLogsOnError", "/pods/uid/containers/app/empty"),
		want: RuntimeContainer{ID: "abc", Name: "app", SandboxID: "sb", State: ContainerExited, RestartCount: 2,
			CreatedAt: t0, StartedAt: t0.Add(time.Second), FinishedAt: t0.Add(2 * time.Second), Reason: "Completed",
			Image: "busybox", ImageRef: "sha256:abc", Hash: "1234", User: user, LogPath: "/logs/app/0.log"},
	}, {
		name:   "message file gone",
		status: status(runtimeapi.ContainerState_CONTAINER_EXITED, 1, "Error", "File", "/pods/uid/containers/app/gone"),
		want: RuntimeContainer{ID: "abc", Name: "app", SandboxID: "sb", State: ContainerExited, RestartCount: 2, ExitCode: 1,
			CreatedAt: t0, StartedAt: t0.Add(time.Second), FinishedAt: t0.Add(2 * time.Second), Reason: "Error",
			Image: "busybox", ImageRef: "sha256:abc", Hash: "1234", User: user, LogPath: "/logs/app/0.log"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := toRuntimeContainer(tt.status, "sb", readFile)
			diff(t, "container", tt.want, *got)
		})
	}
}

func TestLastLogLines(t *testing.T) {
	var log []byte
	for i := range 100 {
		log = append(log, []byte("2026-03-01T12:00:00Z stdout F line "+itoa3(i)+"\n")...)
	}
	readFile := func(string) ([]byte, error) { return log, nil }
	got := lastLogLines("/x", readFile)
	if n := len(splitLines(got)); n != 80 {
		t.Errorf("%d lines, want 80", n)
	}
	if want := "line 099\n"; got[len(got)-len(want):] != want {
		t.Errorf("ends with %q, want %q", got[len(got)-len(want):], want)
	}

	big := []byte("2026-03-01T12:00:00Z stdout F " + string(make([]byte, 5000)) + "\n")
	if got := lastLogLines("/x", func(string) ([]byte, error) { return big, nil }); len(got) != 2048 {
		t.Errorf("%d bytes, want 2048", len(got))
	}
	if got := lastLogLines("/x", func(string) ([]byte, error) { return nil, errors.New("boom") }); got != "Error on reading termination message from logs: boom" {
		t.Errorf("got %q", got)
	}
}

func itoa3(i int) string {
	return string([]byte{byte('0' + i/100), byte('0' + i/10%10), byte('0' + i%10)})
}

func splitLines(s string) []string {
	var lines []string
	start := 0
	for i := range len(s) {
		if s[i] == '\n' {
			lines = append(lines, s[start:i])
			start = i + 1
		}
	}
	return lines
}

// An ephemeral container with a target joins the process namespace of
// the target's running container (kubectl debug --target), unless the
// pod's containers share one anyway.
func TestEphemeralContainerProcessNamespace(t *testing.T) {
	shared := makePod("web").Containers("app").Ephemeral("debugger", "app").Obj()
	shared.Spec.ShareProcessNamespace = ptr.To(true)
	tests := []struct {
		name      string
		pod       *corev1.Pod
		runtime   func(pod *corev1.Pod) *RuntimePod
		container string
		wantPid   runtimeapi.NamespaceMode
		wantID    string
	}{{
		name:      "target running",
		pod:       makePod("web").Containers("app").Ephemeral("debugger", "app").Obj(),
		runtime:   func(pod *corev1.Pod) *RuntimePod { return runtimeFor(pod).Sandbox(0, true).Running("app", 2).Obj() },
		container: "debugger",
		wantPid:   runtimeapi.NamespaceMode_TARGET,
		wantID:    "app-2",
	}, {
		name:      "no target",
		pod:       makePod("web").Containers("app").Ephemeral("debugger", "").Obj(),
		runtime:   func(pod *corev1.Pod) *RuntimePod { return runtimeFor(pod).Sandbox(0, true).Running("app", 0).Obj() },
		container: "debugger",
		wantPid:   runtimeapi.NamespaceMode_CONTAINER,
	}, {
		name:      "target not running",
		pod:       makePod("web").Containers("app").Ephemeral("debugger", "app").Obj(),
		runtime:   func(pod *corev1.Pod) *RuntimePod { return runtimeFor(pod).Sandbox(0, true).Exited("app", 0, 1).Obj() },
		container: "debugger",
		wantPid:   runtimeapi.NamespaceMode_CONTAINER,
	}, {
		name:      "shared process namespace",
		pod:       shared,
		runtime:   func(pod *corev1.Pod) *RuntimePod { return runtimeFor(pod).Sandbox(0, true).Running("app", 0).Obj() },
		container: "debugger",
		wantPid:   runtimeapi.NamespaceMode_POD,
	}, {
		name:      "an app container",
		pod:       makePod("web").Containers("app", "other").Ephemeral("debugger", "app").Obj(),
		runtime:   func(pod *corev1.Pod) *RuntimePod { return runtimeFor(pod).Sandbox(0, true).Running("app", 0).Obj() },
		container: "other",
		wantPid:   runtimeapi.NamespaceMode_CONTAINER,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := findContainerSpec(tt.pod, tt.container)
			cfg := containerConfig(tt.pod, c, containerParams{pidTarget: pidTarget(tt.pod, c, tt.runtime(tt.pod))})
			ns := cfg.GetLinux().GetSecurityContext().GetNamespaceOptions()
			if ns.GetPid() != tt.wantPid || ns.GetTargetId() != tt.wantID {
				t.Errorf("pid namespace = %s %q, want %s %q", ns.GetPid(), ns.GetTargetId(), tt.wantPid, tt.wantID)
			}
			if got := cfg.GetAnnotations()["io.kubernetes.container.type"]; tt.container == "debugger" && got != "ephemeral" {
				t.Errorf("container type annotation = %q, want ephemeral", got)
			}
		})
	}
}
