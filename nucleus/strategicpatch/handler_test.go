package strategicpatch

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
)

const deployment = `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","resourceVersion":"7"},
"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.14"},{"name":"sidecar","image":"busybox"}]}}}}`

func TestToMergePatch(t *testing.T) {
	tests := []struct {
		name   string
		patch  string
		pinned bool
		want   string
	}{{
		name:  "container image merged by name and pinned to the current resourceVersion",
		patch: `{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.27"}]}}}}`,
		want: `{"metadata":{"resourceVersion":"7"},"spec":{"template":{"spec":{"containers":[` +
			`{"image":"nginx:1.27","name":"nginx"},{"image":"busybox","name":"sidecar"}]}}}}`,
	}, {
		name:  "delete directive removes one container",
		patch: `{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","$patch":"delete"}]}}}}`,
		want:  `{"metadata":{"resourceVersion":"7"},"spec":{"template":{"spec":{"containers":[{"image":"nginx:1.14","name":"nginx"}]}}}}`,
	}, {
		name:   "a client-pinned resourceVersion is kept",
		patch:  `{"metadata":{"resourceVersion":"3","labels":{"a":"b"}}}`,
		pinned: true,
		want:   `{"metadata":{"labels":{"a":"b"},"resourceVersion":"3"}}`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, statusErr := toMergePatch([]byte(deployment), []byte(tt.patch), &appsv1.Deployment{}, tt.pinned)
			if statusErr != nil {
				t.Fatalf("toMergePatch: %v", statusErr)
			}
			if diff := cmp.Diff(decode(t, tt.want), decode(t, string(got))); diff != "" {
				t.Errorf("merge patch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestToMergePatchRejectsBadPatch(t *testing.T) {
	_, statusErr := toMergePatch([]byte(deployment), []byte(`{"spec":{"template":{"spec":{"containers":[{"image":"x"}]}}}}`), &appsv1.Deployment{}, false)
	if statusErr == nil || statusErr.ErrStatus.Code != 400 {
		t.Fatalf("want a 400 for a list entry without its merge key, got %v", statusErr)
	}
}

func TestPinnedResourceVersion(t *testing.T) {
	for patch, want := range map[string]bool{
		`{"metadata":{"resourceVersion":"5"}}`: true,
		`{"metadata":{"labels":{"a":"b"}}}`:    false,
		`{"spec":{}}`:                          false,
	} {
		if got := pinnedResourceVersion([]byte(patch)); got != want {
			t.Errorf("pinnedResourceVersion(%s) = %v, want %v", patch, got, want)
		}
	}
}

func decode(t *testing.T, s string) interface{} {
	t.Helper()
	var v interface{}
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("decoding %s: %v", s, err)
	}
	return v
}
