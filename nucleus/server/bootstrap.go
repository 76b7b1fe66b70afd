package server

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	netutils "k8s.io/utils/net"
	"k8s.io/utils/ptr"
)

// SystemNamespaces exist in every cluster, as upstream.
var SystemNamespaces = []string{metav1.NamespaceDefault, metav1.NamespaceSystem, metav1.NamespacePublic, corev1.NamespaceNodeLease}

// bootstrap creates what every cluster has: the system namespaces and the
// `kubernetes` Service on the first address of the service range.
func bootstrap(ctx context.Context, loopback *rest.Config, extra *ExtraConfig) error {
	client, err := kubernetes.NewForConfig(loopback)
	if err != nil {
		return err
	}
	return wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		if err := ensureBootstrapObjects(ctx, client, extra); err != nil {
			klog.FromContext(ctx).V(1).Info("Bootstrap objects not ready yet", "err", err)
			return false, nil
		}
		return true, nil
	})
}

func ensureBootstrapObjects(ctx context.Context, client kubernetes.Interface, extra *ExtraConfig) error {
	for _, name := range SystemNamespaces {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if _, err := client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating namespace %s: %w", name, err)
		}
	}
	first, err := netutils.GetIndexedIP(&extra.ServiceIPRange, 1)
	if err != nil {
		return err
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: metav1.NamespaceDefault,
			Labels: map[string]string{"component": "apiserver", "provider": "kubernetes"}},
		Spec: corev1.ServiceSpec{
			ClusterIP: first.String(),
			Ports: []corev1.ServicePort{{Name: "https", Port: 443, Protocol: corev1.ProtocolTCP,
				TargetPort: intstr.FromInt32(int32(extra.SecurePort))}},
		},
	}
	if _, err := client.CoreV1().Services(metav1.NamespaceDefault).Create(ctx, svc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating the kubernetes service: %w", err)
	}
	return ensureKubernetesEndpoints(ctx, client, extra.AdvertiseAddress, int32(extra.SecurePort))
}

// ensureKubernetesEndpoints points the kubernetes Service at the advertised
// address, as upstream's endpoint reconciler does: an Endpoints and an
// EndpointSlice named kubernetes, port https. Pods reach the API through
// it. A loopback address is not advertised: pods could not reach it.
func ensureKubernetesEndpoints(ctx context.Context, client kubernetes.Interface, address string, port int32) error {
	ip := netutils.ParseIPSloppy(address)
	if ip == nil || ip.IsLoopback() {
		return nil
	}
	endpoints, slice := KubernetesEndpoints(ip.String(), port)
	if err := apply(ctx, client.CoreV1().Endpoints(metav1.NamespaceDefault), endpoints, func(cur, want *corev1.Endpoints) bool {
		return equality.Semantic.DeepEqual(cur.Subsets, want.Subsets)
	}, func(cur, want *corev1.Endpoints) { cur.Subsets = want.Subsets }); err != nil {
		return fmt.Errorf("the kubernetes service's endpoints: %w", err)
	}
	if err := apply(ctx, client.DiscoveryV1().EndpointSlices(metav1.NamespaceDefault), slice, func(cur, want *discoveryv1.EndpointSlice) bool {
		return cur.AddressType == want.AddressType && equality.Semantic.DeepEqual(cur.Endpoints, want.Endpoints) && equality.Semantic.DeepEqual(cur.Ports, want.Ports)
	}, func(cur, want *discoveryv1.EndpointSlice) {
		cur.Endpoints, cur.Ports, cur.Labels = want.Endpoints, want.Ports, want.Labels
	}); err != nil {
		return fmt.Errorf("the kubernetes service's endpoint slice: %w", err)
	}
	return nil
}

// KubernetesEndpoints are the Endpoints and EndpointSlice of the kubernetes
// Service for an API server at ip:port.
func KubernetesEndpoints(ip string, port int32) (*corev1.Endpoints, *discoveryv1.EndpointSlice) {
	meta := metav1.ObjectMeta{Name: "kubernetes", Namespace: metav1.NamespaceDefault}
	endpoints := &corev1.Endpoints{
		ObjectMeta: meta,
		Subsets: []corev1.EndpointSubset{{
			Addresses: []corev1.EndpointAddress{{IP: ip}},
			Ports:     []corev1.EndpointPort{{Name: "https", Port: port, Protocol: corev1.ProtocolTCP}},
		}},
	}
	addressType := discoveryv1.AddressTypeIPv4
	if netutils.IsIPv6String(ip) {
		addressType = discoveryv1.AddressTypeIPv6
	}
	meta.Labels = map[string]string{discoveryv1.LabelServiceName: "kubernetes"}
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta:  meta,
		AddressType: addressType,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("https"), Port: ptr.To(port), Protocol: ptr.To(corev1.ProtocolTCP)}},
	}
	return endpoints, slice
}

// namespacedClient is the part of a typed client apply uses.
type namespacedClient[T any] interface {
	Get(ctx context.Context, name string, opts metav1.GetOptions) (T, error)
	Create(ctx context.Context, obj T, opts metav1.CreateOptions) (T, error)
	Update(ctx context.Context, obj T, opts metav1.UpdateOptions) (T, error)
}

// apply creates want, or updates the existing object when same says it
// differs (set copies want's content into it).
func apply[T interface{ GetName() string }](ctx context.Context, c namespacedClient[T], want T, same func(cur, want T) bool, set func(cur, want T)) error {
	cur, err := c.Get(ctx, want.GetName(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = c.Create(ctx, want, metav1.CreateOptions{})
		return err
	}
	if err != nil || same(cur, want) {
		return err
	}
	set(cur, want)
	_, err = c.Update(ctx, cur, metav1.UpdateOptions{})
	return err
}
