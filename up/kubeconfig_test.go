package up

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// kubeconfig builds a clientcmdapi.Config: one cluster, user and context
// per name, each pointing at the server https://<name>:6443.
type kubeconfig struct{ c *clientcmdapi.Config }

func newKubeconfig() kubeconfig { return kubeconfig{clientcmdapi.NewConfig()} }

func (k kubeconfig) With(name, server string) kubeconfig {
	k.c.Clusters[name] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: []byte("ca of " + name)}
	k.c.AuthInfos[name] = &clientcmdapi.AuthInfo{ClientCertificateData: []byte("cert of " + name), ClientKeyData: []byte("key of " + name)}
	k.c.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
	return k
}

func (k kubeconfig) Current(name string) kubeconfig {
	k.c.CurrentContext = name
	return k
}

func (k kubeconfig) Obj() *clientcmdapi.Config { return k.c }

// admin is what the nucleus writes: its own names for cluster, user and
// context.
func admin() *clientcmdapi.Config {
	c := clientcmdapi.NewConfig()
	c.Clusters["nucleus"] = &clientcmdapi.Cluster{Server: "https://10.0.0.5:6443", CertificateAuthorityData: []byte("strata ca")}
	c.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: []byte("admin cert"), ClientKeyData: []byte("admin key")}
	c.Contexts["admin@nucleus"] = &clientcmdapi.Context{Cluster: "nucleus", AuthInfo: "admin", Namespace: "default"}
	c.CurrentContext = "admin@nucleus"
	return c
}

// strataEntries adds what merging admin() under "strata" adds.
func (k kubeconfig) Strata() kubeconfig {
	k.c.Clusters["strata"] = &clientcmdapi.Cluster{Server: "https://10.0.0.5:6443", CertificateAuthorityData: []byte("strata ca")}
	k.c.AuthInfos["strata"] = &clientcmdapi.AuthInfo{ClientCertificateData: []byte("admin cert"), ClientKeyData: []byte("admin key")}
	k.c.Contexts["strata"] = &clientcmdapi.Context{Cluster: "strata", AuthInfo: "strata", Namespace: "default"}
	return k
}

func TestMergeKubeconfig(t *testing.T) {
	withPrefs := newKubeconfig().With("prod", "https://prod:6443").Current("prod").Obj()
	withPrefs.Preferences.Colors = true
	withPrefs.Extensions["x"] = nil
	wantPrefs := newKubeconfig().With("prod", "https://prod:6443").Strata().Current("prod").Obj()
	wantPrefs.Preferences.Colors = true
	wantPrefs.Extensions["x"] = nil

	tests := []struct {
		name          string
		dst           *clientcmdapi.Config
		switchContext bool
		want          *clientcmdapi.Config
	}{{
		name: "empty file: strata becomes the current context",
		dst:  newKubeconfig().Obj(),
		want: newKubeconfig().Strata().Current("strata").Obj(),
	}, {
		name: "other clusters stay, and so does the current context",
		dst:  newKubeconfig().With("prod", "https://prod:6443").With("kind-kind", "https://127.0.0.1:40000").Current("prod").Obj(),
		want: newKubeconfig().With("prod", "https://prod:6443").With("kind-kind", "https://127.0.0.1:40000").Strata().Current("prod").Obj(),
	}, {
		name:          "--switch-context makes strata current",
		dst:           newKubeconfig().With("prod", "https://prod:6443").Current("prod").Obj(),
		switchContext: true,
		want:          newKubeconfig().With("prod", "https://prod:6443").Strata().Current("strata").Obj(),
	}, {
		name: "entries without a current context: strata becomes current",
		dst:  newKubeconfig().With("prod", "https://prod:6443").Obj(),
		want: newKubeconfig().With("prod", "https://prod:6443").Strata().Current("strata").Obj(),
	}, {
		name: "an earlier strata (another data dir, reset since) is replaced",
		dst:  newKubeconfig().With("strata", "https://192.168.1.9:7443").With("prod", "https://prod:6443").Current("strata").Obj(),
		want: newKubeconfig().With("prod", "https://prod:6443").Strata().Current("strata").Obj(),
	}, {
		name: "preferences and extensions stay",
		dst:  withPrefs,
		want: wantPrefs,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.dst.DeepCopy()
			got, err := mergeKubeconfig(tc.dst, admin(), "strata", tc.switchContext)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("merged kubeconfig (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, tc.dst); diff != "" {
				t.Errorf("mergeKubeconfig changed its dst argument (-before +after):\n%s", diff)
			}
		})
	}
}

func TestMergeKubeconfigRefusesIncompleteSource(t *testing.T) {
	tests := []struct {
		name    string
		src     func(*clientcmdapi.Config)
		wantErr string
	}{
		{"no current context", func(c *clientcmdapi.Config) { c.CurrentContext = "" }, "no current context"},
		{"current context missing", func(c *clientcmdapi.Config) { c.CurrentContext = "gone" }, `no current context ("gone")`},
		{"cluster missing", func(c *clientcmdapi.Config) { delete(c.Clusters, "nucleus") }, `no cluster "nucleus"`},
		{"user missing", func(c *clientcmdapi.Config) { delete(c.AuthInfos, "admin") }, `no user "admin"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := admin()
			tc.src(src)
			_, err := mergeKubeconfig(newKubeconfig().Obj(), src, "strata", false)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestDefaultKubeconfigFile(t *testing.T) {
	sep := string(os.PathListSeparator)
	tests := []struct {
		name, env, want string
	}{
		{"no $KUBECONFIG", "", "/home/jane/.kube/config"},
		{"one file", "/tmp/a.yaml", "/tmp/a.yaml"},
		{"the first of a list", "/tmp/a.yaml" + sep + "/tmp/b.yaml", "/tmp/a.yaml"},
		{"empty elements are skipped", sep + "/tmp/b.yaml", "/tmp/b.yaml"},
		{"only separators", sep + sep, "/home/jane/.kube/config"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := DefaultKubeconfigFile(tc.env, "/home/jane"); got != tc.want {
				t.Errorf("DefaultKubeconfigFile(%q) = %q, want %q", tc.env, got, tc.want)
			}
		})
	}
}

// TestMergeKubeconfigFile merges a cluster whose kubeconfig points at
// certificate files into a kubeconfig file with another cluster: the file
// keeps it, gains the strata entries with the credentials inline, and
// kubectl's loader reads the result.
func TestMergeKubeconfigFile(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(filepath.Join(data, "pki"), 0o700); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{"ca.crt": "CA PEM", "admin.crt": "CERT PEM", "admin.key": "KEY PEM"} {
		if err := os.WriteFile(filepath.Join(data, "pki", name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	adminFile := filepath.Join(data, "admin.kubeconfig")
	src := clientcmdapi.NewConfig()
	src.Clusters["nucleus"] = &clientcmdapi.Cluster{Server: "https://10.0.0.5:6443", CertificateAuthority: "pki/ca.crt"}
	src.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificate: "pki/admin.crt", ClientKey: "pki/admin.key"}
	src.Contexts["admin"] = &clientcmdapi.Context{Cluster: "nucleus", AuthInfo: "admin"}
	src.CurrentContext = "admin"
	if err := clientcmd.WriteToFile(*src, adminFile); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "home", ".kube", "config")
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := clientcmd.WriteToFile(*newKubeconfig().With("prod", "https://prod:6443").Current("prod").Obj(), file); err != nil {
		t.Fatal(err)
	}

	current, err := MergeKubeconfigFile(file, adminFile, "strata", false)
	if err != nil {
		t.Fatal(err)
	}
	if current != "prod" {
		t.Errorf("current context = %q, want prod (kept)", current)
	}
	got, err := clientcmd.LoadFromFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if got.Clusters["prod"] == nil || got.Clusters["prod"].Server != "https://prod:6443" {
		t.Errorf("cluster prod = %+v, want it kept", got.Clusters["prod"])
	}
	cluster, user := got.Clusters["strata"], got.AuthInfos["strata"]
	if cluster == nil || user == nil || got.Contexts["strata"] == nil {
		t.Fatalf("no strata cluster, user or context in %+v", got)
	}
	if cluster.Server != "https://10.0.0.5:6443" || string(cluster.CertificateAuthorityData) != "CA PEM" || cluster.CertificateAuthority != "" {
		t.Errorf("cluster strata = %+v, want the server and the CA inline", cluster)
	}
	if string(user.ClientCertificateData) != "CERT PEM" || string(user.ClientKeyData) != "KEY PEM" || user.ClientCertificate != "" {
		t.Errorf("user strata = %+v, want the certificate and key inline", user)
	}
	rc, err := clientcmd.NewNonInteractiveClientConfig(*got, "strata", &clientcmd.ConfigOverrides{}, nil).ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	if rc.Host != "https://10.0.0.5:6443" {
		t.Errorf("context strata reaches %s", rc.Host)
	}
	if st, err := os.Stat(file); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("the kubeconfig's mode is %v (%v), want 0600", st.Mode(), err)
	}

	// A file that does not exist yet is created, strata current.
	fresh := filepath.Join(dir, "new", "config")
	if current, err := MergeKubeconfigFile(fresh, adminFile, "strata", false); err != nil || current != "strata" {
		t.Errorf("merging into a new file: current %q, %v; want strata", current, err)
	}
}
