package options

import (
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func TestAuthorizationOptions(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"defaults", nil, ""},
		{"allow", []string{"--authorization-default=allow"}, ""},
		{"bad default", []string{"--authorization-default=maybe"}, "must be deny or allow"},
		{"layers namespace", []string{"--layers-namespace=layers"}, ""},
		{"no layers namespace", []string{"--layers-namespace="}, ""},
		{"bad layers namespace", []string{"--layers-namespace=Not_A_Namespace"}, "--layers-namespace"},
		{"negative ttl", []string{"--authorization-webhook-cache-authorized-ttl=-1s"}, "must not be negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := NewAuthorizationOptions()
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			o.AddFlags(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			err := o.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
	o := NewAuthorizationOptions()
	if o.Default != "deny" || o.LayersNamespace != "strata-system" || o.WebhookCacheAuthorizedTTL != 10*time.Second {
		t.Errorf("defaults: %+v", o)
	}
}
