package pod

import (
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func podWith(init []string, containers []string, ephemeral []string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"}}
	for _, n := range init {
		p.Spec.InitContainers = append(p.Spec.InitContainers, corev1.Container{Name: n})
	}
	for _, n := range containers {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: n})
	}
	for _, n := range ephemeral {
		p.Spec.EphemeralContainers = append(p.Spec.EphemeralContainers, corev1.EphemeralContainer{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: n}})
	}
	return p
}

func TestContainerFor(t *testing.T) {
	tests := []struct {
		name      string
		pod       *corev1.Pod
		container string
		want      string
		wantErr   string
	}{
		{name: "only container is the default", pod: podWith([]string{"init"}, []string{"app"}, nil), want: "app"},
		{name: "named container", pod: podWith(nil, []string{"app", "sidecar"}, nil), container: "sidecar", want: "sidecar"},
		{name: "named init container", pod: podWith([]string{"init"}, []string{"app", "sidecar"}, nil), container: "init", want: "init"},
		{name: "named ephemeral container", pod: podWith(nil, []string{"app"}, []string{"debug"}), container: "debug", want: "debug"},
		{name: "several containers", pod: podWith([]string{"init"}, []string{"app", "sidecar"}, []string{"debug"}),
			wantErr: "a container name must be specified for pod web, choose one of: [init app sidecar debug]"},
		{name: "no containers", pod: podWith(nil, nil, nil), wantErr: "a container name must be specified for pod web"},
		{name: "unknown container", pod: podWith(nil, []string{"app"}, nil), container: "db", wantErr: "container db is not valid for pod web"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := containerFor(tt.pod, tt.container)
			if tt.wantErr != "" {
				if !apierrors.IsBadRequest(err) || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want BadRequest %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("containerFor = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestKubeletQueries(t *testing.T) {
	since := metav1.NewTime(time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC))
	tests := []struct {
		name string
		got  url.Values
		want string
	}{
		{name: "empty log options", got: logQuery(&corev1.PodLogOptions{}), want: ""},
		{name: "log options", got: logQuery(&corev1.PodLogOptions{
			Container: "ignored", Follow: true, Previous: true, Timestamps: true, SinceTime: &since,
			TailLines: ptr.To[int64](5), LimitBytes: ptr.To[int64](10), InsecureSkipTLSVerifyBackend: true,
		}), want: "follow=true&limitBytes=10&previous=true&sinceTime=2026-05-06T07%3A08%3A09Z&tailLines=5&timestamps=true"},
		{name: "since seconds and stream", got: logQuery(&corev1.PodLogOptions{SinceSeconds: ptr.To[int64](60), Stream: ptr.To("Stderr")}),
			want: "sinceSeconds=60&stream=Stderr"},
		{name: "exec", got: streamQuery(true, true, false, true, []string{"sh", "-c", "echo hi"}),
			want: "command=sh&command=-c&command=echo+hi&input=1&output=1&tty=1"},
		{name: "attach", got: streamQuery(false, true, true, false, nil), want: "error=1&output=1"},
		{name: "port forward", got: portForwardQuery(&corev1.PodPortForwardOptions{Ports: []int32{80, 8080}}), want: "port=80%2C8080"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.got.Encode()); diff != "" {
				t.Errorf("query (-want +got):\n%s", diff)
			}
		})
	}
}
