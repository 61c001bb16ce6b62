"""The evaluation protocol: LTN proportions, train-only vocabulary, per-part neighbours, val-only choices."""
from __future__ import annotations

import numpy as np
import pytest

from neighborlib import methods
from neighborlib.data import SocialImageDataset
from neighborlib.metrics import evaluate
from neighborlib.models import TagLogistic
from neighborlib.protocol import LTN_FRACTIONS, Benchmark, describe_splits, load_benchmark, protocol_splits, run_protocol


def _bench(n=400, seed=0) -> Benchmark:
    """Tokens t0..t29 drawn per image; label j is on when token t{j} is; image 0 has no tag, image 1 no label."""
    rng = np.random.default_rng(seed)
    tags = [tuple(f"t{k}" for k in sorted(set(rng.integers(0, 30, size=rng.integers(1, 6))))) for _ in range(n)]
    tags[0] = ()
    labels = np.array([[f"t{j}" in t for j in range(4)] for t in tags], dtype=np.uint8)
    labels[1] = 0
    ds = SocialImageDataset("toy", np.arange(n), ("a", "b", "c", "d"), labels, {"tags": tags})
    return Benchmark("toy", "Toy", ds, ("tags",), tau=20)


def test_splits_follow_the_ltn_protocol():
    bench = _bench()
    splits = protocol_splits(bench, n_splits=3, seed=0)
    eligible = (bench.dataset.labels.sum(1) > 0) & bench.dataset.has_metadata("tags")
    assert LTN_FRACTIONS == pytest.approx((110_000 / 190_253, 40_000 / 190_253, 40_253 / 190_253))
    for s in splits:
        parts = np.concatenate([s.train, s.val, s.test])
        assert len(np.unique(parts)) == len(parts) == eligible.sum()  # disjoint, cover the eligible images
        assert 0 not in parts and 1 not in parts  # no metadata / no label: dropped
        assert len(s.train) == round(LTN_FRACTIONS[0] * eligible.sum())
    assert not np.array_equal(splits[0].train, splits[1].train)


def test_run_protocol_fits_the_vocabulary_on_train_and_chooses_on_val(monkeypatch):
    bench = _bench()
    seen = []

    def spy(data):
        # the vocabulary holds only tokens of training images, ranked by their training frequency
        train_tokens = {t for i in data.train for t in bench.tokens[i]}
        assert set(data.vocabulary.tokens) <= train_tokens and len(data.vocabulary) <= 20
        # every kept image has a token in the vocabulary
        for part in (data.train, data.val, data.test):
            assert (np.diff(data.Z[part].tocsr().indptr) > 0).all()
        # metadata neighbours stay inside their own part
        nbr = data.metadata_neighbours(M=5)
        for part in ("train", "val", "test"):
            assert np.isin(nbr[part].indices, getattr(data, part)).all()
        seen.append(data.split.index)
        return np.zeros((len(data.test), 4)), {"chose": 1}

    result = run_protocol(bench, {"spy": spy, "tag-only": methods.tag_only()}, n_splits=2, progress=False)
    assert seen == [0, 1] and result.info["spy"] == [{"chose": 1}, {"chose": 1}]
    assert list(result.table().index) == ["spy", "tag-only", "Upper bound"]
    assert "Toy: 400 images" in result.caption() and "2 seeded splits" in result.caption()
    # the tag-only row equals an independent refit with the C it reports, on the same split
    split = result.splits[0]
    data_Z = None
    from neighborlib.data import Vocabulary

    vocab = Vocabulary.top_frequent(bench.tokens, 20, index=protocol_splits(bench, 2)[0].train)
    data_Z = vocab.encode(bench.tokens)
    C = result.info["tag-only"][0]["C"]
    model = TagLogistic(C=C).fit(data_Z[split.train], bench.dataset.labels[split.train])
    expected = evaluate(model.decision_function(data_Z[split.test]), bench.dataset.labels[split.test])
    assert result.metrics["tag-only"][0] == pytest.approx(expected)
    # the choice was made on val: the reported val score is the best of the grid on val
    grid_scores = []
    from neighborlib.metrics import mean_average_precision

    for c in (0.1, 1.0, 10.0):
        m = TagLogistic(C=c).fit(data_Z[split.train], bench.dataset.labels[split.train])
        grid_scores.append(mean_average_precision(m.decision_function(data_Z[split.val]), bench.dataset.labels[split.val]))
    assert result.info["tag-only"][0]["val mAP_label"] == pytest.approx(max(grid_scores))


def test_a_method_returning_the_wrong_shape_is_named():
    with pytest.raises(ValueError, match="method 'bad' returned scores"):
        run_protocol(_bench(), {"bad": lambda d: np.zeros((3, 4))}, n_splits=1, progress=False)


def test_knn_vote_method_chooses_k_on_val_and_uses_training_neighbours():
    bench = _bench()
    rng = np.random.default_rng(0)
    X = bench.dataset.labels @ rng.standard_normal((4, 16)) + 0.3 * rng.standard_normal((len(bench), 16))
    result = run_protocol(bench, {"kNN": methods.cnn_knn_vote(ks=(1, 5, 10))}, n_splits=1, features=X, progress=False)
    assert result.info["kNN"][0]["k"] in (1, 5, 10)
    assert result.metrics["kNN"][0]["mAP_label"] > 0.8  # features made from the labels
    with pytest.raises(ValueError, match="features has 3 rows"):
        run_protocol(bench, {"kNN": methods.cnn_knn_vote()}, n_splits=1, features=X[:3], progress=False)
    # a k beyond the training set is capped at its size: k = n_train votes with every training image
    n_train = len(result.splits[0].train)
    capped = run_protocol(bench, {"kNN": methods.cnn_knn_vote(ks=(10 * len(bench),))}, n_splits=1,
                          features=X, keep_scores=True, progress=False)
    assert capped.info["kNN"][0]["k"] == n_train
    scores = capped.scores["kNN"][0]
    rates = bench.dataset.labels[capped.splits[0].train].mean(axis=0)
    np.testing.assert_allclose(scores, np.broadcast_to(rates, scores.shape))  # the training label rates


def test_synthetic_benchmark_and_unknown_name():
    bench = load_benchmark("synthetic", n_images=300, render=False, kinds=("tags", "groups"))
    assert bench.synthetic and bench.describe().startswith("SYNTHETIC DATA - Synthetic: 300 images")
    assert any(t.startswith("groups:") for toks in bench.tokens for t in toks)
    with pytest.raises(ValueError, match="unknown benchmark 'nus'"):
        load_benchmark("nus")


@pytest.mark.realdata
def test_real_benchmark_sets():
    from conftest import require_real_data

    require_real_data("coco")
    mir = load_benchmark("mirflickr")
    assert len(mir) == 25000 and mir.dataset.n_labels == 24 and mir.dataset.has_photo.all()
    assert load_benchmark("mirflickr-r1").dataset.n_labels == 14
    people = load_benchmark("coco-person")
    assert len(people) == 2693 and people.dataset.n_labels == 79 and "person" not in people.dataset.label_names
    assert people.dataset.has_photo.all() and people.kinds == ("captions",)
    captions = load_benchmark("coco-captions")
    assert len(captions) == 4952 and captions.dataset.n_labels == 80
    # photos whose only label is 'person' have no label left on COCO-person and are dropped
    only_person = int((people.dataset.labels.sum(axis=1) == 0).sum())
    assert 0 < only_person < 50
    n = 2693 - only_person
    split = protocol_splits(people, 1)[0]
    assert (len(split.train), len(split.val), len(split.test)) == (
        round(LTN_FRACTIONS[0] * n), round(LTN_FRACTIONS[1] * n), n - round(LTN_FRACTIONS[0] * n) - round(LTN_FRACTIONS[1] * n)
    )


def test_benchmark_features_defaults_to_the_extracted_resolution(monkeypatch):
    """A chapter that passes no resolution reads what `make features` extracted (160 px), not
    the backbone's native 224 px (which once cost a silent 10-minute re-extraction)."""
    from neighborlib import features
    from neighborlib.extract import CPU_RESOLUTION
    from neighborlib.protocol import benchmark_features

    seen = {}
    monkeypatch.setattr(features, "dataset_features", lambda ds, **kw: seen.update(kw) or np.zeros((len(ds), 1)))
    bench = load_benchmark("synthetic", n_images=50, render=False)
    benchmark_features(bench)
    assert seen["resolution"] == CPU_RESOLUTION == 160
    benchmark_features(bench, resolution=260)
    assert seen["resolution"] == 260


def test_make_features_without_a_data_root_extracts_only_the_synthetic_set(monkeypatch):
    from neighborlib import extract

    calls = []
    monkeypatch.setattr(extract, "extract_benchmarks", lambda names, *a: calls.append(list(names)))
    monkeypatch.setattr(extract, "data_root", lambda: None)
    assert extract.main([]) == 0
    assert calls == [["synthetic-kinds"]]
    monkeypatch.setattr(extract, "data_root", lambda: "/somewhere")
    extract.main([])
    assert calls[-1] == list(extract.DEFAULT_BENCHMARKS) == ["mirflickr", "coco-person", "synthetic-kinds"]


def test_seeded_subset_is_sorted_reproducible_and_whole_when_large():
    from neighborlib.protocol import seeded_subset

    a = seeded_subset(1000, 100, seed=0)
    assert len(a) == 100 and len(np.unique(a)) == 100 and (np.diff(a) > 0).all() and a.max() < 1000
    np.testing.assert_array_equal(a, seeded_subset(1000, 100, seed=0))
    assert not np.array_equal(a, seeded_subset(1000, 100, seed=1))
    # the LTN studies' 8,000 MIRFlickr photos, which pages 03b, 04 and 05 share (committed outputs depend on them)
    book = seeded_subset(25_000, 8000, seed=0)
    assert book[:5].tolist() == [1, 4, 5, 7, 12] and book[-2:].tolist() == [24989, 24991]
    np.testing.assert_array_equal(seeded_subset(50, None), np.arange(50))
    np.testing.assert_array_equal(seeded_subset(50, 80), np.arange(50))
    with pytest.raises(ValueError, match="at least one"):
        seeded_subset(50, 0)


def test_merge_records_replaces_rows_with_the_same_keys_and_keeps_the_rest(tmp_path):
    import pandas as pd

    from neighborlib.protocol import merge_records

    keys = ["method", "m", "split"]
    path = tmp_path / "grid" / "g.csv"
    first = pd.DataFrame({"method": ["LTN", "LTN", "RTN"], "m": [3, 12, 3], "split": [0, 0, 0], "mAP": [0.1, 0.2, 0.3]})
    merge_records(path, first, keys)
    # a second run in another piece: one row redone (LTN, 12), one new (RTN, 12)
    second = pd.DataFrame({"method": ["LTN", "RTN"], "m": [12, 12], "split": [0, 0], "mAP": [0.25, 0.4]})
    merged = merge_records(path, second, keys)
    on_disk = pd.read_csv(path)
    pd.testing.assert_frame_equal(merged, on_disk)
    assert list(zip(on_disk["method"], on_disk["m"], on_disk["mAP"])) == [
        ("LTN", 3, 0.1), ("LTN", 12, 0.25), ("RTN", 3, 0.3), ("RTN", 12, 0.4)]
    assert not list(path.parent.glob(".*.tmp"))  # the atomic write left no temporary


def test_merge_records_refuses_duplicate_or_missing_keys_and_leaves_the_file(tmp_path):
    import pandas as pd

    from neighborlib.protocol import merge_records

    path = tmp_path / "g.csv"
    merge_records(path, pd.DataFrame({"method": ["LTN"], "split": [0], "mAP": [0.1]}), ["method", "split"])
    before = path.read_bytes()
    with pytest.raises(ValueError, match="share the keys"):
        merge_records(path, pd.DataFrame({"method": ["A", "A"], "split": [0, 0], "mAP": [1, 2]}), ["method", "split"])
    with pytest.raises(ValueError, match=r"lack the key column\(s\) \['m'\]"):
        merge_records(path, pd.DataFrame({"method": ["A"], "split": [0]}), ["method", "m", "split"])
    with pytest.raises(ValueError, match=r"g\.csv: no key column\(s\) \['m'\]"):
        merge_records(path, pd.DataFrame({"method": ["A"], "m": [3], "split": [0]}), ["method", "m", "split"])
    assert path.read_bytes() == before


def test_run_grid_adds_each_fit_as_it_ends_and_resumes(tmp_path):
    import pandas as pd

    from neighborlib.protocol import run_grid

    bench, path, calls = _bench(), tmp_path / "grid.csv", []

    def make(name, shift):
        def build():
            def method(data):
                calls.append((name, data.split.index))
                return data.Y("test") * 0.5 + shift * np.arange(4)  # deterministic scores
            return method
        return build

    fits = [("prior", {"m": m}, make(f"prior m={m}", m / 10)) for m in (1, 2)] + [("tag-only", {"m": 1}, methods.tag_only)]
    table = run_grid(bench, fits, path, n_splits=2, columns={"device": "cpu"}, progress=False)
    assert len(calls) == 4 and len(table) == 6 and set(table["device"]) == {"cpu"}
    assert set(table["set"]) == {"Toy"} and set(table["images"]) == {400} and set(table["seed"]) == {0}
    # the rows equal a plain protocol run of the same method (an independent reference)
    ref = run_protocol(bench, {"tag-only": methods.tag_only()}, n_splits=2, progress=False, upper_bound=False)
    got = table[table["method"] == "tag-only"].sort_values("split")
    np.testing.assert_allclose(got["mAP_label"], [r["mAP_label"] for r in ref.metrics["tag-only"]])
    # a second run skips every (fit, split) the file has ...
    calls.clear()
    again = run_grid(bench, fits, path, n_splits=2, progress=False)
    assert calls == [] and again.equals(pd.read_csv(path))
    # ... an interrupted one (one fit's row of split 1 missing) runs only that pair, and redo runs them all
    pd.read_csv(path).query("not (method == 'prior' and m == 2 and split == 1)").to_csv(path, index=False)
    run_grid(bench, fits, path, n_splits=2, progress=False)
    assert calls == [("prior m=2", 1)]
    calls.clear()
    redone = run_grid(bench, fits, path, n_splits=2, columns={"device": "cpu"}, redo=True, progress=False)
    assert calls == [("prior m=1", 0), ("prior m=2", 0), ("prior m=1", 1), ("prior m=2", 1)] and len(redone) == 6
    pd.testing.assert_frame_equal(redone[table.columns], table, check_like=True)
    # more splits than the file has runs the new split only; another base seed is another grid
    calls.clear()
    run_grid(bench, fits[:1], path, n_splits=3, progress=False)
    assert calls == [("prior m=1", 2)]
    calls.clear()
    reseeded = run_grid(bench, fits[:1], path, n_splits=1, seed=5, progress=False)
    assert calls == [("prior m=1", 0)] and sorted(set(reseeded["seed"])) == [0, 5]


def test_run_grid_shares_a_split_between_fits_of_one_setting_and_takes_an_evaluator(tmp_path):
    import pandas as pd

    from neighborlib.protocol import run_grid

    bench, seen = _bench(), []

    def make(tag):
        def build():
            def method(data):
                seen.append((tag, data))
                return data.cached(("prior",), lambda: data.Y("train").mean(0)) + np.zeros(data.Y("test").shape)
            return method
        return build

    fits = [("a", {"m": 1}, make("a1")), ("b", {"m": 1}, make("b1")), ("a", {"m": 2}, make("a2"))]
    evaluator = lambda s, t: {"hits": float((s > 0.3).sum())}  # noqa: E731
    table = run_grid(bench, fits, tmp_path / "g.csv", n_splits=1, evaluator=evaluator, progress=False)
    assert seen[0][1] is seen[1][1] and seen[2][1] is not seen[0][1]  # (a, 1) and (b, 1) saw one SplitData; (a, 2) another
    assert "hits" in table.columns and "mAP_label" not in table.columns
    # a file of another layout (no seed column: written before seeds were keys) is refused before any fit
    old = tmp_path / "old.csv"
    pd.DataFrame({"set": ["Toy"], "images": [400], "method": ["a"], "m": [1], "split": [0], "hits": [1.0]}).to_csv(old, index=False)
    seen.clear()
    with pytest.raises(ValueError, match=r"old\.csv: no key column\(s\) \['seed'\]"):
        run_grid(bench, fits, old, n_splits=1, progress=False)
    assert seen == []


def test_describe_splits_is_the_caption_of_the_run_it_describes():
    bench = _bench()
    res = run_protocol(bench, {"tag-only": methods.tag_only()}, n_splits=3, seed=2, progress=False)
    assert describe_splits(bench, 3, seed=2) == res.caption()
    assert describe_splits(bench, 3, seed=2) != describe_splits(bench, 1, seed=2)  # "over 1 seeded splits"
    assert "over 3 seeded splits (train" in res.caption()


def test_records_table_formats_a_long_table_as_the_run_formats_itself(tmp_path):
    from neighborlib.protocol import WEAK_FRACTIONS, records_table, run_grid

    bench = _bench()
    prior = lambda data: np.tile(data.Y("train").mean(0), (len(data.test), 1))  # noqa: E731
    res = run_protocol(bench, {"tag-only": methods.tag_only(), "prior": prior}, n_splits=3,
                       progress=False, upper_bound=False)
    cols = ["mAP_label", "mAP_image"]
    got = records_table(res.records(), cols, ["prior", "tag-only"])
    assert list(got.index) == ["prior", "tag-only"]
    assert got.equals(res.table(cols).loc[["prior", "tag-only"]])
    with pytest.raises(KeyError, match="LTN"):
        records_table(res.records(), cols, ["LTN"])
    # a grid on the weak-supervision chapter's splits (every image, its fractions) equals its protocol run
    weak = dict(fractions=WEAK_FRACTIONS, every_image=True)
    grid = run_grid(bench, [("tag-only", {}, methods.tag_only)], tmp_path / "g.csv", n_splits=2, progress=False, **weak)
    ref = run_protocol(bench, {"tag-only": methods.tag_only()}, n_splits=2, progress=False, upper_bound=False, **weak)
    assert records_table(grid, cols).equals(ref.table(cols))
