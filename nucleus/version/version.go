// Package version states which Kubernetes version the nucleus implements and
// which Strata build it is.
package version

import (
	"fmt"
	"runtime"

	apimachineryversion "k8s.io/apimachinery/pkg/version"
)

// Kubernetes is the Kubernetes release whose API the nucleus serves.
const Kubernetes = "v1.37.2"

// Strata is the Strata version, set at build time with
// -ldflags "-X github.com/strata-dev/strata/nucleus/version.Strata=...".
var Strata = "0.1.0-dev"

// GitCommit is the commit Strata was built from, set at build time.
var GitCommit = ""

// GitVersion is what /version reports: the Kubernetes semver with Strata's
// own version as build metadata, e.g. v1.37.2+strata.0.1.0.
func GitVersion() string {
	return Kubernetes + "+strata." + sanitize(Strata)
}

// Info is the /version document.
func Info() apimachineryversion.Info {
	return apimachineryversion.Info{
		Major:        "1",
		Minor:        "37",
		GitVersion:   GitVersion(),
		GitCommit:    GitCommit,
		GitTreeState: "clean",
		GoVersion:    runtime.Version(),
		Compiler:     runtime.Compiler,
		Platform:     fmt.Sprintf("%s/%s", runtime.GOOS, runtime.GOARCH),
	}
}

// sanitize keeps only characters semver allows in build metadata.
func sanitize(s string) string {
	out := []byte{}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '-' {
			out = append(out, c)
		} else {
			out = append(out, '-')
		}
	}
	return string(out)
}
