"""De-identification speed: ``aidahub deid run`` against cp -r, dcmanon, dicognito and deid.

On a synthetic export (benchmarks/deid_corpus.py: about 1,000 CT slices of 512 x 512 at 16
bits, plus MR, CR, RGB ultrasound, a dose report, a structured report and RLE and JPEG 2000
files, all with identifiers planted), this times in one run, best of three, each with a
fresh output folder on the same disk as the input:

* ``cp -r``, the floor: reading and writing the same bytes;
* dcmanon (Rust, default settings), driven through its Python API by one process per core,
  as its own command-line tool would spread the work;
* dicognito with its defaults (``python -m dicognito -o OUT IN``), one process;
* pydicom/deid with its default recipe (``deid.dicom``) through
  ``deid.dicom.replace_identifiers``, one process;
* ``aidahub deid run IN OUT --profile images-only --key KEY --quiet``, with every core.

The peers are installed into their own virtual environment under benchmarks/.peers/, never
into the project's; a peer that cannot be installed is reported and left out. The corpus is
built once into benchmarks/.cache/ and reused while its parameters and generator stay the
same.

After each tool's first run, its output is searched for every planted name, ID, date,
address, reference code and UID (UTF-8 and Latin-1 bytes): aidahub's output must hold none.
A peer that leaks is faster by leaving work undone, which is why the targets (faster than
dcmanon, at least 3x dicognito and 3x deid) count only with zero leaks of our own.

With ``--profile-ours`` one run of the engine over the CT slices is profiled with cProfile
in this process before ours is timed, and the 25 most expensive calls (cumulative) printed.
``--quick`` uses 200 CT slices and one run of each tool.

It is a measurement to read, not a test: the figures depend on the machine. It only reads
and writes local folders, stops every process it started, and removes its outputs at the
end (not between runs: ext4 skips inodes freed in the last minute when it allocates new
ones, so a removal just before a run slows its file creation down). Run it
with ``make bench-deid``.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import inspect
import io
import os
import pstats
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from deid_corpus import Corpus, CorpusSpec, ensure_corpus, find_planted  # noqa: E402

HERE = Path(__file__).resolve().parent
PEERS = HERE / ".peers"
CACHE = HERE / ".cache"
PEER_PACKAGES = {"dcmanon": "dcmanon", "dicognito": "dicognito", "deid": "deid"}  # pip: import
PROFILE = "images-only"
CORES = os.cpu_count() or 1

DCMANON_DRIVER = """
import os, sys
from concurrent.futures import ProcessPoolExecutor
import dcmanon

SOURCE, TARGET, WORKERS = sys.argv[1], sys.argv[2], int(sys.argv[3])
_anonymizer = None


def one(rel):
    global _anonymizer
    if _anonymizer is None:
        _anonymizer = dcmanon.Anonymizer()  # its default settings
    try:
        data = _anonymizer.anonymize(os.path.join(SOURCE, rel))
    except Exception as exc:
        return f"{rel}: {type(exc).__name__}: {exc}"
    target = os.path.join(TARGET, rel)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "wb") as fh:
        fh.write(data)
    return None


if __name__ == "__main__":
    rels = [os.path.relpath(os.path.join(d, f), SOURCE)
            for d, _, names in os.walk(SOURCE) for f in names]
    if WORKERS == 1:
        errors = [e for e in map(one, rels) if e]
    else:
        with ProcessPoolExecutor(WORKERS) as pool:
            errors = [e for e in pool.map(one, rels, chunksize=8) if e]
    print(f"{len(rels) - len(errors)} written, {len(errors)} failed")
    for error in errors[:5]:
        print(error)
"""

DEID_DRIVER = """
import os, sys
from deid.config import DeidRecipe
from deid.dicom import get_files, replace_identifiers

source, target = sys.argv[1], sys.argv[2]
os.makedirs(target, exist_ok=True)
files = list(get_files(source))
done = replace_identifiers(files, deid=DeidRecipe("dicom"), save=True, output_folder=target)
print(f"{len(done)} of {len(files)} written")
"""


@dataclass
class Tool:
    name: str
    command: list[str]  # with {IN} and {OUT}
    runs: list[float] = field(default_factory=list)
    sync: list[float] = field(default_factory=list)
    output_files: int = 0
    error: str = ""
    leaks: dict[str, int] | None = None  # planted value -> files holding it

    @property
    def best(self) -> float | None:
        return min(self.runs) if self.runs else None


# -- peers -------------------------------------------------------------------------------


def _importable(python: Path, module: str) -> bool:
    done = subprocess.run([str(python), "-c", f"import {module}"], capture_output=True)
    return done.returncode == 0


def ensure_peers() -> tuple[Path | None, dict[str, str]]:
    """The peers' interpreter and, for each peer that is missing, why."""
    venv = PEERS / "venv"
    python = venv / "bin" / "python"
    missing: dict[str, str] = {}
    if not python.exists():
        print(f"Creating the peers' virtual environment in {venv.relative_to(HERE.parent)} ...")
        done = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True)
        if done.returncode != 0:
            reason = f"python -m venv failed: {done.stderr.decode(errors='replace')[-300:]}"
            return None, {name: reason for name in PEER_PACKAGES}
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"],
            capture_output=True,
        )
    for package, module in PEER_PACKAGES.items():
        if _importable(python, module):
            continue
        print(f"Installing {package} into the peers' environment ...", flush=True)
        done = subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", package], capture_output=True
        )
        if done.returncode != 0 or not _importable(python, module):
            tail = done.stderr.decode(errors="replace").strip().splitlines()[-3:]
            missing[package] = f"pip install {package} failed: " + " / ".join(tail)
    (PEERS / "dcmanon_driver.py").write_text(DCMANON_DRIVER)
    (PEERS / "deid_driver.py").write_text(DEID_DRIVER)
    return python, missing


# -- ours --------------------------------------------------------------------------------


def compile_ours() -> None:
    """Compile aidahub's bytecode before timing it, as pip did for the peers on install.

    An editable install leaves compiling to the first import, and with
    PYTHONDONTWRITEBYTECODE set every run would compile the package afresh: a start-up cost
    the peers never pay.
    """
    import aidahub

    package = Path(aidahub.__file__).resolve().parent
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(package)], capture_output=True, check=False
    )


def aidahub_command() -> str:
    local = Path(sys.executable).with_name("aidahub")
    return str(local) if local.exists() else (shutil.which("aidahub") or "aidahub")


def has_workers_option(aidahub: str) -> bool:
    done = subprocess.run([aidahub, "deid", "run", "--help"], capture_output=True, text=True)
    return "--workers" in done.stdout


def make_key(aidahub: str, folder: Path) -> Path:
    key = folder / "bench.key"
    subprocess.run([aidahub, "deid", "keygen", str(key)], check=True, capture_output=True)
    return key


def profile_ours(corpus: Corpus, key_path: Path, work: Path, top: int = 25) -> None:
    """Profile one run over the CT slices in this process with cProfile and print the top.

    The batch runs with one worker so that its files are handled where the profiler can
    see them; if it still hands them to another process (the engine's ``deidentify`` never
    shows up), the per-file path (read, de-identify, encode) is profiled instead.
    """
    try:
        from aidahub.deid import batch
        from aidahub.deid.keys import load_key
        from aidahub.deid.profile import load_profile

        profile, key = load_profile(PROFILE), load_key(key_path)
        options = {}
        if "workers" in inspect.signature(batch.run).parameters:
            options["workers"] = 1
    except Exception as exc:  # noqa: BLE001 - the engine is being rewritten: say so, go on
        print(f"\nProfile skipped: aidahub's batch cannot be set up ({type(exc).__name__}: {exc})")
        return
    files = sorted(p for p in corpus.ct_dir.rglob("*") if p.is_file())
    out = work / "profile" / "out"
    out.parent.mkdir(parents=True)
    print(f"\nProfiling one run of the engine on {len(files):,} CT slices (one process) ...")

    def whole_batch() -> None:
        batch.run(corpus.ct_dir, out, profile=profile, key=key, **options)

    try:
        stats, seconds = _profiled(whole_batch)
        if not any(name == "deidentify" for (_, _, name) in stats.stats):  # type: ignore[attr-defined]
            print(
                "The batch handed the files to worker processes, out of the profiler's "
                "sight: profiling the per-file path instead (read, de-identify, encode)."
            )
            stats, seconds = _profiled(lambda: _per_file(files, profile, key))
    except Exception as exc:  # noqa: BLE001
        print(f"Profile failed: {type(exc).__name__}: {exc}")
        return
    finally:
        shutil.rmtree(out.parent, ignore_errors=True)
    print(
        f"{len(files):,} files in {seconds:.1f} s under the profiler "
        f"({len(files) / seconds:.0f} files/s)\n"
    )
    for order, count, title in (("cumulative", top, ""), ("tottime", 12, "By own time:")):
        text = io.StringIO()
        stats.stream = text  # type: ignore[attr-defined]
        stats.sort_stats(order).print_stats(count)
        lines = text.getvalue().splitlines()
        start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
        if title:
            print(f"\n{title}")
        print("\n".join(line for line in lines[start:] if line.strip()))


def _profiled(work: Callable[[], object]) -> tuple[pstats.Stats, float]:
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    try:
        work()
    finally:
        profiler.disable()
    seconds = time.perf_counter() - started
    return pstats.Stats(profiler).strip_dirs(), seconds


def _per_file(files: list[Path], profile: object, key: object) -> None:
    import pydicom

    from aidahub.deid.engine import deidentify

    for path in files:
        result = deidentify(pydicom.dcmread(path), profile, key)  # type: ignore[arg-type]
        if result.dataset is not None:
            result.dataset.save_as(io.BytesIO(), enforce_file_format=True)


# -- running -----------------------------------------------------------------------------


def stop_group(process: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL, to the process group this script started for one tool."""
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _stop_leftovers(process: subprocess.Popen) -> None:
    """Kill what the tool left running in its own process group (a pool it did not join).

    While any member lives, the kernel does not hand the group's number to anyone else, so
    a group found here is still the one this script started.
    """
    if _group_members(process.pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def _group_members(group: int) -> list[int]:
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            # pid (comm) state ppid pgrp ...; comm may hold spaces, so split after it
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == group:
                members.append(int(stat.parent.name))
    return members


def run_once(tool: Tool, source: Path, slot: Path, timeout: float) -> Path | None:
    """Time one run of *tool* into a fresh ``slot/out``; return it, or None on failure."""
    shutil.rmtree(slot, ignore_errors=True)
    slot.mkdir(parents=True)
    out = slot / "out"
    command = [c.replace("{IN}", str(source)).replace("{OUT}", str(out)) for c in tool.command]
    log = slot.parent / f"{slot.name}.log"
    os.sync()  # the previous tool's dirty pages are not this one's to write
    with open(log, "wb") as fh:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, stdout=fh, stderr=subprocess.STDOUT, cwd=slot, start_new_session=True
        )
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop_group(process)
            tool.error = f"stopped after {timeout:.0f} s"
            return None
        except BaseException:
            stop_group(process)
            raise
        seconds = time.perf_counter() - started
    _stop_leftovers(process)
    synced = time.perf_counter()
    os.sync()
    tool.sync.append(time.perf_counter() - synced)
    if process.returncode != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-4:]
        tool.error = f"exit status {process.returncode}: " + " / ".join(tail)
        return None
    tool.runs.append(seconds)
    tool.output_files = sum(1 for p in out.rglob("*") if p.is_file() and _is_dicom(p))
    return out


def _is_dicom(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(132)[128:] == b"DICM"


def warm_cache(root: Path) -> None:
    """Read every input file once so that no tool pays for the first, cold read."""
    for path in root.rglob("*"):
        if path.is_file():
            with open(path, "rb") as fh:
                while fh.read(1 << 22):
                    pass


def build_tools(peers_python: Path | None, missing: dict[str, str], ours: list[str]) -> list[Tool]:
    tools = [Tool("cp -r (the floor)", ["cp", "-r", "{IN}", "{OUT}"])]
    if peers_python is not None:
        py = str(peers_python)
        if "dcmanon" not in missing:
            driver = str(PEERS / "dcmanon_driver.py")
            tools.append(
                Tool(f"dcmanon ({CORES} processes)", [py, driver, "{IN}", "{OUT}", str(CORES)])
            )
            tools.append(Tool("dcmanon (1 process)", [py, driver, "{IN}", "{OUT}", "1"]))
        if "dicognito" not in missing:
            tools.append(
                Tool("dicognito", [py, "-m", "dicognito", "-o", "{OUT}", "--quiet", "{IN}"])
            )
        if "deid" not in missing:
            tools.append(
                Tool(
                    "deid (deid.dicom recipe)", [py, str(PEERS / "deid_driver.py"), "{IN}", "{OUT}"]
                )
            )
    tools.append(Tool(f"aidahub ({PROFILE})", ours))
    return tools


# -- printing ----------------------------------------------------------------------------


def print_table(tools: list[Tool], corpus: Corpus) -> None:
    mb = corpus.bytes / 1e6
    print()
    print(f"{corpus.files:,} files, {mb:,.0f} MB ({_kinds(corpus)}); {CORES} CPUs")
    print()
    print(
        f"{'tool':<28} {'best s':>8} {'files/s':>9} {'MB/s':>8} {'runs':>5} {'worst s':>8} "
        f"{'DICOM out':>9} {'sync s':>7}"
    )
    for tool in tools:
        if tool.best is None:
            print(f"{tool.name:<28} {'failed':>8}  {tool.error[:120]}")
            continue
        s = tool.best
        print(
            f"{tool.name:<28} {s:>8.2f} {corpus.files / s:>9,.0f} {mb / s:>8,.0f} "
            f"{len(tool.runs):>5} {max(tool.runs):>8.2f} {tool.output_files:>9,} "
            f"{max(tool.sync):>7.2f}"
        )
    print(
        "\nfiles/s and MB/s count the input. worst s: the slowest of the runs. sync s: the "
        "longest os.sync() right after a run, outside the timing (what the tool left for the "
        "kernel to write)."
    )


class CpuShare:
    """How much of the CPUs processes other than this script and its tools used.

    The machine's busy time (``/proc/stat``) less this process's and its waited-for
    children's CPU time: what is left was other work (other people's tests, say), which
    slows every tool and those that use every core most.
    """

    def __init__(self) -> None:
        self.wall, self.busy, self.own = time.monotonic(), _busy(), _own()

    def others(self) -> float | None:
        busy = _busy()
        if busy is None or self.busy is None:
            return None
        other = (busy - self.busy) - (_own() - self.own)
        return max(other, 0.0) / ((time.monotonic() - self.wall) * CORES)


def _busy() -> float | None:
    try:
        with open("/proc/stat") as fh:
            fields = [int(v) for v in fh.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _own() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def print_others(share: float | None) -> None:
    if share is None:
        return
    print(f"Other processes used {share:.0%} of the {CORES} CPUs during the timed runs")
    if share > 0.10:
        print(
            "WARNING: the machine was shared; every tool was slowed, those using every core "
            "most, so the ratios are unreliable. Run again when it is quiet."
        )


def _kinds(corpus: Corpus) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in corpus.counts.items())


def print_leaks(tools: list[Tool], corpus: Corpus) -> None:
    planted = corpus.planted
    print(
        f"\nLeak check: {len(planted)} planted values (names, IDs, dates, places, private "
        "reference codes, study and series UIDs), searched in every output file"
    )
    print(f"{'tool':<28} {'leaks':>7} {'values':>7}  by category / examples")
    for tool in tools:
        if tool.leaks is None:
            print(f"{tool.name:<28} {'-':>7}")
            continue
        total = sum(tool.leaks.values())
        cats: dict[str, int] = {}
        for value in tool.leaks:
            cats[planted[value]] = cats.get(planted[value], 0) + 1
        by = ", ".join(f"{c} {n}" for c, n in sorted(cats.items()))
        examples = ", ".join(sorted(tool.leaks, key=lambda v: -tool.leaks[v])[:6])
        line = f"{tool.name:<28} {total:>7,} {len(tool.leaks):>4}/{len(planted)}"
        print(line + (f"  {by}; e.g. {examples}" if total else ""))
    print("leaks: (file, planted value) pairs found; values: distinct planted values found")
    floor = tools[0]
    if floor.leaks is not None and len(floor.leaks) != len(planted):
        print("WARNING: the copy does not show every planted value: the leak scan is broken")
    elif floor.leaks is not None:
        print("cp -r finds every planted value: the scan sees what is there")
    for tool in tools[1:-1]:
        if tool.leaks:
            print(
                f"{tool.name} left {len(tool.leaks)} planted values in its output: its time is "
                "for less work than a full rule set, so beating it counts only with zero leaks"
            )


def print_ratios(tools: list[Tool], ours: Tool) -> bool:
    print()
    if ours.best is None:
        print("aidahub did not finish: no ratios, targets NOT met")
        return False
    for tool in tools:
        if tool is ours or tool.best is None:
            continue
        if tool.name.startswith("cp -r"):
            print(
                f"aidahub vs cp -r: aidahub takes {ours.best / tool.best:.1f}x the floor's "
                "time (the distance to the floor)"
            )
        else:
            print(
                f"aidahub vs {tool.name}: {tool.best / ours.best:.2f}x its speed "
                f"({tool.best:.2f} s against {ours.best:.2f} s)"
            )
    clean = ours.leaks == {}
    print()
    met = clean
    checks = [
        ("faster than dcmanon", f"dcmanon ({CORES} processes)", 1.0),
        ("at least 3x dicognito", "dicognito", 3.0),
        ("at least 3x deid", "deid (deid.dicom recipe)", 3.0),
    ]
    for label, name, factor in checks:
        peer = next((t for t in tools if t.name == name), None)
        if peer is None or peer.best is None:
            print(f"Target {label}: not measured ({peer.error if peer else 'not installed'})")
            met = False
            continue
        ratio = peer.best / ours.best
        ok = ratio > factor if factor == 1.0 else ratio >= factor
        met = met and ok
        print(f"Target {label}: {'met' if ok else 'NOT met'} ({ratio:.2f}x)")
    print(f"Zero leaks in aidahub's output: {'yes' if clean else 'NO'}")
    print(f"All targets: {'met' if met else 'NOT met'}")
    return met


# -- main --------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 CT slices, one run each")
    parser.add_argument("--ct-slices", type=int, help="CT slices in the corpus (default 1000)")
    parser.add_argument("--repeats", type=int, help="runs per tool, best counts (default 3)")
    parser.add_argument(
        "--profile-ours", action="store_true", help="profile one engine run on the CT slices first"
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=480.0,
        help="seconds for the timed runs; repeats that would not fit are "
        "skipped and the table says how many ran",
    )
    parser.add_argument("--no-peers", action="store_true", help="time only cp -r and aidahub")
    args = parser.parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so the running tool is stopped and the outputs removed.
    signal.signal(signal.SIGTERM, _terminated)
    repeats = args.repeats or (1 if args.quick else 3)
    spec = CorpusSpec(ct_slices=args.ct_slices or (200 if args.quick else 1000))

    started = time.monotonic()
    CACHE.mkdir(parents=True, exist_ok=True)
    print(f"Corpus: {spec.ct_slices:,} CT slices and the other kinds ...", flush=True)
    corpus, built = ensure_corpus(CACHE, spec)
    print(
        f"{'built' if built else 'reused'} {corpus.root.parent.name}: "
        f"{corpus.files:,} files, {corpus.bytes / 1e6:,.0f} MB"
    )

    peers_python, missing = (None, {}) if args.no_peers else ensure_peers()
    for package, reason in missing.items():
        print(f"MISSING peer {package}: {reason} (going on without it)")

    aidahub = aidahub_command()
    compile_ours()
    work = Path(tempfile.mkdtemp(prefix="deid-bench-", dir=CACHE))  # same disk as the input
    try:
        key = make_key(aidahub, work)
        ours_command = [aidahub, "deid", "run", "{IN}", "{OUT}"]
        ours_command += ["--profile", PROFILE, "--key", str(key), "--quiet"]
        if has_workers_option(aidahub):
            ours_command += ["--workers", str(CORES)]
            workers_note = f"aidahub runs with --workers {CORES}"
        else:
            workers_note = "aidahub has no --workers option yet: it ran as it is (one process)"
        print(workers_note)
        tools = build_tools(peers_python, missing, ours_command)
        ours = tools[-1]

        if args.profile_ours:
            profile_ours(corpus, key, work)

        print("\nWarming the page cache with the input ...", flush=True)
        warm_cache(corpus.root)
        usage = CpuShare()
        deadline = time.monotonic() + args.budget
        for round_no in range(repeats):
            for tool in tools:
                if tool.error:
                    continue
                needed = tool.best or 0.0
                if round_no and time.monotonic() + needed * 1.3 > deadline:
                    continue  # the table shows the runs that fitted
                slot = work / f"{_slug(tool.name)}-{round_no + 1}"
                remaining = max(deadline - time.monotonic(), 60.0)
                print(f"run {round_no + 1}/{repeats}: {tool.name}", flush=True)
                out = run_once(tool, corpus.root, slot, timeout=remaining)
                if out is not None and tool.leaks is None:
                    tool.leaks = find_planted(out, corpus.planted)
                # Outputs stay until the end: ext4 skips the inodes freed in the last minute
                # when it makes new files, so removing one tool's output would slow down the
                # next tool's writing, by how many files it removed.
        others = usage.others()
        print_table(tools, corpus)
        print(f"({workers_note})")
        print_others(others)
        print_leaks(tools, corpus)
        print_ratios(tools, ours)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nTotal time {time.monotonic() - started:.0f} s")
    return 0


def _terminated(*_: object) -> None:
    print("deid.py: stopped (SIGTERM); stopping the running tool, removing outputs", flush=True)
    sys.exit(143)


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name).strip("-")


if __name__ == "__main__":
    sys.exit(main())
