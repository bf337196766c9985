#!/usr/bin/env python3
"""`hitcast features` on music rendered from MIDI, beside librosa.

It writes a corpus of short pieces with known tempo, key, mode and metre (mido), renders them
through a General MIDI soundfont (fluidsynth, fluid-soundfont-gm) and encodes them to MP3, OGG
(Vorbis), Opus and FLAC (ffmpeg). Each piece has a chord progression that states its key with a cadence
(I-IV-V-I or I-vi-IV-V; in minor i-iv-V-i or i-VI-iv-V on the harmonic minor scale, or
i-VI-VII-i or i-iv-VII-i on the natural one), a bass line, a melody
on the scale, and, in most pieces, drums: kick on the downbeat, snare on the backbeats of 4/4
or beats 2 and 3 of 3/4, hi-hat on the eighths.

It measures every file with `hitcast features` (one call, the files in parallel) and with
librosa 0.11: `beat.beat_track` for the tempo, and the mean `chroma_cqt` correlated with the
same Krumhansl-Kessler profiles hitcast uses for the key and mode. librosa has no metre. It
prints, per encoding and in all:

- tempo within 4% of the truth, and within 4% allowing double, half, triple and a third
  (pieces with drums, and all);
- key and mode both right;
- metre right (and what always answering 4 would get);
- loudness against pyloudnorm's BS.1770 (when installed);
- seconds a file on one thread: hitcast's (decoding and analysis; and one file a call, process
  start included), librosa's load-and-analyse;
- with --long, time and peak memory for a 3-minute and a 2-hour MP3, beside ffmpeg decoding
  the same file (the machine's yardstick).

    python3 bench/audio.py [--hitcast target/release/hitcast] [--pieces 48] [--runs 3] [--long]

Needs mido, librosa (pip), fluidsynth, fluid-soundfont-gm, ffmpeg (apt).
"""

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
RATE = 44100
ENCODINGS = {"mp3": ["-c:a", "libmp3lame", "-b:a", "192k"],
             "ogg": ["-c:a", "libvorbis", "-q:a", "5"],
             "opus": ["-c:a", "libopus", "-b:a", "128k"],
             "flac": ["-c:a", "flac"]}

# Krumhansl-Kessler (1982) probe-tone profiles, the ones hitcast-audio's key.rs uses.
MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])

# Scales in semitones and progressions as 0-based scale degrees. A progression that begins and
# ends on the tonic says which of a major key and its relative minor a piece is in (i-VI-III-VII
# and I-V-vi-IV are the same four chords). Half the minor pieces cadence on a major V (harmonic
# minor), half on VII (natural minor, as much pop does).
MAJOR_SCALE = [0, 2, 4, 5, 7, 9, 11]
HARMONIC_MINOR = [0, 2, 3, 5, 7, 8, 11]
NATURAL_MINOR = [0, 2, 3, 5, 7, 8, 10]
MAJOR_PROGRESSIONS = [[0, 3, 4, 0], [0, 5, 3, 4]]  # I-IV-V-I, I-vi-IV-V
HARMONIC_PROGRESSIONS = [[0, 3, 4, 0], [0, 5, 3, 4]]  # i-iv-V-i, i-VI-iv-V
NATURAL_PROGRESSIONS = [[0, 5, 6, 0], [0, 3, 6, 0]]  # i-VI-VII-i, i-iv-VII-i
PROGRAMS = [0, 4, 24, 48, 16, 1]  # piano, e-piano, nylon guitar, strings, organ, bright piano


def piece(seed, seconds):
    """A piece's truth and its MIDI file (mido.MidiFile)."""
    import mido

    rng = random.Random(seed)
    truth = {
        "tempo": round(rng.uniform(70, 170), 1),
        "key": rng.randrange(12),
        "mode": rng.randrange(2),  # 1 major, 0 minor
        "metre": 3 if rng.random() < 0.3 else 4,
        "drums": rng.random() < 0.8,
    }
    tpb = 480
    beats = truth["metre"]
    if truth["mode"]:
        scale, progressions = MAJOR_SCALE, MAJOR_PROGRESSIONS
    elif rng.random() < 0.5:
        scale, progressions = HARMONIC_MINOR, HARMONIC_PROGRESSIONS
    else:
        scale, progressions = NATURAL_MINOR, NATURAL_PROGRESSIONS
    progression = rng.choice(progressions)
    tonic = 48 + truth["key"]  # the octave below middle C
    bars = max(4, int(seconds * truth["tempo"] / 60 / beats))
    program = rng.choice(PROGRAMS)

    mid = mido.MidiFile(ticks_per_beat=tpb)
    meta = mido.MidiTrack()
    meta.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(truth["tempo"])))
    meta.append(mido.MetaMessage("time_signature", numerator=beats, denominator=4))
    mid.tracks.append(meta)

    def track(channel, prog, events):
        """events: (tick, note, velocity, length) -> a track of note on/off pairs."""
        t = mido.MidiTrack()
        if channel != 9:
            t.append(mido.Message("program_change", channel=channel, program=prog))
        timeline = []
        for tick, note, vel, length in events:
            timeline.append((tick, 1, note, vel))
            timeline.append((tick + length, 0, note, 0))
        timeline.sort(key=lambda e: (e[0], e[1]))
        now = 0
        for tick, on, note, vel in timeline:
            kind = "note_on" if on else "note_off"
            t.append(mido.Message(kind, channel=channel, note=note, velocity=vel, time=tick - now))
            now = tick
        mid.tracks.append(t)

    def pitch(degree, octave=0):
        return tonic + 12 * (octave + degree // 7) + scale[degree % 7]

    chords, bass, melody, drums = [], [], [], []
    for bar in range(bars):
        start = bar * beats * tpb
        root = progression[bar % len(progression)]
        triad = [pitch(root + i, 1) for i in (0, 2, 4)]
        if beats == 3:  # oom-pah-pah: bass on 1, chord on 2 and 3
            bass.append((start, pitch(root, -1), 100, tpb - 20))
            for b in (1, 2):
                chords += [(start + b * tpb, n, 60, tpb - 40) for n in triad]
        else:
            bass.append((start, pitch(root, -1), 100, 2 * tpb - 20))
            bass.append((start + 2 * tpb, pitch(root + 4, -1), 85, 2 * tpb - 20))
            chords += [(start, n, 65, beats * tpb - 20) for n in triad]
        # Melody: chord tones on strong beats, scale steps between.
        degree = root + rng.choice([0, 2, 4])
        for b in range(beats * 2):
            if b % 2 == 0:
                degree = root + rng.choice([0, 2, 4]) + (7 if rng.random() < 0.5 else 0)
            else:
                degree += rng.choice([-1, 1])
            melody.append((start + b * tpb // 2, pitch(degree, 2), 80, tpb // 2 - 10))
        if truth["drums"]:
            for b in range(beats):
                tick = start + b * tpb
                if b == 0 or (beats == 4 and b == 2):
                    drums.append((tick, 36, 115, 60))  # kick
                if (beats == 4 and b in (1, 3)) or (beats == 3 and b > 0):
                    drums.append((tick, 38, 90 if beats == 4 else 60, 60))  # snare
                for half in (0, 1):
                    drums.append((tick + half * tpb // 2, 42, 70 if half == 0 else 50, 40))
    track(0, program, chords)
    track(1, 33, bass)  # fingered bass
    track(2, 73 if program != 73 else 0, melody)  # flute over the chords
    if drums:
        track(9, 0, drums)
    return truth, mid


def render(mid, out_dir, name):
    """The piece as WAV (fluidsynth), then each encoding (ffmpeg); {encoding: path}."""
    midi = out_dir / f"{name}.mid"
    wav = out_dir / f"{name}.wav"
    mid.save(midi)
    subprocess.run(["fluidsynth", "-ni", "-q", "-g", "0.6", "-r", str(RATE), "-F", str(wav),
                    SOUNDFONT, str(midi)], check=True, stdout=subprocess.DEVNULL)
    paths = {}
    for ext, codec in ENCODINGS.items():
        path = out_dir / f"{name}.{ext}"
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(wav), *codec, str(path)],
                       check=True)
        paths[ext] = path
    wav.unlink()
    return paths


def hitcast_features(binary, paths):
    """`hitcast features --json` over the files, one call: {path: row}."""
    out = subprocess.run([binary, "features", "--json", "-q", *map(str, paths)], check=True,
                         capture_output=True, text=True).stdout
    return {row["file"]: row for row in json.loads(out)}


def librosa_features(path):
    """librosa's tempo and key (mean chroma_cqt against Krumhansl-Kessler), as hitcast's."""
    import librosa

    y, sr = librosa.load(str(path), sr=22050, mono=True)
    tempo, _ = librosa.beat.beat_track(y=y, sr=sr)
    chroma = librosa.feature.chroma_cqt(y=y, sr=sr).mean(axis=1)
    best = max(((np.corrcoef(chroma, np.roll(profile, key))[0, 1], key, mode)
                for mode, profile in ((1, MAJOR), (0, MINOR)) for key in range(12)))
    return {"tempo": float(np.atleast_1d(tempo)[0]), "key": best[1], "mode": best[2]}


def tempo_right(found, truth, octaves=False):
    factors = (1, 2, 0.5, 3, 1 / 3) if octaves else (1,)
    return any(abs(found - truth * f) <= 0.04 * truth * f for f in factors)


def share(flags):
    flags = list(flags)
    return f"{100 * sum(flags) / len(flags):5.1f}%" if flags else "   -  "


def table(title, rows):
    """rows: (truth, hitcast row, librosa row or None)."""
    drummed = [r for r in rows if r[0]["drums"]]
    print(f"\n{title}: {len(rows)} files ({len(drummed)} with drums)")
    print(f"  {'':34} {'hitcast':>8} {'librosa':>8}")

    def line(label, rows, test):
        h = share(test(t, x) for t, x, _ in rows)
        lib = share(test(t, x) for t, _, x in rows if x is not None)
        print(f"  {label:34} {h:>8} {lib:>8}")

    line("tempo within 4% (drums)", drummed, lambda t, x: tempo_right(x["tempo"], t["tempo"]))
    line("tempo within 4% (all)", rows, lambda t, x: tempo_right(x["tempo"], t["tempo"]))
    line("tempo, double/half allowed (drums)", drummed,
         lambda t, x: tempo_right(x["tempo"], t["tempo"], octaves=True))
    line("tempo, double/half allowed (all)", rows,
         lambda t, x: tempo_right(x["tempo"], t["tempo"], octaves=True))
    line("key and mode", rows, lambda t, x: x["key"] == t["key"] and x["mode"] == t["mode"])
    line("key (mode aside)", rows, lambda t, x: x["key"] == t["key"])
    h = share(x["time_signature"] == t["metre"] for t, x, _ in rows)
    always4 = share(t["metre"] == 4 for t, _, _ in rows)
    print(f"  {'metre (always 4: ' + always4.strip() + ')':34} {h:>8} {'   -':>8}")


def timed(cmd, env):
    """Seconds a command takes, its output discarded."""
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def peak_rss(cmd, env):
    """Seconds and peak RSS (MB) of a command run alone."""
    start = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], capture_output=True, text=True,
                          check=True, env=env)
    seconds = time.perf_counter() - start
    return seconds, int(proc.stderr.strip().splitlines()[-1]) / 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hitcast", default="target/release/hitcast")
    ap.add_argument("--pieces", type=int, default=48)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--long", action="store_true", help="also a 3-minute and a 2-hour MP3")
    ap.add_argument("--keep", type=Path, help="keep the corpus in this folder")
    ap.add_argument("--no-librosa", action="store_true")
    args = ap.parse_args()
    for tool in ("fluidsynth", "ffmpeg"):
        if shutil.which(tool) is None:
            sys.exit(f"bench/audio.py needs {tool}: apt-get install fluidsynth fluid-soundfont-gm ffmpeg")
    binary = str(Path(args.hitcast).resolve())

    work = args.keep or Path(tempfile.mkdtemp(prefix="hitcast-audio-"))
    work.mkdir(parents=True, exist_ok=True)
    truths, files = [], []
    started = time.perf_counter()
    for i in range(args.pieces):
        truth, mid = piece(args.seed * 1000 + i, args.seconds)
        truths.append(truth)
        files.append(render(mid, work, f"piece{i:03d}"))
    print(f"rendered {args.pieces} pieces of {args.seconds:.0f} s as {', '.join(ENCODINGS)} "
          f"in {time.perf_counter() - started:.0f} s ({work})")
    majors = sum(t["mode"] for t in truths)
    threes = sum(t["metre"] == 3 for t in truths)
    print(f"  {majors} major, {args.pieces - majors} minor; {threes} in 3/4; "
          f"tempi {min(t['tempo'] for t in truths):.0f}-{max(t['tempo'] for t in truths):.0f} BPM")

    everything = [p for f in files for p in f.values()]
    ours = hitcast_features(binary, everything)
    theirs = {}
    librosa_seconds = {}
    if not args.no_librosa:
        import librosa  # noqa: F401  (imported once, outside the timings)

        for f in files:
            for ext, path in f.items():
                start = time.perf_counter()
                theirs[str(path)] = librosa_features(path)
                librosa_seconds.setdefault(ext, []).append(time.perf_counter() - start)

    all_rows = []
    for ext in ENCODINGS:
        rows = [(t, ours[str(f[ext])], theirs.get(str(f[ext]))) for t, f in zip(truths, files)]
        all_rows += rows
        table(ext.upper(), rows)
    table("All encodings", all_rows)

    try:
        import pyloudnorm
        import soundfile

        gaps = []
        for f in files:
            data, rate = soundfile.read(str(f["flac"]))
            reference = pyloudnorm.Meter(rate).integrated_loudness(data)
            gaps.append(abs(ours[str(f["flac"])]["loudness"] - reference))
        print(f"\nloudness (FLAC) against pyloudnorm: median gap {statistics.median(gaps):.3f} LU, "
              f"largest {max(gaps):.3f} LU")
    except ImportError:
        print("\nloudness: pip install pyloudnorm soundfile to compare with pyloudnorm")

    # Seconds a file: one file a call, one thread, the median over files of the median of runs.
    print(f"\nseconds a {args.seconds:.0f}-second file, one thread (hitcast: each encoding's "
          f"files in one call, over their count, median of {args.runs} runs; and one file a "
          f"call, process start included; librosa: load and analyse, median over files)")
    env = dict(os.environ, RAYON_NUM_THREADS="1")
    for ext in ENCODINGS:
        paths = [str(f[ext]) for f in files]
        batch = statistics.median(timed([binary, "features", "-q", *paths], env)
                                  for _ in range(args.runs)) / len(paths)
        alone = statistics.median(
            statistics.median(timed([binary, "features", "-q", p], env) for _ in range(args.runs))
            for p in paths[:12])
        lib = statistics.median(librosa_seconds[ext]) if ext in librosa_seconds else float("nan")
        print(f"  {ext.upper():5} hitcast {batch:.3f} s ({alone:.3f} s alone)   "
              f"librosa {lib:.3f} s   {lib / batch:5.1f}x")
    whole = statistics.median(timed([binary, "features", "-q", *map(str, everything)], os.environ)
                              for _ in range(args.runs))
    print(f"  all {len(everything)} files in one call, both cores: {whole:.2f} s, "
          f"{len(everything) / whole:.1f} files/s")

    if args.long:
        long_files(binary, files[0]["flac"], work, args.runs)
    if not args.keep:
        shutil.rmtree(work)


def long_files(binary, source, work, runs):
    """A 3-minute and a 2-hour MP3 (the piece looped), timed and their peak memory measured."""
    print("\nlong files (MP3 192 kbit/s, one thread; medians of runs)")
    env = dict(os.environ, RAYON_NUM_THREADS="1")
    for label, seconds, n in (("3 minutes", 180, runs), ("2 hours", 7200, 1)):
        path = work / f"long{seconds}.mp3"
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-stream_loop", "-1", "-i",
                        str(source), "-t", str(seconds), "-c:a", "libmp3lame", "-b:a", "192k",
                        str(path)], check=True)
        measured = []
        for _ in range(n):
            measured.append(peak_rss([binary, "features", "-q", str(path)], env))
        secs = statistics.median(s for s, _ in measured)
        rss = max(m for _, m in measured)
        # The machine's yardstick: ffmpeg decoding the same file, one thread, nothing else.
        decode = statistics.median(
            timed(["ffmpeg", "-loglevel", "error", "-threads", "1", "-i", str(path), "-f", "null",
                   "-"], env) for _ in range(n))
        print(f"  {label:10} {path.stat().st_size / 1e6:6.1f} MB file: {secs:.3f} s, "
              f"peak RSS {rss:.0f} MB (ffmpeg decodes it alone in {decode:.3f} s)")
        path.unlink()


if __name__ == "__main__":
    main()
