// Package validationtest helps tests compare validation results.
package validationtest

import (
	"sort"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Summary lists each error as "<field>: <type>" (for example
// "spec.capacity: Required value"), sorted, so that tests can compare what
// failed and how without depending on the order of map iteration.
func Summary(errs field.ErrorList) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Field+": "+e.Type.String())
	}
	sort.Strings(out)
	return out
}
