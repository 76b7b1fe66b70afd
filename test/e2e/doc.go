/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

// Package e2e tests Strata end to end: it starts the real `strata nucleus`
// binary and drives it with the real kubectl and helm, the way a person
// would, and asserts on what they print.
//
// Run it with `make test-e2e`, which builds bin/strata, bin/kubectl and
// bin/helm first. `go test ./test/e2e/...` works too once they are built;
// STRATA_BIN, KUBECTL_BIN and HELM_BIN choose other binaries (the helm tests
// are skipped, saying so, when bin/helm is missing). The nucleus' log is kept in
// test/e2e/_artifacts/nucleus.log.
//
// Steps that need a resource the nucleus does not serve yet are skipped with
// a message saying so, so the suite grows with the server.
package e2e
