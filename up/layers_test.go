package up

import (
	"archive/tar"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/strata-dev/strata/images"
)

func TestParseLayers(t *testing.T) {
	tests := []struct {
		name    string
		flag    []string
		want    []string
		wantErr string
	}{
		{name: "default: every layer, apps before dns", flag: nil, want: []string{"apps", "dns"}},
		{name: "none", flag: []string{"none"}, want: nil},
		{name: "install order, not flag order", flag: []string{"dns", "apps"}, want: []string{"apps", "dns"}},
		{name: "one layer", flag: []string{"dns"}, want: []string{"dns"}},
		{name: "repeated", flag: []string{"apps", "apps"}, want: []string{"apps"}},
		{name: "spaces around names", flag: []string{" apps", "dns "}, want: []string{"apps", "dns"}},
		{name: "unknown", flag: []string{"apps", "rbac"}, wantErr: `unknown layer "rbac": the layers are apps, dns, or none for no layer`},
		{name: "none with others", flag: []string{"none", "dns"}, wantErr: "--layers=none cannot be combined with other layers (none,dns)"},
		{name: "empty name", flag: []string{"apps", ""}, wantErr: "empty layer name"},
		{name: "empty flag", flag: []string{}, want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			layers, err := ParseLayers(tc.flag)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, l := range layers {
				got = append(got, l.Name)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("layers (-want +got):\n%s", diff)
			}
		})
	}
}

// The repositories up passes to the charts are those `make images` builds.
func TestLayerRepositoriesAreThoseOfMakeImages(t *testing.T) {
	want := map[string]string{"apps": images.StrataRepo, "dns": images.CoreDNSRepo}
	for _, l := range Layers {
		if l.Repository != want[l.Name] {
			t.Errorf("layer %s runs %s, but make images builds %s", l.Name, l.Repository, want[l.Name])
		}
	}
}

func TestImageTag(t *testing.T) {
	tests := []struct {
		name   string
		refs   []string
		repo   string
		want   string
		wantOK bool
	}{
		{"strata image", []string{"docker.io/library/strata:0.1.0-dev", "strata.local/strata:0.1.0-dev"}, "strata.local/strata", "0.1.0-dev", true},
		{"latest is skipped", []string{"strata.local/busybox:latest", "strata.local/busybox:1.35.0"}, "strata.local/busybox", "1.35.0", true},
		{"only latest", []string{"strata.local/coredns:latest"}, "strata.local/coredns", "", false},
		{"a longer repository is another one", []string{"strata.local/coredns-extra:1.0"}, "strata.local/coredns", "", false},
		{"another repository", []string{"strata.local/pause:3.10"}, "strata.local/coredns", "", false},
		{"no refs", nil, "strata.local/coredns", "", false},
		{"a digest is no tag", []string{"strata.local/coredns:1.15.0@sha256:abc"}, "strata.local/coredns", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := imageTag(tc.refs, tc.repo)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("imageTag = %q, %v; want %q, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

// writeArchive writes an OCI layout tar whose index names refs.
func writeArchive(t *testing.T, path string, refs ...string) {
	t.Helper()
	type manifest struct {
		Annotations map[string]string `json:"annotations"`
	}
	var index struct {
		Manifests []manifest `json:"manifests"`
	}
	for _, r := range refs {
		index.Manifests = append(index.Manifests, manifest{Annotations: map[string]string{"io.containerd.image.name": r}})
	}
	data, err := json.Marshal(index)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	if err := tw.WriteHeader(&tar.Header{Name: "index.json", Mode: 0o644, Size: int64(len(data))}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestPlanLayers(t *testing.T) {
	setup := func(t *testing.T, charts []string, archives map[string][]string) *Options {
		dir := t.TempDir()
		o := &Options{ChartsDir: filepath.Join(dir, "charts"), ImagesDir: filepath.Join(dir, "images")}
		for _, c := range charts {
			if name, ok := strings.CutPrefix(c, "broken:"); ok {
				if err := os.WriteFile(filepath.Join(o.ChartsDir, name, "Chart.yaml"), []byte("name: [unclosed"), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			if err := os.MkdirAll(filepath.Join(o.ChartsDir, c), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(o.ChartsDir, c, "Chart.yaml"), []byte("apiVersion: v2\nname: "+c+"\nversion: 0.1.0\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			// The apps chart has leaderElection but (in this test) no replicas.
			if err := os.WriteFile(filepath.Join(o.ChartsDir, c, "values.yaml"), []byte("image:\n  repository: x\nleaderElection: true\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.MkdirAll(o.ImagesDir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, refs := range archives {
			writeArchive(t, filepath.Join(o.ImagesDir, name), refs...)
		}
		return o
	}
	good := map[string][]string{
		"strata.tar":  {"docker.io/library/strata:1.2.3", "strata.local/strata:1.2.3"},
		"coredns.tar": {"strata.local/coredns:1.15.0"},
	}

	t.Run("every layer", func(t *testing.T) {
		o := setup(t, []string{"apps", "dns"}, good)
		o.layers = Layers
		plans, err := o.planLayers()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]any{}
		for _, p := range plans {
			got[p.Name] = p.values
			if p.chartDir != filepath.Join(o.ChartsDir, p.Name) {
				t.Errorf("layer %s: chart %s", p.Name, p.chartDir)
			}
		}
		want := map[string]any{
			"apps": map[string]any{"image": map[string]any{"repository": "strata.local/strata", "tag": "1.2.3"}, "leaderElection": false},
			"dns":  map[string]any{"image": map[string]any{"repository": "strata.local/coredns", "tag": "1.15.0"}},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("values (-want +got):\n%s", diff)
		}
	})

	errorCases := []struct {
		name     string
		charts   []string
		archives map[string][]string
		wantErr  []string
	}{
		{"no charts directory", nil, good, []string{"no chart of layer apps in", "run strata up from the Strata checkout", "--charts-dir", "--layers=none"}},
		{"one chart missing", []string{"apps"}, good, []string{"no chart of layer dns"}},
		{"a broken chart", []string{"apps", "dns", "broken:dns"}, good, []string{"loading the chart of layer dns"}},
		{"no archive", []string{"apps", "dns"}, map[string][]string{"strata.tar": good["strata.tar"]}, []string{"the image of layer dns", "coredns.tar", "make images"}},
		{"archive of another image", []string{"apps", "dns"}, map[string][]string{"strata.tar": {"strata.local/pause:3.10"}, "coredns.tar": good["coredns.tar"]},
			[]string{"holds no strata.local/strata:<tag> (it holds strata.local/pause:3.10)", "make images"}},
	}
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			o := setup(t, tc.charts, tc.archives)
			o.layers = Layers
			_, err := o.planLayers()
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}

	t.Run("no layers need no charts", func(t *testing.T) {
		o := setup(t, nil, nil)
		if plans, err := o.planLayers(); err != nil || len(plans) != 0 {
			t.Errorf("planLayers = %v, %v; want nothing", plans, err)
		}
	})
}

func TestSummary(t *testing.T) {
	base := func() Options {
		return Options{DataDir: "/srv/strata/.data", NodeIP: "10.0.0.5", SecurePort: 6443, NodeName: "box", Binary: "/nowhere/strata", layers: Layers}
	}
	tests := []struct {
		name    string
		o       func(*Options)
		current string
		want    []string
		notWant []string
	}{{
		name: "layers, no merge",
		o:    func(*Options) {},
		want: []string{"nucleus https://10.0.0.5:6443, node box, layers apps, dns in namespace strata-system.",
			"  export KUBECONFIG=/srv/strata/.data/admin.kubeconfig\n", "  kubectl get nodes\n", "  helm list -A\n",
			"'strata down --data-dir /srv/strata/.data'", "'strata reset --data-dir /srv/strata/.data'"},
		notWant: []string{"PATH", "--context"},
	}, {
		name:    "no layers",
		o:       func(o *Options) { o.layers = nil },
		want:    []string{"no layers (--layers=none)", "  kubectl get nodes\n"},
		notWant: []string{"helm list"},
	}, {
		name:    "merged and current",
		o:       func(o *Options) { o.MergeKubeconfig = "/root/.kube/config" },
		current: "strata",
		want:    []string{"The context strata of /root/.kube/config is the current one", "  kubectl get nodes\n", "  helm list -A\n"},
		notWant: []string{"export KUBECONFIG", "--context"},
	}, {
		name:    "merged, another context current",
		o:       func(o *Options) { o.MergeKubeconfig = "/root/.kube/config" },
		current: "prod",
		want:    []string{"(the current one stays prod)", "  kubectl --context strata get nodes\n", "  helm --kube-context strata list -A\n"},
		notWant: []string{"export KUBECONFIG"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := base()
			tc.o(&o)
			got := o.summary(tc.current)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("summary does not say %q:\n%s", w, got)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(got, w) {
					t.Errorf("summary says %q:\n%s", w, got)
				}
			}
		})
	}
}

func TestLayerValues(t *testing.T) {
	apps := Layer{Name: "apps", Repository: "strata.local/strata", Values: map[string]any{"replicas": 1, "leaderElection": false}}
	image := map[string]any{"repository": "strata.local/strata", "tag": "0.1.0-dev"}
	tests := []struct {
		name        string
		chartValues map[string]any
		want        map[string]any
	}{
		{"the chart has both", map[string]any{"replicas": 2, "leaderElection": true, "image": map[string]any{}},
			map[string]any{"image": image, "replicas": 1, "leaderElection": false}},
		{"a chart without replicas still validates", map[string]any{"leaderElection": true},
			map[string]any{"image": image, "leaderElection": false}},
		{"a chart with neither", nil, map[string]any{"image": image}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, layerValues(apps, "0.1.0-dev", tc.chartValues)); diff != "" {
				t.Errorf("values (-want +got):\n%s", diff)
			}
		})
	}
}
