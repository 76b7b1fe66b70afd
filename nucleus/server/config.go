// Package server assembles the nucleus: a k8s.io/apiserver generic server
// serving the core types, delegating to k8s.io/apiextensions-apiserver for
// custom resources. It follows k8s.io/sample-apiserver's shape:
// Config → Complete → New → PrepareRun → RunWithContext.
package server

import (
	"fmt"
	"net"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	apiextensionsapiserver "k8s.io/apiextensions-apiserver/pkg/apiserver"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	genericapiserver "k8s.io/apiserver/pkg/server"

	"github.com/strata-dev/strata/nucleus/authentication"
	"github.com/strata-dev/strata/nucleus/kubeletclient"
)

// ExtraConfig is what the nucleus needs beyond the generic server.
type ExtraConfig struct {
	// ServiceIPRange is where Service cluster IPs come from.
	ServiceIPRange net.IPNet
	// NodePortRange is where Service node ports come from.
	NodePortRange utilnet.PortRange
	// SecurePort is the port the API is served on (the target port of the
	// kubernetes Service).
	SecurePort int
	// AdvertiseAddress is where pods reach the API: the endpoint of the
	// kubernetes Service (none when it is a loopback address, which pods
	// cannot reach).
	AdvertiseAddress string
	// Etcd is a client of the store, used by the IP and port allocators.
	Etcd *clientv3.Client
	// EtcdPrefix is the key prefix of the store.
	EtcdPrefix string
	// APIExtensions configures the custom resource server the nucleus
	// delegates to.
	APIExtensions *apiextensionsapiserver.Config
	// Controllers selects the control loops run inside the nucleus (see
	// package controllers); empty runs none.
	Controllers []string
	// RootCA is the CA bundle published to every namespace for clients in
	// pods.
	RootCA []byte
	// NodeMonitorGracePeriod is how long a node may stay silent before it
	// is marked unreachable.
	NodeMonitorGracePeriod time.Duration
	// Authentication holds the token issuer and authenticators the
	// authentication APIs need, and the issuer discovery documents.
	Authentication *authentication.Authentication
	// Kubelet says how to reach kubelets for pods/log, exec, attach,
	// portforward and nodes/proxy; nil leaves those answering 503.
	Kubelet *kubeletclient.Config
}

// Config is the nucleus' configuration.
type Config struct {
	GenericConfig *genericapiserver.RecommendedConfig
	ExtraConfig   ExtraConfig
}

type completedConfig struct {
	GenericConfig genericapiserver.CompletedConfig
	ExtraConfig   *ExtraConfig
	apiExtensions apiextensionsapiserver.CompletedConfig
	kubelet       *kubeletclient.Client
}

// CompletedConfig is a Config with every default filled in.
type CompletedConfig struct {
	*completedConfig
}

// Complete fills in defaults.
func (c *Config) Complete() (CompletedConfig, error) {
	if c.ExtraConfig.Etcd == nil {
		return CompletedConfig{}, fmt.Errorf("an etcd client is required for the service allocators")
	}
	var kubelet *kubeletclient.Client
	if c.ExtraConfig.Kubelet != nil {
		var err error
		if kubelet, err = kubeletclient.New(*c.ExtraConfig.Kubelet); err != nil {
			return CompletedConfig{}, err
		}
	}
	return CompletedConfig{&completedConfig{
		GenericConfig: c.GenericConfig.Complete(),
		ExtraConfig:   &c.ExtraConfig,
		apiExtensions: c.ExtraConfig.APIExtensions.Complete(),
		kubelet:       kubelet,
	}}, nil
}
