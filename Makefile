# The two commands are `make run` and `make test`; `make help` lists the rest.
# Both start an embedded PostgreSQL and Valkey unless DATABASE_URL / REDIS_URL are set (README).

.DEFAULT_GOAL := help
.PHONY: help venv run test shell manage lint bench chromium vendor vendor-sortablejs vendor-chartjs vendor-elkjs docs clean clean-data

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEVSTACK := $(PY) -m config.devstack

help: ## list the targets
	@echo "Usage: make TARGET   (pytest arguments: make test ARGS='-k audiences -x')"
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-11s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

venv: $(STAMP) ## create .venv and install the project (again only when pyproject.toml changes)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

run: $(STAMP) ## serve the admin on 127.0.0.1, port PORT (default 8000), with a worker and the tick
	$(DEVSTACK) run

test: $(STAMP) chromium ## the whole pytest suite against real PostgreSQL and Valkey
	$(DEVSTACK) test $(ARGS) || { code=$$?; [ $$code -eq 5 ] && echo "(no tests collected)" || exit $$code; }

shell: $(STAMP) ## manage.py shell on the data of make run (its servers when it is up)
	$(DEVSTACK) shell

manage: $(STAMP) ## manage.py ARGS on the data of make run: make manage ARGS='drf_create_token admin'
	$(DEVSTACK) manage -- $(ARGS)

lint: $(STAMP) ## ruff check and ruff format --check (C90 complexity <= 10)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(STAMP) ## run every bench/*.py that has a main, each against its own migrated stack
	@found=0; for script in bench/*.py; do \
	  [ -f "$$script" ] && grep -q '__name__ == "__main__"' "$$script" || continue; \
	  found=1; echo "== $$script"; \
	  $(DEVSTACK) exec --data-dir .devdata/bench --migrate -- $(PY) "$$script" || exit $$?; \
	done; [ $$found = 1 ] || echo "No benchmarks in bench/ yet."

# Front-end libraries (static/VENDOR.md): pinned npm packages whose built files are committed, so
# neither CI nor `make run` ever needs npm or the network. `make vendor` fetches them again at the
# pinned versions into a temporary folder and checks the copies against the committed SHA256SUMS.
# $(call npm_vendor,package,version,folder,files in the package): npm pack, copy, check the sums
define npm_vendor
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  npm pack --silent --pack-destination "$$tmp" $(1)@$(2) >/dev/null && \
	  tar -xzf "$$tmp"/*.tgz -C "$$tmp" && mkdir -p $(3) && \
	  for f in $(4); do cp "$$tmp/package/$$f" $(3)/; done && \
	  cd $(3) && sha256sum -c --quiet SHA256SUMS && echo "$(1) $(2): ok"
endef

vendor: vendor-sortablejs vendor-chartjs vendor-elkjs ## fetch the pinned front-end libraries again from the npm registry (static/VENDOR.md)

vendor-sortablejs:
	$(call npm_vendor,sortablejs,1.15.7,audiences/static/audiences/vendor/sortablejs,Sortable.min.js LICENSE)

vendor-chartjs:
	$(call npm_vendor,chart.js,4.5.1,channels/static/channels/vendor/chartjs,dist/chart.umd.min.js LICENSE.md)

vendor-elkjs:
	$(call npm_vendor,elkjs,0.12.1,campaigns/static/campaigns/vendor/elkjs,lib/elk.bundled.js LICENSE.md)

docs: $(STAMP) ## write the generated parts of docs/ (the activities' options, from their schemas)
	$(DEVSTACK) exec --data-dir .devdata/test -- $(PY) manage.py build_docs

chromium: ## install Debian's Chromium for the browser tests when it is missing
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "hint: the browser tests need Chromium: sudo apt-get install chromium"; fi; }

clean: ## remove caches and the test and bench data (keeps .venv and the data of make run)
	if [ -x $(PY) ]; then for d in .devdata/test .devdata/bench; do \
	  $(DEVSTACK) clean --data-dir $$d; done; fi
	rm -rf .ruff_cache .pytest_cache test-artifacts bench/out
	find . -path ./.venv -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

clean-data: clean ## also remove the data of make run (database, admin password, secret key)
	if [ -x $(PY) ]; then $(DEVSTACK) clean --data-dir .devdata; fi
