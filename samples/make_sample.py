"""Rebuild samples/jfk.mp4 from the JFK recording in shared/data (see samples/README.md).

Run from the project root: ``python samples/make_sample.py [path/to/jfk.flac]``.
"""
from __future__ import annotations

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SOURCE = os.path.join(HERE, "..", "..", "shared", "data", "en_jfk", "jfk.flac")


def command(ffmpeg: str, source: str, output: str) -> list[str]:
    """The exact ffmpeg command line that makes the sample."""
    return [
        ffmpeg, "-hide_banner", "-v", "error", "-y",
        # a slow zoom into the Mandelbrot set: a moving picture that renders the same every time
        "-f", "lavfi", "-i",
        "mandelbrot=s=640x360:r=5:start_x=-0.75:start_y=0:start_scale=1.5:end_scale=0.6:"
        "end_pts=60,trim=duration=11",
        "-i", source,
        "-map", "0:v:0", "-map", "1:a:0",
        "-c:v", "libx264", "-preset", "veryslow", "-crf", "30", "-pix_fmt", "yuv420p",
        "-g", "50", "-threads", "1",
        "-c:a", "aac", "-b:a", "96k", "-ar", "44100", "-ac", "2",
        "-metadata:s:a:0", "language=eng",
        "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact",
        "-flags:a", "+bitexact",
        "-shortest", "-movflags", "+faststart",
        output,
    ]


def main() -> None:
    source = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_SOURCE
    ffmpeg = os.environ.get("DUBKIT_FFMPEG")
    if not ffmpeg:
        import imageio_ffmpeg

        ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    output = os.path.join(HERE, "jfk.mp4")
    subprocess.run(command(ffmpeg, source, output), check=True)
    print(f"wrote {output} ({os.path.getsize(output) / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
