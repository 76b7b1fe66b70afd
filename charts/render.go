// Package charts renders Strata's Helm charts in process, as `helm template`
// does, for tests of the charts and of what they install.
package charts

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	chartcommon "helm.sh/helm/v4/pkg/chart/common"
	chartutil "helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// Options says how to render a chart.
type Options struct {
	// Release is the release name; empty means the chart's name.
	Release string
	// Namespace is the release namespace.
	Namespace string
	// Values override the chart's values.yaml, as --set and -f do.
	Values map[string]any
	// APIVersions are added to what the cluster reports, as helm template's
	// --api-versions: group/version or group/version/Kind.
	APIVersions []string
}

// Render renders the chart in dir with the values and the release of o, as
// `helm template` without a cluster, and returns the manifests by template
// path (NOTES.txt included). The values are checked against the chart's
// values.schema.json.
func Render(dir string, o Options) (map[string]string, error) {
	chrt, err := loader.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("loading chart %s: %w", dir, err)
	}
	caps := chartcommon.DefaultCapabilities.Copy()
	caps.APIVersions = append(slices.Clone(caps.APIVersions), o.APIVersions...)
	release := o.Release
	if release == "" {
		release = chrt.Metadata.Name
	}
	vals, err := chartutil.ToRenderValues(chrt, o.Values, chartcommon.ReleaseOptions{Name: release, Namespace: o.Namespace, IsInstall: true, Revision: 1}, caps)
	if err != nil {
		return nil, err
	}
	return engine.Render(chrt, vals)
}

// Objects decodes the Kubernetes objects of rendered manifests, ordered by
// template path, then by their position in it. NOTES.txt, partials and
// empty documents are left out.
func Objects(rendered map[string]string) ([]*unstructured.Unstructured, error) {
	names := make([]string, 0, len(rendered))
	for name := range rendered {
		base := path.Base(name)
		if strings.HasPrefix(base, "_") || !(strings.HasSuffix(base, ".yaml") || strings.HasSuffix(base, ".yml")) {
			continue
		}
		names = append(names, name)
	}
	slices.Sort(names)
	var objs []*unstructured.Unstructured
	for _, name := range names {
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewBufferString(rendered[name]), 4096)
		for {
			var m map[string]any
			if err := dec.Decode(&m); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			if len(m) == 0 {
				continue
			}
			objs = append(objs, &unstructured.Unstructured{Object: m})
		}
	}
	return objs, nil
}

// Find returns the object of objs with the kind and name, or nil.
func Find(objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	return nil
}
