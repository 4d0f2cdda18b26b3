# The doors everyone uses. See README.md.
SHELL := /bin/bash
CARGO ?= cargo
TERRAFORM ?= $(if $(TF_ACC_TERRAFORM_PATH),$(TF_ACC_TERRAFORM_PATH),$(CURDIR)/.tools/bin/terraform)
export TF_ACC_TERRAFORM_PATH := $(TERRAFORM)

.PHONY: all build tools demo local test lint fmt docs bench clean-demo

all: build

build:
	$(CARGO) build --bins

## tools: install Terraform 1.15.5 into .tools/ (unless TF_ACC_TERRAFORM_PATH names one)
tools:
	@bash scripts/install-terraform.sh

## demo: build, start dbaas-local, terraform apply examples/quickstart, print the outputs, stop the service
demo: tools build
	@bash scripts/demo.sh

## local: run dbaas-local in the foreground (data in .demo/local-data)
local: build
	./target/debug/dbaas-local --data-dir .demo/local-data

## test: unit, protocol and end-to-end tests (end-to-end tests drive the real Terraform)
test: tools
	$(CARGO) test --all-targets

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

clean-demo:
	rm -rf .demo
