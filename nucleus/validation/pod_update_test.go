package validation

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

func TestValidatePodUpdate(t *testing.T) {
	const forbidden = "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n"
	tests := []struct {
		name   string
		old    func(*corev1.PodSpec)
		modify func(*corev1.PodSpec)
		want   []string
	}{
		{name: "no change", modify: func(*corev1.PodSpec) {}},
		{name: "image", modify: func(s *corev1.PodSpec) { s.Containers[0].Image = "nginx:1.28" }},
		{name: "init container image", old: func(s *corev1.PodSpec) { s.InitContainers = []corev1.Container{validContainer("init")} },
			modify: func(s *corev1.PodSpec) { s.InitContainers[0].Image = "busybox:1.37" }},
		{
			name:   "removed init container",
			old:    func(s *corev1.PodSpec) { s.InitContainers = []corev1.Container{validContainer("init")} },
			modify: func(s *corev1.PodSpec) { s.InitContainers = nil },
			want:   []string{"spec.initContainers: Forbidden: pod updates may not add or remove containers"},
		},
		{
			name:   "added container",
			modify: func(s *corev1.PodSpec) { s.Containers = append(s.Containers, validContainer("two")) },
			want:   []string{"spec.containers: Forbidden: pod updates may not add or remove containers"},
		},
		{
			name:   "changed restart policy",
			modify: func(s *corev1.PodSpec) { s.RestartPolicy = corev1.RestartPolicyNever },
			want:   []string{forbidden},
		},
		{
			name:   "node name",
			modify: func(s *corev1.PodSpec) { s.NodeName = "node-1" },
			want:   []string{forbidden},
		},
		{name: "set deadline", modify: func(s *corev1.PodSpec) { s.ActiveDeadlineSeconds = ptr.To[int64](30) }},
		{
			name:   "shortened deadline",
			old:    func(s *corev1.PodSpec) { s.ActiveDeadlineSeconds = ptr.To[int64](30) },
			modify: func(s *corev1.PodSpec) { s.ActiveDeadlineSeconds = ptr.To[int64](10) },
		},
		{
			name:   "extended deadline",
			old:    func(s *corev1.PodSpec) { s.ActiveDeadlineSeconds = ptr.To[int64](30) },
			modify: func(s *corev1.PodSpec) { s.ActiveDeadlineSeconds = ptr.To[int64](60) },
			want:   []string{"spec.activeDeadlineSeconds: Invalid value: 60: must be less than or equal to previous value"},
		},
		{
			name:   "removed deadline",
			old:    func(s *corev1.PodSpec) { s.ActiveDeadlineSeconds = ptr.To[int64](30) },
			modify: func(s *corev1.PodSpec) { s.ActiveDeadlineSeconds = nil },
			want:   []string{"spec.activeDeadlineSeconds: Invalid value: null: must not update from a positive integer to nil value"},
		},
		{
			name: "added toleration",
			old: func(s *corev1.PodSpec) {
				s.Tolerations = []corev1.Toleration{{Key: "a", Operator: corev1.TolerationOpExists}}
			},
			modify: func(s *corev1.PodSpec) {
				s.Tolerations = append(s.Tolerations, corev1.Toleration{Key: "b", Operator: corev1.TolerationOpExists})
			},
		},
		{
			name: "removed toleration",
			old: func(s *corev1.PodSpec) {
				s.Tolerations = []corev1.Toleration{{Key: "a", Operator: corev1.TolerationOpExists}}
			},
			modify: func(s *corev1.PodSpec) { s.Tolerations = nil },
			want:   []string{"spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds"},
		},
		{
			name: "changed toleration seconds",
			old: func(s *corev1.PodSpec) {
				s.Tolerations = []corev1.Toleration{{Key: "a", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](300)}}
			},
			modify: func(s *corev1.PodSpec) { s.Tolerations[0].TolerationSeconds = ptr.To[int64](10) },
		},
		{
			name:   "negative grace period raised to 1",
			old:    func(s *corev1.PodSpec) { s.TerminationGracePeriodSeconds = ptr.To[int64](-1) },
			modify: func(s *corev1.PodSpec) { s.TerminationGracePeriodSeconds = ptr.To[int64](1) },
		},
		{
			name:   "grace period changed",
			old:    func(s *corev1.PodSpec) { s.TerminationGracePeriodSeconds = ptr.To[int64](30) },
			modify: func(s *corev1.PodSpec) { s.TerminationGracePeriodSeconds = ptr.To[int64](1) },
			want:   []string{forbidden},
		},
		{
			name:   "removed scheduling gate, added node selector while gated",
			old:    func(s *corev1.PodSpec) { s.SchedulingGates = []corev1.PodSchedulingGate{{Name: "example.com/wait"}} },
			modify: func(s *corev1.PodSpec) { s.SchedulingGates = nil; s.NodeSelector = map[string]string{"zone": "a"} },
		},
		{
			name:   "added scheduling gate",
			modify: func(s *corev1.PodSpec) { s.SchedulingGates = []corev1.PodSchedulingGate{{Name: "example.com/wait"}} },
			want:   []string{"spec.schedulingGates[0].name: Forbidden: only deletion is allowed, but found new scheduling gate 'example.com/wait'"},
		},
		{
			name:   "node selector of an ungated pod",
			modify: func(s *corev1.PodSpec) { s.NodeSelector = map[string]string{"zone": "a"} },
			want:   []string{forbidden},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := &corev1.Pod{Spec: *validSpec()}
			if tt.old != nil {
				tt.old(&old.Spec)
			}
			pod := old.DeepCopy()
			tt.modify(&pod.Spec)
			var got []string
			for _, e := range ValidatePodUpdate(pod, old) {
				msg := e.Error()
				// Keep the fixed part of the message, not the diff.
				if i := strings.Index(msg, "\n"); i >= 0 {
					msg = msg[:i+1]
				}
				got = append(got, msg)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidatePodStatusUpdate(t *testing.T) {
	tests := []struct {
		name   string
		status corev1.PodStatus
		want   []string
	}{
		{name: "dual stack", status: corev1.PodStatus{PodIPs: []corev1.PodIP{{IP: "10.0.0.1"}, {IP: "fd00::1"}}}},
		{
			name:   "bad IP",
			status: corev1.PodStatus{PodIPs: []corev1.PodIP{{IP: "10.0.0.256"}}},
			want:   []string{`status.podIPs[0].ip: Invalid value: "10.0.0.256": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)`},
		},
		{
			name:   "two IPv4",
			status: corev1.PodStatus{HostIPs: []corev1.HostIP{{IP: "10.0.0.1"}, {IP: "10.0.0.2"}}},
			want:   []string{`status.hostIPs: Invalid value: ["10.0.0.1","10.0.0.2"]: may specify no more than one IP for each IP family`},
		},
		{
			name:   "nominated node",
			status: corev1.PodStatus{NominatedNodeName: "Node_1"},
			want:   []string{`status.nominatedNodeName: Invalid value: "Node_1": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := errorStrings(ValidatePodStatusUpdate(&corev1.Pod{Status: tt.status}))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}
