package options

import (
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/group"
	"k8s.io/apiserver/pkg/authentication/request/anonymous"
	"k8s.io/apiserver/pkg/authentication/request/union"
	x509request "k8s.io/apiserver/pkg/authentication/request/x509"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/server/dynamiccertificates"
)

// applyAuthentication sets the request authenticator of c.
func (o *Options) applyAuthentication(c *genericapiserver.RecommendedConfig, clientCA dynamiccertificates.CAContentProvider) error {
	c.Authentication.Authenticator = newAuthenticator(clientCA)
	return nil
}

func newAuthenticator(clientCA dynamiccertificates.CAContentProvider) authenticator.Request {
	certs := x509request.NewDynamic(clientCA.VerifyOptions, x509request.CommonNameUserConversion)
	// As upstream: a presented but invalid credential fails the request;
	// only requests without any become system:anonymous.
	return union.NewFailOnError(group.NewAuthenticatedGroupAdder(certs), anonymous.NewAuthenticator(nil))
}
