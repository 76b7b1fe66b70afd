package tokenrequest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	authenticationv1 "k8s.io/api/authentication/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestValidate(t *testing.T) {
	request := func(exp int64) *authenticationv1.TokenRequest {
		return &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &exp}}
	}
	path := field.NewPath("spec", "expirationSeconds")
	tests := []struct {
		name string
		req  *authenticationv1.TokenRequest
		want field.ErrorList
	}{
		{name: "unset", req: &authenticationv1.TokenRequest{}},
		{name: "ten minutes", req: request(600)},
		{name: "2^32 seconds", req: request(1 << 32)},
		{name: "599 seconds", req: request(599), want: field.ErrorList{field.Invalid(path, int64(599), "may not specify a duration less than 10 minutes")}},
		{name: "too long", req: request(1<<32 + 1), want: field.ErrorList{field.Invalid(path, int64(1<<32+1), "may not specify a duration larger than 2^32 seconds")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Validate(tt.req)); diff != "" {
				t.Errorf("Validate() (-want +got)\n%s", diff)
			}
		})
	}
}
