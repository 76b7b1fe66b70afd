/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package replicaset

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/utils/clock"
)

// expectationsTimeout is how long a ReplicaSet waits for the watch events of
// the pods it created or deleted before it acts again anyway, in case an
// event was dropped (upstream's ExpectationsTimeout).
const expectationsTimeout = 5 * time.Minute

// expectations remember, per ReplicaSet, the pod creations and deletions the
// controller made and has not yet seen in its informer cache. While a
// ReplicaSet has unfulfilled expectations its pod list may be stale, so the
// reconciler does not create or delete pods for it; this is what keeps a
// slow cache from producing extra pods.
//
// Records are keyed by namespace/name and carry the ReplicaSet's UID, so that
// events for the pods of a deleted ReplicaSet never satisfy the expectations
// of a new one with the same name. Deletions are tracked by pod key, so that
// a pod seen first with a deletionTimestamp and then deleted counts once.
type expectations struct {
	clock clock.PassiveClock

	mu      sync.Mutex
	records map[string]*expectation
}

type expectation struct {
	uid types.UID
	// adds is the number of creations not yet observed.
	adds int
	// deletes holds the keys (namespace/name) of pods whose deletion has not
	// yet been observed.
	deletes   sets.Set[string]
	timestamp time.Time
}

func newExpectations(c clock.PassiveClock) *expectations {
	return &expectations{clock: c, records: map[string]*expectation{}}
}

func (e *expectation) fulfilled() bool {
	return e.adds <= 0 && e.deletes.Len() == 0
}

// satisfied reports whether the ReplicaSet key with the given UID may create
// or delete pods: it has no expectations, they are fulfilled, or they expired.
// Expectations recorded for another UID (an earlier ReplicaSet of the same
// name) are dropped.
func (x *expectations) satisfied(key string, uid types.UID) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	rec, ok := x.records[key]
	if !ok {
		return true
	}
	if rec.uid != uid {
		delete(x.records, key)
		return true
	}
	return rec.fulfilled() || x.clock.Since(rec.timestamp) > expectationsTimeout
}

// expectCreations replaces the expectations of key by adds creations.
func (x *expectations) expectCreations(key string, uid types.UID, adds int) {
	x.set(key, &expectation{uid: uid, adds: adds, deletes: sets.New[string]()})
}

// expectDeletions replaces the expectations of key by the deletion of the
// pods with the given keys.
func (x *expectations) expectDeletions(key string, uid types.UID, podKeys []string) {
	x.set(key, &expectation{uid: uid, deletes: sets.New(podKeys...)})
}

func (x *expectations) set(key string, rec *expectation) {
	rec.timestamp = x.clock.Now()
	x.mu.Lock()
	defer x.mu.Unlock()
	x.records[key] = rec
}

// creationObserved lowers the expected creations of key by n, if its record
// belongs to uid.
func (x *expectations) creationObserved(key string, uid types.UID, n int) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if rec, ok := x.records[key]; ok && rec.uid == uid {
		rec.adds -= n
	}
}

// deletionObserved records that the pod podKey is gone or going, if key's
// record belongs to uid and was waiting for it.
func (x *expectations) deletionObserved(key string, uid types.UID, podKey string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if rec, ok := x.records[key]; ok && rec.uid == uid {
		rec.deletes.Delete(podKey)
	}
}

// forget drops the expectations of key, e.g. when its ReplicaSet is gone.
func (x *expectations) forget(key string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	delete(x.records, key)
}

// pending returns the creations and deletions key still waits for (tests
// and logs).
func (x *expectations) pending(key string) (adds, deletes int, ok bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	rec, ok := x.records[key]
	if !ok {
		return 0, 0, false
	}
	return rec.adds, rec.deletes.Len(), true
}
