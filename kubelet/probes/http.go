package probes

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// NewHTTPClient returns the client httpGet probes use by default, as
// upstream's prober: it does not verify TLS certificates, keeps no
// connection alive, uses no proxy, asks for no compression and follows
// redirects only on the same host (at most 10); a redirect elsewhere is
// the response.
func NewHTTPClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			//nolint:gosec // as upstream: probes do not verify certificates
			TLSClientConfig:    &tls.Config{InsecureSkipVerify: true},
			DisableKeepAlives:  true,
			DisableCompression: true,
			Proxy:              nil,
			DialContext:        (&net.Dialer{}).DialContext,
		},
		CheckRedirect: sameHostRedirects,
	}
}

// sameHostRedirects follows redirects on the request's host only, at most
// 10 of them.
func sameHostRedirects(req *http.Request, via []*http.Request) error {
	if req.URL.Hostname() != via[0].URL.Hostname() {
		return http.ErrUseLastResponse
	}
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	return nil
}

// newHTTPRequest builds an httpGet probe's request as upstream does: the
// scheme (http by default), the host (the pod's IP by default), the port
// by number or name, the path, the headers, with User-Agent kube-probe/…
// and Accept */* unless the probe sets them (an empty Accept removes it),
// and the Host header as the request's host.
func newHTTPRequest(action *corev1.HTTPGetAction, c *corev1.Container, podIP string) (*http.Request, error) {
	scheme := strings.ToLower(string(action.Scheme))
	if scheme == "" {
		scheme = "http"
	}
	host := action.Host
	if host == "" {
		host = podIP
	}
	port, err := resolvePort(action.Port, c)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(action.Path)
	if err != nil {
		// Too late to reject a broken path: pass it along as it is.
		u = &url.URL{Path: action.Path}
	}
	u.Scheme = scheme
	u.Host = net.JoinHostPort(host, strconv.Itoa(port))

	req, err := http.NewRequest(http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	headers := http.Header{}
	for _, h := range action.HTTPHeaders {
		headers.Add(h.Name, h.Value)
	}
	if _, ok := headers["User-Agent"]; !ok {
		headers.Set("User-Agent", userAgent)
	}
	if _, ok := headers["Accept"]; !ok {
		headers.Set("Accept", "*/*")
	} else if headers.Get("Accept") == "" {
		headers.Del("Accept")
	}
	req.Header = headers
	req.Host = headers.Get("Host")
	return req, nil
}

// httpGet sends the probe's GET request: a 2xx response succeeds, a 3xx
// (a redirect not followed) succeeds with a warning, anything else or no
// response fails.
func (p *prober) httpGet(ctx context.Context, c *corev1.Container, podIP string, action *corev1.HTTPGetAction, timeout time.Duration) probeOutput {
	req, err := newHTTPRequest(action, c, podIP)
	if err != nil {
		return probeOutput{outcome: outcomeUnknown, err: err}
	}
	client := *p.http
	client.Timeout = timeout
	resp, err := client.Do(req.WithContext(ctx))
	if err != nil {
		// Errors are failures, so that timeouts are.
		return probeOutput{outcome: outcomeFailure, output: err.Error()}
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxOutputLength))
	if err != nil {
		return probeOutput{outcome: outcomeFailure, err: err}
	}
	o, output := classifyHTTP(resp.StatusCode, string(body))
	return probeOutput{outcome: o, output: output}
}

// classifyHTTP judges an httpGet probe's response by its status code, as
// upstream: 2xx succeeds with the body as output, 3xx succeeds with a
// warning, anything else fails without the body in the message.
func classifyHTTP(code int, body string) (outcome, string) {
	switch {
	case code >= http.StatusOK && code < http.StatusMultipleChoices:
		return outcomeSuccess, body
	case code >= http.StatusMultipleChoices && code < http.StatusBadRequest:
		return outcomeWarning, fmt.Sprintf("Probe terminated redirects, Response body: %v", body)
	}
	return outcomeFailure, fmt.Sprintf("HTTP probe failed with statuscode: %d", code)
}
