# opsdesk: `make demo` runs the app on embedded defaults, `make test` runs the test suite.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
RUN := var/run
# Links in the demo's emails and Twilio callbacks point at the port it serves on.
export SITE_URL ?= http://127.0.0.1:$(PORT)

.PHONY: demo test install lint fmt compose-check clean stop

$(BIN)/python:
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv || true
	@if command -v uv >/dev/null 2>&1; then uv venv --quiet --python $(PYTHON) $(VENV); \
	 else $(PYTHON) -m venv $(VENV); fi

install: $(BIN)/python
	@if command -v uv >/dev/null 2>&1; then VIRTUAL_ENV=$(VENV) uv pip install --quiet -e ".[dev]"; \
	 else $(BIN)/pip install --quiet -e ".[dev]"; fi

# The demo: SQLite file in var/, Celery on the filesystem broker, email to files in var/mail/, texts to var/worker.log.
# OPSDESK_DEMO_TRAFFIC: beat's demo storefront keeps the demo stores' shoppers coming (set here only).
demo: export OPSDESK_DEMO_TRAFFIC := 1
demo: install
	@mkdir -p $(RUN)
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py setup_schedules
	@$(MAKE) --no-print-directory stop
	$(BIN)/celery -A opsdesk worker --loglevel=INFO --concurrency=2 --pidfile=$(RUN)/worker.pid --logfile=var/worker.log --detach
	$(BIN)/celery -A opsdesk beat --loglevel=INFO --pidfile=$(RUN)/beat.pid --logfile=var/beat.log --detach
	@echo
	@echo "  opsdesk demo:  http://127.0.0.1:$(PORT)/"
	@echo "  log in as operator 'olivia' or manager 'marco', password 'opsdesk-demo-2026'"
	@echo "  (worker + beat run in the background: var/*.log; 'make stop' ends them)"
	@echo
	DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

stop:
	@for p in $(RUN)/worker.pid $(RUN)/beat.pid; do \
	  if [ -f $$p ]; then kill $$(cat $$p) 2>/dev/null || true; rm -f $$p; fi; done

# Tests: Postgres and Redis when DATABASE_URL / REDIS_URL are set (CI sets both), SQLite otherwise.
# Bytecode is cached (in var/pycache) even where PYTHONDONTWRITEBYTECODE is set, as in the Dockerfile: else each
# of the run's ~22 Celery workers compiles Django, Celery and the app from source again (4.2 s of CPU to start
# a worker instead of 1.4 s, 27 Nov).
# The tests run in one process more than the machine has cores (pytest-xdist; each its own test database, queue
# and cache keys): much of a test's time is waiting on a worker, a browser or Postgres. On two cores, 29 Nov:
# 14 min 9 s in one process, 8 min 58 s in two, 7 min 43 s in three. TEST_PROCESSES=0 runs them in this one.
# Each test file runs whole on one process (--dist loadfile), so a file's shared seed (a module-scoped fixture,
# e.g. the URL sweep's demo world) is made once, not once a process and again each time the file's tests resume
# after another's (29 Nov: seeded six times in a run). Files are small enough to balance: the last run's file times
# packed this way end within 1 % of an even split. (loadgroup would be finer; it groups nothing on pytest 9.2.)
TEST_PROCESSES ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) + 1 )))
test: export PYTHONDONTWRITEBYTECODE =
test: export PYTHONPYCACHEPREFIX = $(CURDIR)/var/pycache
test: install
	$(BIN)/ruff check .
	$(BIN)/python manage.py makemigrations --check --dry-run -v0
	CELERY_QUEUE=opsdesk-test-$$$$ $(BIN)/pytest -n $(TEST_PROCESSES) --dist loadfile $(PYTEST_ARGS)

# The code is laid out by hand (ruff's formatter is not used): lint is ruff's checks.
lint: install
	$(BIN)/ruff check .

fmt: install
	$(BIN)/ruff check --fix .

compose-check: install
	$(BIN)/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml

clean: stop
	rm -rf var staticfiles test-artifacts
