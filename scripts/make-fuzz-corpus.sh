#!/usr/bin/env bash
# Generates the seed corpus of the fuzzers and the inputs of the native tests and the
# mutation run: tiny clips in several containers and codecs, single images, and one input
# of each failed-open kind. Deterministic; a few seconds. Usage: make-fuzz-corpus.sh [DIR]
# (default test/.fixtures/fuzz-corpus; video/ and images/ seed the two fuzzers, bad/ holds
# the failed opens).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-test/.fixtures/fuzz-corpus}"
[ -f "$out/.done" ] && exit 0
ff=$(node -p "require('@ffmpeg-installer/ffmpeg').path")
mkdir -p "$out/video" "$out/images" "$out/bad"
src=(-f lavfi -i "testsrc2=size=96x64:rate=10" -t 0.6)
enc() { "$ff" -hide_banner -loglevel error -nostdin -y "${src[@]}" "$@"; }
enc -c:v libx264 -g 3 -bf 1 -pix_fmt yuv420p "$out/video/h264.mp4"
enc -c:v libx264 -g 3 -pix_fmt yuv420p -f mpegts "$out/video/h264.ts"
enc -c:v libx265 -x265-params log-level=none:keyint=3 -pix_fmt yuv420p10le "$out/video/hevc10.mkv"
enc -c:v libvpx-vp9 -g 3 -deadline realtime -cpu-used 8 "$out/video/vp9.webm"
enc -c:v mpeg4 -g 3 "$out/video/mpeg4.avi"
enc -c:v mjpeg -q:v 8 "$out/video/mjpeg.mov"
"$ff" -hide_banner -loglevel error -nostdin -y -i "$out/video/h264.mp4" -c copy -metadata:s:v:0 rotate=90 -f mov "$out/video/rotated.mov"
"$ff" -hide_banner -loglevel error -nostdin -y -f lavfi -i "testsrc2=size=80x60" -frames:v 1 -q:v 5 "$out/images/a.jpg"
"$ff" -hide_banner -loglevel error -nostdin -y -f lavfi -i "testsrc2=size=80x60" -frames:v 1 "$out/images/b.png"
"$ff" -hide_banner -loglevel error -nostdin -y -f lavfi -i "testsrc2=size=81x61" -frames:v 1 -pix_fmt gray "$out/images/c.png"
# Failed opens, one per kind: no video stream, not a media file, absurd declared size,
# unknown codec, a file cut inside its header, an empty file.
"$ff" -hide_banner -loglevel error -nostdin -y -f lavfi -i "sine=frequency=440:duration=0.3" "$out/bad/audio-only.wav"
printf 'this is plain text, not a video\n%.0s' $(seq 20) > "$out/bad/not-video.mp4"
{ printf 'YUV4MPEG2 W16000 H16000 F30:1 Ip A1:1 C420jpeg\nFRAME\n'; head -c 4096 /dev/zero; } > "$out/bad/absurd.y4m"
enc -c:v libx264 -g 3 -pix_fmt yuv420p -f matroska "$out/bad/unsupported.mkv"
python3 - "$out/bad/unsupported.mkv" <<'PY'
import sys
p = sys.argv[1]; d = open(p, 'rb').read()
at = d.index(b'V_MPEG4/ISO/AVC')
open(p, 'wb').write(d[:at] + b'V_FRAMESIFT_XYZ' + d[at + 15:])
PY
head -c 300 "$out/video/h264.mp4" > "$out/bad/cut-header.mp4"
: > "$out/bad/empty.mp4"
touch "$out/.done"
