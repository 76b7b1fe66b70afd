/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

// Package config embeds the generated manifests the layer managers need at
// run time.
package config

import _ "embed"

// WebhookManifests is config/webhook/manifests.yaml, the webhook
// configurations controller-gen generates from the markers in webhooks/.
//
//go:embed webhook/manifests.yaml
var WebhookManifests []byte
