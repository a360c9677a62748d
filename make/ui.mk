# The Airflow UI and its browser tests (tests/ui) — included by the Makefile.
# The tests drive Debian's `chromium` with Playwright (a dev dependency); no browser is ever downloaded.
.PHONY: browser test-ui ui-screenshots

CHROMIUM ?= /usr/bin/chromium

browser: ## install Debian's chromium for the browser tests (idempotent; for CI before `make test`)
	@if [ -x "$(CHROMIUM)" ]; then \
	  echo "chromium already installed: $(CHROMIUM)"; \
	elif command -v apt-get >/dev/null; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null && \
	  echo "installed $$($(CHROMIUM) --version 2>/dev/null)"; \
	else \
	  echo "no apt-get: install chromium at $(CHROMIUM) yourself (the browser tests skip without it)"; \
	fi

test-ui: venv ## the UI tests only: Data health queries, Airflow's API server + scheduler, headless Chromium
	$(PY) -m pytest -q tests/ui $(PYTEST_ARGS)

ui-screenshots: ## copy the screenshots of the last browser test run (.local/screenshots) to docs/img
	@test -n "$$(ls .local/screenshots/*.png 2>/dev/null)" || { echo "no screenshots yet: run make test-ui"; exit 1; }
	mkdir -p docs/img && cp .local/screenshots/*.png docs/img/ && ls docs/img
