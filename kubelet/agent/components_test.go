package agent

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/strata-dev/strata/kubelet/podenv"
)

func TestNewKeyringReadsTheNodesConfig(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "p"}}
	tests := []struct {
		name    string
		config  string // <root-dir>/config.json; none when empty
		want    []*runtimeapi.AuthConfig
		wantErr string
	}{
		{name: "no config.json"},
		{
			name:   "config.json with auths",
			config: `{"auths":{"registry.example.com":{"username":"node","password":"secret"}}}`,
			want:   []*runtimeapi.AuthConfig{{Username: "node", Password: "secret"}},
		},
		{name: "broken config.json", config: `{"auths":`, wantErr: "fix or remove"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			if tt.config != "" {
				if err := os.WriteFile(filepath.Join(root, "config.json"), []byte(tt.config), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			keyring, err := newKeyring(root, podenv.NewObjectGetter(fake.NewClientset()), nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := keyring.PullCredentials(context.Background(), pod, "registry.example.com/app:1")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty(), cmp.Comparer(func(a, b *runtimeapi.AuthConfig) bool { return a.String() == b.String() })); diff != "" {
				t.Errorf("credentials (-want +got):\n%s", diff)
			}
		})
	}
}
