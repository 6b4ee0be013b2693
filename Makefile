# The two commands of the README:
#   make demo   set up and run the demo console on http://127.0.0.1:8000
#   make test   set up and run the whole test suite (PostgreSQL and the browser tests included)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test setup postgres chromium tesseract screenshots bench bench-detection model-card clean

$(STAMP): pyproject.toml setup.py warding/matching/_kernel.c
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dask]'
	touch $(STAMP)

setup: $(STAMP) tesseract

demo: $(STAMP) tesseract
	$(BIN)/warding demo

postgres:
	@bash scripts/ensure-postgres.sh

chromium:
	@bash scripts/ensure-chromium.sh

# Tesseract's script models and language packs (Debian) for text in images (docs/ocr.md).
tesseract:
	@bash scripts/ensure-tesseract.sh

test: $(STAMP) postgres chromium tesseract
	$(BIN)/python -m pytest

# Pictures of the console for docs/console.md, taken by the browser tests.
screenshots: $(STAMP) chromium
	WARDING_SCREENSHOTS=docs/console $(BIN)/python -m pytest -q tests/test_browser.py tests/test_browser_legal.py tests/test_browser_incidents.py tests/test_browser_ocr.py

clean:
	rm -rf $(VENV) warding.db warding.db-* warding-data .pytest_cache

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

# The analysis example (docs/analytics.md): scan the public tweets data set into a
# throw-away database and write docs/analysis-example.md with its charts.
SHARED_DATA ?= $(or $(WARDING_SHARED_DATA_DIR),../shared/data)
ANALYSIS    := build/analysis
WA          := $(BIN)/warding --db sqlite:///$(ANALYSIS)/warding.db --data-dir $(ANALYSIS)/data

.PHONY: analysis
analysis: $(STAMP)
	rm -rf $(ANALYSIS)
	mkdir -p $(ANALYSIS)
	$(WA) init
	$(WA) scan $(SHARED_DATA)/tvec_tweets/posts.jsonl --source twitter
	$(WA) stats event add 2015-11-13 "Paris attacks"
	$(WA) stats event add 2016-02-05 "Twitter: 125,000 accounts suspended since mid-2015"
	$(WA) stats event add 2016-03-22 "Brussels bombings"
	$(WA) stats report --out docs/analysis-example.md --split-by label --inactive-days 30 \
	  --title "Analysis example: the tvec_tweets data set" --command "make analysis" \
	  --note "Data: ../shared/data/tvec_tweets/posts.jsonl (its train/dev part), scanned with --source twitter. The account group is the data set's own label field: pro_isis = every tweet of hand-picked pro-ISIS accounts (Kaggle 'How ISIS Uses Twitter', mostly 2016); discussion = tweets found by a terrorism-hashtag search over one week in May 2020. The groups were collected in different ways and years: compare their shapes, not their sizes." \
	  --note "Most twitter.com outlinks of the pro_isis group are the placeholder twitter.com/account/suspended that the source data put in place of links to suspended accounts (see the data set's README); the short-link services here are all t.co, the wrapper Twitter puts on every link." \
	  --note "No item was reviewed and no URL re-checked for this example, so item survival has no events; account survival uses the activity proxy described below."

.PHONY: bench-analytics
bench-analytics: $(STAMP)
	$(BIN)/python -m benchmarks.analytics

# Scans and matching on Dask (issue 18): scan --dask with 2 workers against the single-process
# scan, sharded matching against one index; writes the dask section of docs/benchmarks.md.
.PHONY: bench-dask
bench-dask: $(STAMP) postgres
	$(BIN)/python -m benchmarks.dask_run

.PHONY: bench-intake
bench-intake: $(STAMP) postgres
	$(BIN)/python -m benchmarks.intake

.PHONY: bench-detection model-card
bench-detection: $(STAMP)
	$(BIN)/python -m benchmarks.detection

model-card: $(STAMP)
	$(BIN)/warding model card

# The long fuzz run (issue 22): every parser, coverage-guided with atheris (hypothesis when
# atheris is missing); FUZZ_CASES is the base number of cases per target (scaled per target,
# see tests/fuzz/run.py: 100000 makes 1,345,000 in all). Figures in docs/benchmarks.md.
FUZZ_CASES ?= 100000
FUZZ_JOBS  ?= 2

.PHONY: fuzz
fuzz: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[fuzz]' || echo "atheris did not install: fuzzing with hypothesis"
	$(BIN)/python -m tests.fuzz.run --cases $(FUZZ_CASES) --jobs $(FUZZ_JOBS) --out build/fuzz \
	  --report docs/benchmarks.md

# Issue 22: lookup latency while uploads are hashed, and a soak of mixed API load against
# a real `warding serve` (SOAK_SECONDS=60 for a short run). Figures in docs/benchmarks.md.
# LATENCY_COMPARE=/path/to/other/.venv/bin/warding adds a before/after row.
SOAK_SECONDS ?= 600
LATENCY_SECONDS ?= 20

.PHONY: bench-latency soak
bench-latency: $(STAMP)
	$(BIN)/python -m benchmarks.latency --seconds $(LATENCY_SECONDS) --docs $(if $(LATENCY_COMPARE),--compare $(LATENCY_COMPARE))

soak: $(STAMP)
	$(BIN)/python -m benchmarks.soak --seconds $(SOAK_SECONDS)
# Incident response (docs/incidents.md): retroactive matching, import to first case, a surge.
# Sizes: BENCH_RETRO_SIZES (stored PDQ signals, comma-separated), BENCH_RETRO_POSTS, ...
.PHONY: bench-incidents
bench-incidents: $(STAMP)
	$(BIN)/python -m benchmarks.incidents
# Video (issue 15): vPDQ recall on copies, a 60-s lookup against 10,000 videos (600,000 frame
# hashes) beside threatexchange's VPDQIndex, hashing speed. Sizes: BENCH_VIDEO_KNOWN,
# BENCH_VIDEO_BANK. Writes its section of docs/benchmarks.md.
.PHONY: bench-video
bench-video: $(STAMP)
	$(BIN)/python -m benchmarks.video --docs

# Text in images (issue 21, docs/ocr.md): CER per language, known texts through images,
# the classifier on image text, images/s. Sizes: BENCH_OCR_PER_LANG, BENCH_OCR_BANK,
# BENCH_OCR_UNRELATED, BENCH_OCR_FAIR_PER_LANG, BENCH_OCR_SPEED_IMAGES.
.PHONY: bench-ocr
bench-ocr: $(STAMP) tesseract
	$(BIN)/python -m benchmarks.ocr

# Issue 16: the approaches tried against the missed detection targets, side by side
# (about 15 minutes; needs ../shared/data). Section of docs/benchmarks.md.
.PHONY: bench-classifier-variants
bench-classifier-variants: $(STAMP)
	$(BIN)/python -m benchmarks.classifier_variants

# Issue 16: a fine-tuned transformer (all-MiniLM-L6-v2) as a second stage on the texts the
# default scores high; installs the optional extra stage2 (PyTorch CPU) first. About 15
# minutes; needs ../shared/data. Section of docs/benchmarks.md.
.PHONY: bench-classifier-stage2
bench-classifier-stage2: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[stage2]'
	$(BIN)/python -m benchmarks.classifier_stage2
