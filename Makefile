PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SHARED := $(abspath ../shared)
# tiktoken downloads its BPE files at first use; these machines are offline.
export TIKTOKEN_CACHE_DIR := $(if $(wildcard $(SHARED)/tiktoken_cache),$(SHARED)/tiktoken_cache,$(TIKTOKEN_CACHE_DIR))

.PHONY: demo test lint bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	@# UserWarning off: setuptools' 8-line "Editable installation" notice. A file left out of the wheel is
	@# caught by tests/test_packaging.py, which builds the real (non-editable) wheel.
	PYTHONWARNINGS=ignore::UserWarning $(BIN)/pip install -q -e '.[dev]'
	touch $@

## make demo: the 10-paper sample day, offline, no key, no LLM
demo: $(BIN)/.installed
	$(BIN)/paper-digest run --date 2026-02-13 --source samples/hf_daily_papers_2026-02-13.json \
		--no-llm --out outputs --cache-dir outputs/.cache --report outputs/demo-report.json
	@echo "draft: outputs/drafts/2026-02-13-hf-daily-papers.md"

## make test: the whole suite, offline (cassettes replay with record mode none)
test: $(BIN)/.installed
	$(BIN)/pytest -q --record-mode=none --block-network --allowed-hosts=127.0.0.1,localhost

## make lint: ruff, and mypy --strict (pyproject.toml lists its few exceptions, with reasons)
lint: $(BIN)/.installed
	$(BIN)/ruff check agent tests scripts bench
	$(BIN)/mypy agent scripts bench

bench: $(BIN)/.installed
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) outputs/drafts outputs/_posts outputs/.cache
