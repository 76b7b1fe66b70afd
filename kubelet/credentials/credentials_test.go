package credentials

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func user(name string) DockerConfigEntry {
	return DockerConfigEntry{Username: name, Password: name + "-pw"}
}

func TestLookup(t *testing.T) {
	tests := []struct {
		name    string
		configs []DockerConfig
		image   string
		want    []string // usernames
	}{
		{name: "host", configs: []DockerConfig{{"registry.example.com": user("a")}}, image: "registry.example.com/team/app:1.0", want: []string{"a"}},
		{name: "other host", configs: []DockerConfig{{"registry.example.com": user("a")}}, image: "quay.io/team/app"},
		{name: "scheme and /v2/ dropped", configs: []DockerConfig{{"https://registry.example.com/v2/": user("a")}}, image: "registry.example.com/app", want: []string{"a"}},
		{name: "port must match", configs: []DockerConfig{{"registry.example.com:5000": user("a")}}, image: "registry.example.com/app"},
		{name: "with port", configs: []DockerConfig{{"registry.example.com:5000": user("a")}}, image: "registry.example.com:5000/app@sha256:" + fmt.Sprintf("%064d", 0), want: []string{"a"}},
		{name: "localhost with port", configs: []DockerConfig{{"localhost:5000": user("a")}}, image: "localhost:5000/busybox", want: []string{"a"}},
		{
			name:    "path prefixes, most specific first",
			configs: []DockerConfig{{"quay.io": user("host"), "quay.io/team": user("team"), "quay.io/team/app": user("app"), "quay.io/other": user("other")}},
			image:   "quay.io/team/app:v1",
			want:    []string{"app", "team", "host"},
		},
		{name: "path is a prefix, not a component", configs: []DockerConfig{{"quay.io/te": user("a")}}, image: "quay.io/team/app", want: []string{"a"}},
		{name: "wildcard label", configs: []DockerConfig{{"*.example.com": user("a")}}, image: "registry.example.com/app", want: []string{"a"}},
		{name: "wildcard needs as many labels", configs: []DockerConfig{{"*.example.com": user("a")}}, image: "a.registry.example.com/app"},
		{name: "wildcard inside a label", configs: []DockerConfig{{"registry-*.example.com": user("a")}}, image: "registry-eu.example.com/app", want: []string{"a"}},
		{name: "Docker Hub by index.docker.io", configs: []DockerConfig{{"https://index.docker.io/v1/": user("hub")}}, image: "busybox", want: []string{"hub"}},
		{name: "Docker Hub user image by index.docker.io", configs: []DockerConfig{{"index.docker.io": user("hub")}}, image: "someone/app:1", want: []string{"hub"}},
		{name: "Docker Hub by docker.io", configs: []DockerConfig{{"docker.io": user("hub")}}, image: "docker.io/library/busybox:latest", want: []string{"hub"}},
		{name: "index.docker.io is not for other registries", configs: []DockerConfig{{"index.docker.io": user("hub")}}, image: "ghcr.io/someone/app"},
		{
			name:    "several secrets for one registry, in order",
			configs: []DockerConfig{{"ghcr.io": user("first")}, {"ghcr.io": user("second")}},
			image:   "ghcr.io/someone/app",
			want:    []string{"first", "second"},
		},
		{name: "no configs", image: "busybox"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries, err := Lookup(tt.image, tt.configs...)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range entries {
				got = append(got, e.Username)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Lookup(%s) (-want +got):\n%s", tt.image, diff)
			}
		})
	}
	if _, err := Lookup("busybox//bad"); err == nil {
		t.Error("no error for an invalid image name")
	}
}

func TestDockerConfigEntry(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString
	tests := []struct {
		name    string
		json    string
		want    DockerConfigEntry
		wantErr bool
	}{
		{name: "username and password", json: `{"username":"u","password":"p","email":"u@example.com"}`, want: DockerConfigEntry{Username: "u", Password: "p", Email: "u@example.com"}},
		{name: "auth wins", json: `{"username":"x","password":"y","auth":"` + b64([]byte("u:p:with:colons")) + `"}`, want: DockerConfigEntry{Username: "u", Password: "p:with:colons"}},
		{name: "unpadded auth", json: `{"auth":"dTpwYQ"}`, want: DockerConfigEntry{Username: "u", Password: "pa"}},
		{name: "identity token", json: `{"identitytoken":"tok"}`, want: DockerConfigEntry{IdentityToken: "tok"}},
		{name: "auth without colon", json: `{"auth":"` + b64([]byte("nocolon")) + `"}`, wantErr: true},
		{name: "auth not base64", json: `{"auth":"!!"}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got DockerConfigEntry
			err := got.UnmarshalJSON([]byte(tt.json))
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("entry (-want +got):\n%s", diff)
			}
		})
	}
}

// objects is an ObjectGetter over a map of Secrets by name.
type objects map[string]*corev1.Secret

func (o objects) GetConfigMap(context.Context, string, string) (*corev1.ConfigMap, error) {
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "configmaps"}, "")
}

func (o objects) GetSecret(_ context.Context, namespace, name string) (*corev1.Secret, error) {
	if s, ok := o[name]; ok && s.Namespace == namespace {
		return s, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, name)
}

type recorder struct{ events []string }

func (r *recorder) Eventf(_, _ runtime.Object, eventtype, reason, _, note string, args ...any) {
	r.events = append(r.events, eventtype+" "+reason+" "+fmt.Sprintf(note, args...))
}

func TestKeyring(t *testing.T) {
	secret := func(name string, typ corev1.SecretType, key, data string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name}, Type: typ, Data: map[string][]byte{key: []byte(data)}}
	}
	auth := base64.StdEncoding.EncodeToString([]byte("bob:hunter2"))
	objs := objects{
		"json":   secret("json", corev1.SecretTypeDockerConfigJson, corev1.DockerConfigJsonKey, `{"auths":{"registry.example.com":{"auth":"`+auth+`"},"https://index.docker.io/v1/":{"username":"hub","password":"hubpw"}}}`),
		"cfg":    secret("cfg", corev1.SecretTypeDockercfg, corev1.DockerConfigKey, `{"registry.example.com":{"username":"alice","password":"pw"},"ghcr.io":{"identitytoken":"tok"}}`),
		"opaque": secret("opaque", corev1.SecretTypeOpaque, corev1.DockerConfigJsonKey, `{"auths":{"registry.example.com":{"username":"nope"}}}`),
		"broken": secret("broken", corev1.SecretTypeDockerConfigJson, corev1.DockerConfigJsonKey, `{`),
	}
	pod := func(secrets ...string) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"}}
		for _, s := range secrets {
			p.Spec.ImagePullSecrets = append(p.Spec.ImagePullSecrets, corev1.LocalObjectReference{Name: s})
		}
		return p
	}
	tests := []struct {
		name       string
		pod        *corev1.Pod
		image      string
		node       DockerConfig
		want       []*runtimeapi.AuthConfig
		wantEvents []string
		wantErr    bool
	}{
		{name: "no pull secrets", pod: pod(), image: "busybox", want: []*runtimeapi.AuthConfig{}},
		{
			name: "both secret types, in order", pod: pod("json", "cfg", "opaque", ""), image: "registry.example.com/app:1",
			want: []*runtimeapi.AuthConfig{{Username: "bob", Password: "hunter2"}, {Username: "alice", Password: "pw"}},
		},
		{name: "Docker Hub", pod: pod("json", "cfg"), image: "busybox:latest", want: []*runtimeapi.AuthConfig{{Username: "hub", Password: "hubpw"}}},
		{name: "identity token", pod: pod("cfg"), image: "ghcr.io/someone/app", want: []*runtimeapi.AuthConfig{{IdentityToken: "tok"}}},
		{
			name: "missing secrets are skipped with an event", pod: pod("absent", "cfg", "gone"), image: "ghcr.io/someone/app",
			want:       []*runtimeapi.AuthConfig{{IdentityToken: "tok"}},
			wantEvents: []string{"Warning FailedToRetrieveImagePullSecret Unable to retrieve some image pull secrets (absent, gone); attempting to pull the image may not succeed."},
		},
		{
			name: "node credentials after the pod's", pod: pod("cfg"), image: "registry.example.com/app",
			node: DockerConfig{"registry.example.com": {Username: "node", Password: "npw"}, "other.example.com": {Username: "x"}},
			want: []*runtimeapi.AuthConfig{{Username: "alice", Password: "pw"}, {Username: "node", Password: "npw"}},
		},
		{name: "a broken secret fails", pod: pod("broken"), image: "busybox", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			k := New(objs)
			k.Node, k.Recorder = tt.node, rec
			got, err := k.PullCredentials(context.Background(), tt.pod, tt.image)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreUnexported(runtimeapi.AuthConfig{})); diff != "" {
				t.Errorf("credentials (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantEvents, rec.events); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadDockerConfigFile(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"config.json": `{"auths":{"registry.example.com":{"username":"u","password":"p"}},"credsStore":"desktop"}`,
		".dockercfg":  `{"registry.example.com":{"username":"u","password":"p"}}`,
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := ReadDockerConfigFile(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if diff := cmp.Diff(DockerConfig{"registry.example.com": {Username: "u", Password: "p"}}, cfg); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
}
