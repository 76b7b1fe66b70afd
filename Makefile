# Strata's Makefile. `make help` lists the targets.
#
# Everything builds with the same GOFLAGS, so `go build` and `go test` share
# one build cache: the dependencies compile once.

SHELL := /usr/bin/env bash
.SHELLFLAGS := -o errexit -o pipefail -c
.DEFAULT_GOAL := help

GO ?= go
# -buildvcs=false: builds work in checkouts without .git or owned by another
# user; the commit is stamped explicitly below instead.
GOFLAGS ?= -buildvcs=false
export GOFLAGS
# Static binaries: bin/strata runs on the host and, unchanged, in the
# images (make images), so it is built once.
CGO_ENABLED ?= 0
export CGO_ENABLED

BIN := $(CURDIR)/bin
MODULE := github.com/strata-dev/strata

# Strata's version: the latest v* tag, or 0.1.0-dev before the first release.
VERSION ?= $(or $(patsubst v%,%,$(shell git describe --tags --match 'v[0-9]*' 2>/dev/null)),0.1.0-dev)
GIT_COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS := -X $(MODULE)/nucleus/version.Strata=$(VERSION) -X $(MODULE)/nucleus/version.GitCommit=$(GIT_COMMIT)

# kubectl is upstream's, from the k8s.io/kubectl module go.mod pins.
KUBECTL_VERSION ?= v1.37.2
KUBECTL_LDFLAGS := -X k8s.io/component-base/version.gitVersion=$(KUBECTL_VERSION)

# helm is upstream's, from the helm.sh/helm/v4 module go.mod pins. Its version
# variable is internal to the module; the linker sets it all the same.
HELM_VERSION ?= v4.3.1
HELM_LDFLAGS := -X helm.sh/helm/v4/internal/version.version=$(HELM_VERSION)

# Where `make up` keeps its state, and its port; UP_FLAGS are more flags
# of `strata up` (e.g. UP_FLAGS=--merge-kubeconfig, or --layers=none).
DATA_DIR ?= .data
SECURE_PORT ?= 6443
UP_FLAGS ?=

# Unit tests: every package except the integration, end-to-end and
# kubebuilder suites.
UNIT_PKGS = $(shell $(GO) list ./... | grep -v -e '/test/integration' -e '/test/e2e' -e '/test/kubebuilder')
TEST_FLAGS ?=

OPENAPI_PKGS := \
	k8s.io/api/core/v1 \
	k8s.io/api/discovery/v1 \
	k8s.io/api/coordination/v1 \
	k8s.io/api/events/v1 \
	k8s.io/api/admissionregistration/v1 \
	k8s.io/api/policy/v1 \
	k8s.io/api/authentication/v1 \
	k8s.io/api/authorization/v1 \
	k8s.io/api/autoscaling/v1 \
	k8s.io/apimachinery/pkg/apis/meta/v1 \
	k8s.io/apimachinery/pkg/runtime \
	k8s.io/apimachinery/pkg/util/intstr \
	k8s.io/apimachinery/pkg/api/resource \
	k8s.io/apimachinery/pkg/version \
	k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1

# generateEmbeddedObjectMeta keeps the labels and annotations of pod
# templates, which would otherwise be pruned. maxDescLen=0 drops the field
# descriptions: with them apps_deployments.yaml is 325 kB of JSON, more than
# the 256 kB of annotations `kubectl apply` (client side) may store.
# hack/tools/crdfix then makes the list map keys upstream marks optional
# required, as a CRD's structural schema demands.
CRD_OPTIONS ?= crd:maxDescLen=0,generateEmbeddedObjectMeta=true

# Layers scaffolded with kubebuilder (PROJECT, docs/write-your-own-layer.md)
# live where its go/v4 plugin puts them: API types in api/, controllers in
# internal/controller/, webhooks in internal/webhook/, wired into cmd/main.go.
# `make generate manifests` covers them beside Strata's own apis/,
# controllers/ and webhooks/ once they exist.
API_PATHS := ./apis/... $(if $(wildcard api),./api/...)
WEBHOOK_PATHS := ./webhooks/... $(if $(wildcard internal/webhook),./internal/webhook/...)
paths = $(foreach p,$(1),paths=$(p))

step = @printf '\n==> %s\n' $(1)

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make \033[36m<target>\033[0m\n"} \
		/^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } \
		/^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

.PHONY: generate
generate: tools ## Regenerate code: OpenAPI definitions of the nucleus, deepcopy functions of apis/.
	$(call step,"Generating nucleus/generated/openapi")
	$(BIN)/openapi-gen --go-header-file hack/boilerplate.go.txt \
		--output-dir nucleus/generated/openapi \
		--output-pkg $(MODULE)/nucleus/generated/openapi \
		--output-file zz_generated.openapi.go \
		--report-filename /dev/null \
		$(OPENAPI_PKGS)
	$(call step,"Generating deepcopy functions of $(API_PATHS)")
	$(BIN)/controller-gen object:headerFile=hack/boilerplate.go.txt $(call paths,$(API_PATHS))

.PHONY: manifests
manifests: tools ## Generate the CRDs of apis/ (and api/) into config/crd/bases (and as templates into charts/apps/templates/crds), webhook configurations into config/webhook, RBAC rules into config/rbac.
	$(call step,"Generating CRDs into config/crd/bases")
	$(BIN)/controller-gen $(CRD_OPTIONS) $(call paths,$(API_PATHS)) output:crd:artifacts:config=config/crd/bases
	$(BIN)/crdfix config/crd/bases/*.yaml
	$(call step,"Generating webhook configurations into config/webhook")
	$(BIN)/controller-gen webhook $(call paths,$(WEBHOOK_PATHS)) output:webhook:artifacts:config=config/webhook
	$(call step,"Generating the managers' RBAC rules into config/rbac")
	$(BIN)/controller-gen rbac:roleName=strata-apps-manager paths=./controllers/... paths=./manager/... output:rbac:artifacts:config=config/rbac
	$(if $(wildcard internal/controller),$(BIN)/controller-gen rbac:roleName=strata-scaffolded-manager paths=./internal/controller/... output:rbac:artifacts:config=config/rbac/scaffolded)
	$(call step,"Writing the apps layer's CRDs into charts/apps/templates/crds")
	$(BIN)/chartcrds --chart apps --out charts/apps/templates/crds config/crd/bases/apps_deployments.yaml config/crd/bases/apps_replicasets.yaml

.PHONY: fmt
fmt: ## Run gofmt on the code.
	$(GO) fmt ./...

.PHONY: vet
vet: ## Run go vet on the code.
	$(GO) vet ./...

.PHONY: lint
lint: vet ## Check formatting and run go vet (no external linter yet).
	@out="$$(gofmt -l $$(git ls-files --cached --others --exclude-standard '*.go'))"; \
		if [ -n "$$out" ]; then echo "Not formatted with gofmt (run make fmt):"; echo "$$out"; exit 1; fi

# What `make generate manifests` writes, which `make verify` checks.
GENERATED := nucleus/generated apis api config/crd config/webhook config/rbac charts/apps/templates/crds

.PHONY: verify
verify: generate manifests ## Regenerate everything and fail if the result differs from what is checked in.
	$(call step,"Checking generated files are current")
	@git diff --exit-code -- $(GENERATED) || { \
		echo 'Generated files are out of date: run `make generate manifests` and commit the result.'; exit 1; }
	@test -z "$$(git status --porcelain -- $(GENERATED))" || { \
		git status --porcelain -- $(GENERATED); \
		echo 'Generated files are not committed: run `make generate manifests` and commit the result.'; exit 1; }

##@ Build

# The binaries are file targets that always run go build: Go knows what
# changed and relinks only then, but it touches an up-to-date binary.
# go-build puts the old time stamp back when the build ID did not change, so
# that rules on bin/ files (the image archives) run only when a binary
# changed, and a second `make up` costs a few cached go builds.
define go-build
	@echo '$(GO) build $(1) -o $(2) $(3)'
	@id=$$($(GO) tool buildid $(2) 2>/dev/null || true); stamp=$$(stat -c %y $(2) 2>/dev/null || true); \
		$(GO) build $(1) -o $(2) $(3) && \
		if [ -n "$$id" ] && [ "$$id" = "$$($(GO) tool buildid $(2))" ]; then touch -d "$$stamp" $(2); fi
endef

.PHONY: FORCE
FORCE:

.PHONY: build
build: $(BIN)/strata ## Build bin/strata.

$(BIN)/strata: FORCE
	$(call step,"Building bin/strata $(VERSION)")
	$(call go-build,-ldflags "$(LDFLAGS)",$@,./cmd/strata)

.PHONY: kubectl
kubectl: $(BIN)/kubectl ## Build upstream kubectl into bin/kubectl.

$(BIN)/kubectl: FORCE
	$(call step,"Building bin/kubectl $(KUBECTL_VERSION)")
	$(call go-build,-ldflags "$(KUBECTL_LDFLAGS)",$@,./hack/tools/kubectl)

.PHONY: helm
helm: $(BIN)/helm ## Build upstream helm into bin/helm.

$(BIN)/helm: FORCE
	$(call step,"Building bin/helm $(HELM_VERSION)")
	$(call go-build,-ldflags "$(HELM_LDFLAGS)",$@,./hack/tools/helm)

# CoreDNS is upstream's, from the github.com/coredns/coredns module that
# hack/tools/coredns/go.mod pins: its own module, so that CoreDNS's
# dependencies do not move the main module's. charts/dns runs it.
.PHONY: coredns
coredns: $(BIN)/coredns ## Build upstream CoreDNS with the cluster DNS plugins into bin/coredns (static).

$(BIN)/coredns: FORCE
	$(call step,"Building bin/coredns")
	$(call go-build,-C hack/tools/coredns -trimpath -ldflags "-s -w",$@,.)

.PHONY: tools
tools: ## Build the code generators (openapi-gen, controller-gen pinned in go.mod; hack/tools/crdfix, hack/tools/chartcrds) into bin/.
	$(call step,"Building code generators into bin/")
	$(GO) build -o $(BIN)/openapi-gen k8s.io/kube-openapi/cmd/openapi-gen
	$(GO) build -o $(BIN)/controller-gen sigs.k8s.io/controller-tools/cmd/controller-gen
	$(GO) build -o $(BIN)/crdfix ./hack/tools/crdfix
	$(GO) build -o $(BIN)/chartcrds ./hack/tools/chartcrds

.PHONY: kubebuilder
kubebuilder: ## Build kubebuilder (a go tool pinned in go.mod) into bin/, for scaffolding new layers (docs/write-your-own-layer.md).
	$(call step,"Building bin/kubebuilder")
	$(GO) build -o $(BIN)/kubebuilder sigs.k8s.io/kubebuilder/v4

# Images are OCI archives in bin/images, built without Docker by
# hack/tools/images from static binaries (docs/images.md). They are file
# targets: rebuilt when a binary inside or the image builder changed.
IMAGES_DIR := $(BIN)/images
IMAGE_ARCHIVES := $(addprefix $(IMAGES_DIR)/,pause.tar busybox.tar strata.tar coredns.tar)
IMAGES_SOURCES := $(shell find images hack/tools/images -name '*.go' -not -name '*_test.go') go.mod
BUSYBOX ?= /bin/busybox

.PHONY: images
images: deps $(IMAGE_ARCHIVES) ## Build OCI image archives into bin/images without Docker: strata.local/strata:<version> (of bin/strata), strata.local/pause:3.10, strata.local/busybox:<busybox version>, strata.local/coredns:<coredns version> (of bin/coredns).

$(IMAGES_DIR)/pause: FORCE
	$(call step,"Building the pause binary")
	$(call go-build,-trimpath -ldflags "-s -w",$@,./hack/tools/pause)

# One run writes every archive (a grouped target). The busybox archive
# needs busybox-static, which `deps` installs first.
$(IMAGE_ARCHIVES) &: $(BIN)/strata $(BIN)/coredns $(IMAGES_DIR)/pause $(IMAGES_SOURCES) | deps
	$(call step,"Building the image archives into $(IMAGES_DIR)")
	$(GO) run ./hack/tools/images --out $(IMAGES_DIR) --version $(VERSION) \
		--strata $(BIN)/strata --pause $(IMAGES_DIR)/pause --busybox $(BUSYBOX) --coredns $(BIN)/coredns
	@touch $(IMAGE_ARCHIVES)

.PHONY: deps
deps: ## Install the Debian packages the real kubelet needs when missing: containerd, runc, CNI plugins, iptables, busybox-static (root).
	hack/install-deps.sh

.PHONY: helm-lint
helm-lint: helm ## Lint the Helm charts in charts/ with bin/helm (--strict).
	$(call step,"Linting the Helm charts")
	$(BIN)/helm lint --strict $(dir $(wildcard charts/*/Chart.yaml))

##@ Run

.PHONY: up
up: deps build images kubectl helm ## Install what is missing, build what changed, and start (or resume) a one-machine cluster in .data with its layers: containerd, the nucleus (port 6443), the kubelet, the service proxy, then charts/apps and charts/dns as Helm releases (`strata up`).
	$(call step,"Starting Strata (strata up)")
	$(BIN)/strata up --data-dir $(DATA_DIR) --secure-port $(SECURE_PORT) --charts-dir charts $(UP_FLAGS)

.PHONY: down
down: ## Stop the cluster of `make up`; its data and containers stay, `make up` resumes it.
	$(BIN)/strata down --data-dir $(DATA_DIR)

.PHONY: reset
reset: ## Stop the cluster of `make up` and remove its containers and data.
	$(BIN)/strata reset --data-dir $(DATA_DIR)

KUBECONFIG_UP := $(CURDIR)/$(DATA_DIR)/admin.kubeconfig
WEBHOOK_PORT ?= 9443

.PHONY: install
install: kubectl ## Install the CRDs of config/crd/bases into the nucleus of `make up`.
	$(call step,"Installing the CRDs into the cluster of $(KUBECONFIG_UP)")
	$(BIN)/kubectl --kubeconfig $(KUBECONFIG_UP) apply --server-side -f config/crd/bases

.PHONY: uninstall
uninstall: kubectl ## Remove the CRDs (and every object of their kinds) and the layers' webhook configurations.
	$(BIN)/kubectl --kubeconfig $(KUBECONFIG_UP) delete --ignore-not-found -f config/crd/bases
	$(BIN)/kubectl --kubeconfig $(KUBECONFIG_UP) delete --ignore-not-found mutatingwebhookconfiguration,validatingwebhookconfiguration strata-apps
	$(BIN)/kubectl --kubeconfig $(KUBECONFIG_UP) delete --ignore-not-found mutatingwebhookconfiguration,validatingwebhookconfiguration -l strata.io/layer

# The layers `make run` runs: Strata's (apps) and those scaffolded with
# kubebuilder, which cmd/main.go names after their groups.
LAYERS ?= apps

.PHONY: run
run: install ## Run the manager of LAYERS (default apps; e.g. LAYERS=apps,example) from outside the cluster of `make up` (go run ./cmd), webhooks on 127.0.0.1:9443 (WEBHOOK_PORT).
	$(call step,"Running the manager of $(LAYERS) (go run ./cmd); stop it with Ctrl-C")
	$(GO) run ./cmd --layers $(LAYERS) --kubeconfig $(KUBECONFIG_UP) \
		--webhook-host 127.0.0.1 --webhook-port $(WEBHOOK_PORT) --webhook-url https://127.0.0.1:$(WEBHOOK_PORT) \
		--metrics-bind-address 127.0.0.1:8080 --health-probe-bind-address 127.0.0.1:8081

.PHONY: simulate
simulate: build ## Run 3 simulated nodes for the cluster of `make up`.
	$(BIN)/strata kubelet --simulate 3 --kubeconfig $(KUBECONFIG_UP)

##@ Test

.PHONY: test
test: deps build images kubectl helm test-unit test-integration test-kubebuilder test-e2e ## Run the whole suite: unit, integration, kubebuilder, end-to-end.
	$(call step,"All tests passed")

.PHONY: test-unit
test-unit: ## Run the unit tests.
	$(call step,"Running unit tests")
	$(GO) test $(TEST_FLAGS) $(UNIT_PKGS)

.PHONY: test-integration
test-integration: coredns ## Run the integration tests against an in-process nucleus (and bin/coredns, the cluster DNS).
	$(call step,"Running integration tests")
	COREDNS_BIN=$(BIN)/coredns $(GO) test $(TEST_FLAGS) -timeout 20m ./test/integration/...

# The page runs in $TMPDIR/strata-kubebuilder, a path kept from run to
# run so that Go's build cache serves its packages after the first run.
.PHONY: test-kubebuilder
test-kubebuilder: ## Check PROJECT with kubebuilder, and run docs/write-your-own-layer.md with the real bin/kubebuilder in a copy of the repository.
	$(call step,"Running docs/write-your-own-layer.md in a scratch copy (test/kubebuilder)")
	$(GO) test $(TEST_FLAGS) -count=1 -timeout 30m -v ./test/kubebuilder/...

.PHONY: test-e2e
test-e2e: build images kubectl helm ## Run the end-to-end tests: bin/strata, bin/kubectl and bin/helm, driven as a person would, with pods in a real containerd.
	$(call step,"Running end-to-end tests")
	STRATA_BIN=$(BIN)/strata KUBECTL_BIN=$(BIN)/kubectl HELM_BIN=$(BIN)/helm STRATA_IMAGES_DIR=$(IMAGES_DIR) STRATA_E2E_CONTAINERD=require $(GO) test $(TEST_FLAGS) -count=1 -timeout 25m -v ./test/e2e/...

.PHONY: bench
bench: images ## Run the benchmarks (hack/bench); the kubelet phase runs containers and the proxy phase network namespaces (root, `make deps`); they skip themselves otherwise.
	$(call step,"Running benchmarks")
	$(GO) run ./hack/bench

.PHONY: clean
clean: ## Remove bin/ and the data of `make up`.
	rm -rf $(BIN) $(DATA_DIR)
