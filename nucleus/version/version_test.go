package version

import (
	"testing"

	utilversion "k8s.io/apimachinery/pkg/util/version"
)

func TestGitVersionIsKubernetesSemver(t *testing.T) {
	for _, strata := range []string{"0.1.0", "0.1.0-dev", "1.2.3+dirty/branch"} {
		Strata = strata
		v, err := utilversion.ParseSemantic(GitVersion())
		if err != nil {
			t.Fatalf("GitVersion() = %q does not parse as semver: %v", GitVersion(), err)
		}
		if v.Major() != 1 || v.Minor() != 37 {
			t.Errorf("GitVersion() = %q, want v1.37.x", GitVersion())
		}
		if v.BuildMetadata() == "" {
			t.Errorf("GitVersion() = %q carries no Strata build metadata", GitVersion())
		}
	}
	info := Info()
	if info.Major != "1" || info.Minor != "37" {
		t.Errorf("Info() major/minor = %s/%s, want 1/37", info.Major, info.Minor)
	}
}
