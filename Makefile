# make run: serve the app on http://127.0.0.1:5000 · make test: the whole test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
LANGS := fr nl en de

.PHONY: run test deploy-test venv catalogs extract-messages update-catalogs lint worker bench clean vnu

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/activate requirements.txt requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

instance/secret_key:
	mkdir -p instance
	$(BIN)/python -c "import secrets; print(secrets.token_urlsafe(48))" > $@
	chmod 600 $@

# Compiled catalogs are built, not committed.
catalogs: venv
	$(BIN)/pybabel compile -d translations -f > /dev/null

extract-messages: venv
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output -w 120 \
		-o translations/messages.pot . > /dev/null

update-catalogs: extract-messages
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching -w 120

run: venv instance/secret_key catalogs
	$(FLASK) init-db
	$(FLASK) seed-demo
	@echo "Emails are written to instance/mail/."
	@# plain http on loopback; emails go out after each request, so /healthz expects no worker
	WORKER_HEARTBEAT_MAX_SECONDS=0 SESSION_COOKIE_SECURE=false $(FLASK) run --host 127.0.0.1 --port 5000

worker: venv instance/secret_key
	$(FLASK) worker

# The Nu HTML Checker for tests/test_html_validity.py: npm's vnu-jar (a Java 17 program) in .vnu/
VNU_VERSION := 26.9.27
vnu: .vnu/node_modules/vnu-jar/build/dist/vnu.jar
.vnu/node_modules/vnu-jar/build/dist/vnu.jar:
	npm install --silent --no-audit --no-fund --ignore-scripts --prefix .vnu vnu-jar@$(VNU_VERSION)

test: venv catalogs vnu
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# deploy/install.sh tried on this machine behind nginx (root, nginx; a few minutes); see tests/deployment.
deploy-test: venv
	$(BIN)/python -m pytest tests/deployment -p no:cacheprovider $(PYTEST_ARGS)

# ruff, and bandit failing on any finding of high severity
lint: venv
	$(BIN)/ruff check .
	$(BIN)/bandit -q -r booking config.py wsgi.py --severity-level high

# make bench [BENCH_ARGS="--quick --workers 4"]: needs Debian's wrk (installed here when missing, as root)
bench: venv catalogs
	@command -v wrk >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
