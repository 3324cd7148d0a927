# Quick start:  make run   (set up everything, start http://127.0.0.1:7860)
#               make test  (set up everything, run the whole test suite)
PY := .venv/bin/python
export HF_HUB_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: setup setup-test run test train-emotion eval-emotion train-crisis eval-safety train-lora eval-lora eval-topics bench bench-browser

setup:
	bash scripts/setup.sh run

setup-test:
	bash scripts/setup.sh test

run: setup
	$(PY) app.py $(ARGS)

test: setup-test
	$(PY) -m pytest $(PYTEST_ARGS)

train-emotion: setup
	$(PY) scripts/train_text_emotion.py

eval-emotion: setup
	$(PY) scripts/eval_text_emotion.py

train-crisis: setup
	$(PY) scripts/train_crisis.py

eval-safety: setup
	$(PY) scripts/eval_safety.py

train-lora: setup
	$(PY) scripts/train_lora.py

eval-lora: setup
	$(PY) scripts/eval_lora.py

eval-topics: setup
	$(PY) scripts/eval_topic_switch.py --own-replies

bench: setup
	$(PY) scripts/bench_latency.py

bench-browser: setup-test
	$(PY) scripts/bench_browser.py
