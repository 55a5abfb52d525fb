"""Tokens a second of the `cpu` preset's translator LLM at 1, 4 and 8 sequences decoded together.

    python benchmarks/llm_parallel.py [--parallel 1 4 8] [--sentences 16] [--to es]

llama.cpp's server decodes its busy slots in one batch: on a memory-bound CPU a step for several
sequences costs little more than a step for one, since the weights are read once per step. This
loads the preset's GGUF model into a server with ``n_parallel`` slots, sends the same English
sentences (from ../shared/data's references) from as many threads at once, and prints, per slot
count: wall seconds, completion tokens, tokens a second over the wall time, and seconds a
sentence. Each request is the translator's system message (``_SYSTEM``) and the bare sentence;
sampling is greedy, so each slot count should write the same answers (how many differ from the
single slot's is printed).
"""
from __future__ import annotations

import argparse
import os
import platform
import queue
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from faithfulness import DATA, sentences  # noqa: E402

from dubkit.languages import language_name  # noqa: E402
from dubkit.models import resolve_model  # noqa: E402
from dubkit.translate.llm import _SYSTEM, LlamaCppTranslator, server_params  # noqa: E402


def server(model: Path, slots: int, n_ctx: int, threads: int):
    import xllamacpp as xlc

    return xlc.Server(server_params(model, n_ctx, threads, slots))


def run(engine, texts: list[str], slots: int, target: str) -> tuple[float, int, list[str]]:
    """Wall seconds, completion tokens and answers for ``texts`` sent from ``slots`` threads."""
    work: queue.Queue[tuple[int, str]] = queue.Queue()
    for item in enumerate(texts):
        work.put(item)
    answers = [""] * len(texts)
    tokens = [0] * len(texts)
    system = _SYSTEM.format(src="English", tgt=language_name(target))

    def worker() -> None:
        while True:
            try:
                i, text = work.get_nowait()
            except queue.Empty:
                return
            reply = engine.handle_chat_completions({
                "messages": [{"role": "system", "content": system},
                             {"role": "user", "content": text}],
                "max_tokens": 128, "temperature": 0.0, "top_k": 1, "cache_prompt": True})
            answers[i] = reply["choices"][0]["message"].get("content") or ""
            tokens[i] = int(reply.get("usage", {}).get("completion_tokens", 0))

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(slots)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started, sum(tokens), answers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parallel", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--sentences", type=int, default=16)
    parser.add_argument("--to", default="es")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"shared recordings not found at {DATA}", file=sys.stderr)
        return 1
    texts = [s for _, lang, s in sentences(DATA) if lang == "en"][:args.sentences]
    model = LlamaCppTranslator(resolve_model("qwen2.5-1.5b-instruct").path).path
    threads = len(os.sched_getaffinity(0))
    print(f"machine: {platform.machine()}, {threads} cores, load {os.getloadavg()[0]:.1f}; "
          f"{len(texts)} sentences into {args.to}; {model.name}")
    rows, first = [], None
    for slots in args.parallel:
        engine = server(model, slots, 1024, threads)
        run(engine, texts[:1], 1, args.to)  # warm up: page the weights in
        wall, tokens, answers = run(engine, texts, slots, args.to)
        same = "" if first is None else f", {sum(a != b for a, b in zip(answers, first))} " \
            "answers differ from 1 slot's"
        first = first or answers
        rows.append((slots, wall, tokens))
        print(f"{slots} slots: {wall:6.1f} s, {tokens} tokens, {tokens / wall:5.1f} tokens/s, "
              f"{wall / len(texts):4.2f} s a sentence{same}", flush=True)
        del engine
    print("\n| sequences at once | wall s | tokens | tokens / s | s a sentence |")
    print("|---:|---:|---:|---:|---:|")
    for slots, wall, tokens in rows:
        print(f"| {slots} | {wall:.1f} | {tokens} | {tokens / wall:.1f} "
              f"| {wall / len(texts):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
