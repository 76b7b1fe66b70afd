package probes

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/strata-dev/strata/kubelet/pods"
	"github.com/strata-dev/strata/nucleus/version"
)

func diff(t *testing.T, what string, want, got any, opts ...cmp.Option) {
	t.Helper()
	if d := cmp.Diff(want, got, opts...); d != "" {
		t.Errorf("%s (-want +got):\n%s", what, d)
	}
}

func TestResultRunThresholds(t *testing.T) {
	const (
		S = pods.ProbeSuccess
		F = pods.ProbeFailure
	)
	tests := []struct {
		name             string
		success, failure int32
		results          []pods.ProbeResult
		want             []bool
	}{
		{"defaults: one success", 1, 3, []pods.ProbeResult{S, S}, []bool{true, true}},
		{"defaults: three failures", 1, 3, []pods.ProbeResult{F, F, F, F}, []bool{false, false, true, true}},
		{"a success breaks a failure run", 1, 3, []pods.ProbeResult{F, F, S, F, F, F}, []bool{false, false, true, false, false, true}},
		{"successThreshold 2", 2, 1, []pods.ProbeResult{S, S, S, F, S, S}, []bool{false, true, true, true, false, true}},
		{"failureThreshold 1", 1, 1, []pods.ProbeResult{F, S, F}, []bool{true, true, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := &corev1.Probe{SuccessThreshold: tt.success, FailureThreshold: tt.failure}
			var r resultRun
			var got []bool
			for _, res := range tt.results {
				got = append(got, r.observe(res, spec))
			}
			diff(t, "recorded", tt.want, got)
		})
	}
}

func TestClassifyHTTP(t *testing.T) {
	tests := []struct {
		code        int
		body        string
		wantOutcome outcome
		wantOutput  string
	}{
		{200, "ok", outcomeSuccess, "ok"},
		{204, "", outcomeSuccess, ""},
		{299, "fine", outcomeSuccess, "fine"},
		{301, "moved", outcomeWarning, "Probe terminated redirects, Response body: moved"},
		{399, "", outcomeWarning, "Probe terminated redirects, Response body: "},
		{400, "bad", outcomeFailure, "HTTP probe failed with statuscode: 400"},
		{500, "secret body", outcomeFailure, "HTTP probe failed with statuscode: 500"},
		{199, "", outcomeFailure, "HTTP probe failed with statuscode: 199"},
	}
	for _, tt := range tests {
		o, out := classifyHTTP(tt.code, tt.body)
		if o != tt.wantOutcome || out != tt.wantOutput {
			t.Errorf("classifyHTTP(%d, %q) = %s, %q; want %s, %q", tt.code, tt.body, o, out, tt.wantOutcome, tt.wantOutput)
		}
	}
}

func TestResolvePort(t *testing.T) {
	c := &corev1.Container{Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}, {Name: "zero"}}}
	tests := []struct {
		port    intstr.IntOrString
		want    int
		wantErr string
	}{
		{intstr.FromInt32(80), 80, ""},
		{intstr.FromInt32(65535), 65535, ""},
		{intstr.FromString("http"), 8080, ""},
		{intstr.FromString("8080"), 0, `port "8080" not found`},
		{intstr.FromString("grpc"), 0, `port "grpc" not found`},
		{intstr.FromString("zero"), 0, "invalid port number: 0"},
		{intstr.FromInt32(0), 0, "invalid port number: 0"},
		{intstr.FromInt32(65536), 0, "invalid port number: 65536"},
		{intstr.IntOrString{Type: 7}, 0, "intOrString had no kind: {Type:7 IntVal:0 StrVal:}"},
	}
	for _, tt := range tests {
		got, err := resolvePort(tt.port, c)
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
		}
		if gotErr != tt.wantErr || (err == nil && got != tt.want) {
			t.Errorf("resolvePort(%v) = %d, %q; want %d, %q", tt.port, got, gotErr, tt.want, tt.wantErr)
		}
	}
}

func TestNewHTTPRequest(t *testing.T) {
	c := &corev1.Container{Ports: []corev1.ContainerPort{{Name: "web", ContainerPort: 8080}}}
	tests := []struct {
		name       string
		action     corev1.HTTPGetAction
		wantURL    string
		wantHost   string
		wantHeader http.Header
	}{{
		name:       "defaults",
		action:     corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(80)},
		wantURL:    "http://10.88.0.2:80/healthz",
		wantHeader: http.Header{"User-Agent": {"kube-probe/1.37"}, "Accept": {"*/*"}},
	}, {
		name:       "named port, https, host, query",
		action:     corev1.HTTPGetAction{Path: "/ready?full=1", Port: intstr.FromString("web"), Host: "example.test", Scheme: corev1.URISchemeHTTPS},
		wantURL:    "https://example.test:8080/ready?full=1",
		wantHeader: http.Header{"User-Agent": {"kube-probe/1.37"}, "Accept": {"*/*"}},
	}, {
		name: "headers",
		action: corev1.HTTPGetAction{Port: intstr.FromInt32(80), HTTPHeaders: []corev1.HTTPHeader{
			{Name: "X-Custom", Value: "a"}, {Name: "x-custom", Value: "b"},
			{Name: "User-Agent", Value: "mine"}, {Name: "Accept", Value: "application/json"},
			{Name: "Host", Value: "virtual.test"},
		}},
		wantURL:  "http://10.88.0.2:80",
		wantHost: "virtual.test",
		wantHeader: http.Header{
			"X-Custom": {"a", "b"}, "User-Agent": {"mine"}, "Accept": {"application/json"}, "Host": {"virtual.test"},
		},
	}, {
		name:       "an empty Accept removes it",
		action:     corev1.HTTPGetAction{Path: "/", Port: intstr.FromInt32(80), HTTPHeaders: []corev1.HTTPHeader{{Name: "Accept", Value: ""}}},
		wantURL:    "http://10.88.0.2:80/",
		wantHeader: http.Header{"User-Agent": {"kube-probe/1.37"}},
	}, {
		name:       "IPv6 pod IP",
		action:     corev1.HTTPGetAction{Path: "/", Port: intstr.FromInt32(80)},
		wantURL:    "http://[fd00::2]:80/",
		wantHeader: http.Header{"User-Agent": {"kube-probe/1.37"}, "Accept": {"*/*"}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			podIP := "10.88.0.2"
			if tt.name == "IPv6 pod IP" {
				podIP = "fd00::2"
			}
			req, err := newHTTPRequest(&tt.action, c, podIP)
			if err != nil {
				t.Fatal(err)
			}
			diff(t, "url", tt.wantURL, req.URL.String())
			diff(t, "host", tt.wantHost, req.Host)
			diff(t, "headers", tt.wantHeader, req.Header)
		})
	}
	if _, err := newHTTPRequest(&corev1.HTTPGetAction{Port: intstr.FromString("nope")}, c, "10.88.0.2"); err == nil {
		t.Error("unknown port name: no error")
	}
}

func TestUserAgentIsTheImplementedRelease(t *testing.T) {
	info := version.Info()
	diff(t, "user agent", "kube-probe/"+info.Major+"."+info.Minor, userAgent)
}

func TestExpandStatic(t *testing.T) {
	env := []corev1.EnvVar{{Name: "PORT", Value: "8080"}, {Name: "FROM", ValueFrom: &corev1.EnvVarSource{}}}
	got := expandStatic([]string{"check", "--port=$(PORT)", "$(FROM)", "$(MISSING)", "$$(PORT)"}, env)
	diff(t, "command", []string{"check", "--port=8080", "", "$(MISSING)", "$(PORT)"}, got)
}

func TestRuntimeID(t *testing.T) {
	for in, want := range map[string]string{
		"containerd://abc":   "abc",
		"fake://container-1": "container-1",
		"abc":                "abc",
		"":                   "",
	} {
		if got := runtimeID(in); got != want {
			t.Errorf("runtimeID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestProbedContainers(t *testing.T) {
	probe := &corev1.Probe{}
	always := corev1.ContainerRestartPolicyAlways
	pod := &corev1.Pod{Spec: corev1.PodSpec{
		InitContainers: []corev1.Container{
			{Name: "init", ReadinessProbe: probe},
			{Name: "sidecar", RestartPolicy: &always, LivenessProbe: probe},
			{Name: "plain-sidecar", RestartPolicy: &always},
		},
		Containers: []corev1.Container{
			{Name: "app", StartupProbe: probe},
			{Name: "plain"},
		},
	}}
	var names []string
	for _, c := range probedContainers(pod) {
		names = append(names, c.Name)
	}
	diff(t, "probed containers", []string{"sidecar", "app"}, names)
}
