# Deploy checks (included by the Makefile): the image, the Helm values and the Terraform.
#
# checkov lives in its own virtualenv because it pins an old boto3 that breaks the Amazon provider
# installed in .venv. The stamp file names the version, so bumping CHECKOV_VERSION reinstalls.
CHECKOV_VERSION ?= 3.3.30
CHECKOV_VENV ?= .venv-checkov
CHECKOV := $(CHECKOV_VENV)/bin/checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-checkov-$(CHECKOV_VERSION)
# No network calls from checkov (it would otherwise try to fetch guidelines and mappings).
CHECKOV_ENV := BC_SKIP_MAPPING=TRUE CHECKOV_NO_OUTPUT_TRUNCATE=1 LOG_LEVEL=WARNING

.PHONY: checkov-venv checkov tf-fmt deploy-check

$(CHECKOV_STAMP):
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check "checkov==$(CHECKOV_VERSION)"
	@rm -f $(CHECKOV_VENV)/.installed-checkov-*; touch $@

checkov-venv: $(CHECKOV_STAMP) ## checkov in its own virtualenv (.venv-checkov), apart from the Amazon provider's boto3

checkov: checkov-venv ## static security scan of terraform/ and the Dockerfile (every skip is commented next to its resource)
	$(CHECKOV_ENV) $(CHECKOV) --quiet --compact --skip-download --framework terraform -d terraform
	$(CHECKOV_ENV) $(CHECKOV) --quiet --compact --skip-download --framework dockerfile -f Dockerfile

tf-fmt: ## terraform fmt -check over terraform/ (no providers needed)
	terraform fmt -check -recursive -diff terraform

deploy-check: venv checkov-venv ## deploy checks: terraform fmt, Helm/Terraform/Dockerfile structure tests, checkov
	$(PY) -m pytest -q tests/deploy $(PYTEST_ARGS)
