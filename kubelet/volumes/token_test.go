package volumes

import (
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestRequiresRefresh(t *testing.T) {
	issued := t0
	token := func(lifetime time.Duration) *authenticationv1.TokenRequest {
		return &authenticationv1.TokenRequest{
			Spec:   authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To(int64(lifetime / time.Second))},
			Status: authenticationv1.TokenRequestStatus{ExpirationTimestamp: metav1.NewTime(issued.Add(lifetime))},
		}
	}
	tests := []struct {
		name   string
		token  *authenticationv1.TokenRequest
		after  time.Duration
		jitter time.Duration
		want   bool
	}{
		{name: "fresh", token: token(time.Hour), after: 10 * time.Minute, want: false},
		{name: "just before 80%", token: token(time.Hour), after: 47 * time.Minute, want: false},
		{name: "past 80%", token: token(time.Hour), after: 49 * time.Minute, want: true},
		{name: "jitter makes it earlier", token: token(time.Hour), after: 48*time.Minute - 5*time.Second, jitter: 10 * time.Second, want: true},
		{name: "expired", token: token(time.Hour), after: 2 * time.Hour, want: true},
		{name: "long-lived token before 24h", token: token(365 * 24 * time.Hour), after: 23 * time.Hour, want: false},
		{name: "long-lived token after 24h", token: token(365 * 24 * time.Hour), after: 25 * time.Hour, want: true},
		{name: "no lifetime: never", token: &authenticationv1.TokenRequest{}, after: 48 * time.Hour, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := requiresRefresh(issued.Add(tt.after), tt.token, tt.jitter); got != tt.want {
				t.Errorf("requiresRefresh = %v, want %v", got, tt.want)
			}
		})
	}
}
