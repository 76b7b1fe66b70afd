package scheme

import (
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
)

func TestQueryParameterDecoding(t *testing.T) {
	since := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	tests := []struct {
		name  string
		query string
		into  runtime.Object
		want  runtime.Object
	}{{
		name:  "log options",
		query: "container=app&follow=true&previous=1&sinceTime=2026-01-02T03:04:05Z&timestamps=true&tailLines=10&limitBytes=100&insecureSkipTLSVerifyBackend=true&stream=Stdout",
		into:  &corev1.PodLogOptions{},
		want: &corev1.PodLogOptions{Container: "app", Follow: true, Previous: true, SinceTime: &since, Timestamps: true,
			TailLines: ptr.To[int64](10), LimitBytes: ptr.To[int64](100), InsecureSkipTLSVerifyBackend: true, Stream: ptr.To("Stdout")},
	}, {
		name:  "log options false values",
		query: "follow=false&previous=0&sinceSeconds=5",
		into:  &corev1.PodLogOptions{},
		want:  &corev1.PodLogOptions{SinceSeconds: ptr.To[int64](5)},
	}, {
		name:  "exec options",
		query: "command=sh&command=-c&command=echo+hi&stdin=true&stdout=true&stderr=false&tty=true&container=app",
		into:  &corev1.PodExecOptions{},
		want:  &corev1.PodExecOptions{Command: []string{"sh", "-c", "echo hi"}, Stdin: true, Stdout: true, TTY: true, Container: "app"},
	}, {
		name:  "attach options",
		query: "stdout=1&stderr=1&container=app",
		into:  &corev1.PodAttachOptions{},
		want:  &corev1.PodAttachOptions{Stdout: true, Stderr: true, Container: "app"},
	}, {
		name:  "port forward options",
		query: "ports=80,443&ports=8080",
		into:  &corev1.PodPortForwardOptions{},
		want:  &corev1.PodPortForwardOptions{Ports: []int32{80, 443, 8080}},
	}, {
		name:  "node proxy options",
		query: "path=/healthz",
		into:  &corev1.NodeProxyOptions{},
		want:  &corev1.NodeProxyOptions{Path: "/healthz"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			if err := ParameterCodec.DecodeParameters(q, corev1.SchemeGroupVersion, tt.into); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, tt.into); diff != "" {
				t.Errorf("decoded options (-want +got):\n%s", diff)
			}
		})
	}
}

func TestQueryParameterDecodingErrors(t *testing.T) {
	for _, query := range []string{"tailLines=ten", "sinceTime=yesterday", "ports=http"} {
		q, _ := url.ParseQuery(query)
		var into runtime.Object = &corev1.PodLogOptions{}
		if query == "ports=http" {
			into = &corev1.PodPortForwardOptions{}
		}
		if err := ParameterCodec.DecodeParameters(q, corev1.SchemeGroupVersion, into); err == nil {
			t.Errorf("%s: decoded without error", query)
		}
	}
}
