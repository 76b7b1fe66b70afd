/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package deployment

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/utils/dump"
)

// computeHash returns the pod-template-hash of a pod template: the 32-bit
// FNV-1a hash of the template printed by dump.ForHash, followed by the
// collision count (when set) as eight little-endian bytes, rendered with
// rand.SafeEncodeString. This is what kube-controller-manager computes, so a
// Deployment moved between Kubernetes and Strata names its ReplicaSets the
// same way and adopts them without a rollout.
func computeHash(template *corev1.PodTemplateSpec, collisionCount *int32) string {
	hasher := fnv.New32a()
	fmt.Fprintf(hasher, "%v", dump.ForHash(*template))
	if collisionCount != nil {
		b := make([]byte, 8)
		binary.LittleEndian.PutUint32(b, uint32(*collisionCount))
		hasher.Write(b)
	}
	return rand.SafeEncodeString(fmt.Sprint(hasher.Sum32()))
}
