package server

import (
	"context"
	"crypto/tls"
	"fmt"

	"k8s.io/apiserver/pkg/server/dynamiccertificates"
)

// Certificates are the kubelet API's serving certificate and the CAs of its
// clients' certificates, read from files and, once Run, reloaded when the
// files change, as upstream's kubelet does (its dynamic --client-ca-file,
// and --tls-cert-file with ReloadKubeletServerCertificateFile): a rotated
// CA or certificate needs no kubelet restart.
type Certificates struct {
	clientCA *dynamiccertificates.DynamicFileCAContent
	serving  *dynamiccertificates.DynamicCertKeyPairContent
	tls      *dynamiccertificates.DynamicServingCertificateController
}

// LoadCertificates reads the serving certificate and key, and the client CA
// bundle.
func LoadCertificates(certFile, keyFile, clientCAFile string) (*Certificates, error) {
	serving, err := dynamiccertificates.NewDynamicServingContentFromFiles("kubelet-serving", certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("loading the kubelet serving certificate (--tls-cert-file, --tls-private-key-file): %w", err)
	}
	clientCA, err := dynamiccertificates.NewDynamicCAContentFromFile("client-ca-bundle", clientCAFile)
	if err != nil {
		return nil, fmt.Errorf("loading the client CA (--client-ca-file): %w", err)
	}
	// Clients are asked for a certificate, not required to show one: they
	// may authenticate with a bearer token instead, and the Authenticator
	// verifies certificates. HTTP/1.1 only: SPDY and WebSocket upgrades
	// need it.
	base := &tls.Config{MinVersion: tls.VersionTLS12, ClientAuth: tls.RequestClientCert, NextProtos: []string{"http/1.1"}}
	c := &Certificates{
		clientCA: clientCA,
		serving:  serving,
		tls:      dynamiccertificates.NewDynamicServingCertificateController(base, clientCA, serving, nil, nil),
	}
	clientCA.AddListener(c.tls)
	serving.AddListener(c.tls)
	if err := c.tls.RunOnce(); err != nil {
		return nil, fmt.Errorf("the kubelet API's TLS configuration: %w", err)
	}
	return c, nil
}

// ClientCA verifies client certificates: the Authenticator's CA.
func (c *Certificates) ClientCA() dynamiccertificates.CAContentProvider { return c.clientCA }

// TLSConfig serves the current certificate and names the current client
// CAs as acceptable.
func (c *Certificates) TLSConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetConfigForClient: c.tls.GetConfigForClient}
}

// Run reloads the files when they change (watched, and read again every
// minute) until ctx ends.
func (c *Certificates) Run(ctx context.Context) {
	go c.clientCA.Run(ctx, 1)
	go c.serving.Run(ctx, 1)
	c.tls.Run(1, ctx.Done())
}
