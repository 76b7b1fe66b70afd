package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/yaml"
)

// InstallCRDs creates the CustomResourceDefinitions of paths (YAML files,
// one CRD each, or directories of them: their *.yaml files) and waits until
// each is Established, so that its kind can be used at once. A CRD that
// exists already is left as it is. A layer's test installs its chart's
// CRDs this way:
//
//	env := testenv.Start(t)
//	if err := env.InstallCRDs(t.Context(), "../charts/example/crds"); err != nil {
//		t.Fatal(err)
//	}
func (e *Env) InstallCRDs(ctx context.Context, paths ...string) error {
	var files []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("installing CRDs: %w", err)
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		matches, err := filepath.Glob(filepath.Join(p, "*.yaml"))
		if err != nil {
			return err
		}
		if len(matches) == 0 {
			return fmt.Errorf("installing CRDs: no *.yaml file in %s", p)
		}
		files = append(files, matches...)
	}
	client, err := apiextensionsclient.NewForConfig(e.Config)
	if err != nil {
		return err
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("installing CRDs: %w", err)
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.UnmarshalStrict(data, crd); err != nil {
			return fmt.Errorf("installing CRDs: %s is not a CustomResourceDefinition: %w", f, err)
		}
		if _, err := client.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, crd, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating CRD %s of %s: %w", crd.Name, f, err)
		}
		var conditions []apiextensionsv1.CustomResourceDefinitionCondition
		err = wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			got, err := client.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, crd.Name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			conditions = got.Status.Conditions
			for _, c := range conditions {
				if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
					return true, nil
				}
			}
			return false, nil
		})
		if err != nil {
			return fmt.Errorf("waiting for CRD %s to be established (conditions %v): %w", crd.Name, conditions, err)
		}
	}
	return nil
}
