"""A synthetic social-image world: labels, users, tags, groups, sets and rendered photos.

Where no real data exists (a fresh clone) the whole book runs on this world, and
the tests use it as their fast fixture. Everything it makes says it is synthetic:
``dataset.synthetic is True``, ``name == "synthetic"``, the description begins with
``"SYNTHETIC social-image world"`` and every PNG carries a ``Comment`` text chunk
``"neighborlib synthetic world, seed=..., index=..."``.

The generative story (one call of :func:`make_synthetic_world`):

1. **Labels.** 20 ground-truth labels with real-word names: six *scene* labels
   (``sky sea sunset night snow indoor``) and fourteen *object* labels. Each image
   has exactly one scene kind (:data:`SCENES`: ``outdoor`` - daylight over land -
   or one named like its label); ``sea`` and ``sunset`` also carry ``sky``, and
   ``outdoor`` and ``snow`` do when the horizon is in frame. Every image also
   has 1-3 objects, drawn without replacement
   with weights ``base frequency x scene compatibility x owner interest x album
   theme`` - so boats go with the sea, cats indoors, and ``people`` is common while
   ``horse`` and ``bicycle`` are rare.
2. **Users.** Every image has an owner; owners' image counts are heavy-tailed.
   A user has topical interests (a Dirichlet scene preference, object passions),
   a language, a preferred surface form per label (``dog`` / ``puppy`` / ``doggy``
   ...), a recall (true labels are often left untagged), junk habits (camera
   ``nikon d300``, ``explore``, ``365days``, years, home city, personal words) and a
   chance of not tagging an image at all (about 7% of images end up untagged, as
   in MIRFlickr).
3. **Sets** are per-user albums: an event with a theme scene, theme objects, a
   place and a year; most of an album's photos share its scene and objects, and
   some users bulk-tag a whole album (so album tags can be wrong for single photos).
4. **Groups** are topical Flickr pools (``dogsofflickr``, ``seascapes`` ...) shared by
   many users, plus generic ones (``beautifulshot``, ``nikonusers``); a member
   posts matching photos often and other photos rarely.
5. **Hard cases** (about 15%): non-canonical views - objects tiny, occluded, oddly
   coloured, or the photo dark and blurred - flagged in ``extras["hard"]``.
6. **Photos** are drawn procedurally (numpy + PIL): a scene background (sky
   gradient and grass, sea band with waves, starry night, snowfield, sunset
   gradient with sun, indoor wall and floor) and each object as a characteristic
   shape with a colour distribution, random position, scale, rotation and flip,
   plus clutter, lighting, colour cast, blur and sensor noise. A photo depends on
   the world seed, its index and its content only, so any one can be re-rendered
   alone (:func:`render_image`).

Metadata for 25,000 images takes about a second; rendering is the expensive part
(about 1-2 ms per 96 px image on one core, plus PNG writing).
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, PngImagePlugin

from ..atomic import atomic_write, remove_stale_temporaries
from ..seeding import stream
from .base import SocialImageDataset
from .root import cache_root

__all__ = [
    "GENERATOR_VERSION",
    "LABELS",
    "OBJECT_LABELS",
    "SCENES",
    "SCENE_LABELS",
    "SyntheticWorld",
    "default_cache_dir",
    "image_comment",
    "make_synthetic_world",
    "render_array",
    "render_image",
    "render_world",
]

#: Bumped whenever labels, metadata or pixels change for the same arguments
#: (it is part of the default cache folder name).
GENERATOR_VERSION = 2  # 2: draws from neighborlib.seeding's named streams

# --------------------------------------------------------------------------------------
# Labels
# --------------------------------------------------------------------------------------

#: Scene kinds (one per image, ``extras["scene"]``). ``outdoor`` is daylight over land;
#: it carries the ``sky`` label when the horizon is in frame.
SCENES: tuple[str, ...] = ("outdoor", "sea", "sunset", "night", "snow", "indoor")
SCENE_LABELS: tuple[str, ...] = ("sky", "sea", "sunset", "night", "snow", "indoor")
OBJECT_LABELS: tuple[str, ...] = (
    "people", "tree", "building", "car", "dog", "cat", "flower",
    "bird", "clouds", "mountain", "food", "boat", "bicycle", "horse",
)
#: Column order of ``labels``: the six scene labels, then the fourteen object labels.
LABELS: tuple[str, ...] = SCENE_LABELS + OBJECT_LABELS
_L = {name: j for j, name in enumerate(LABELS)}
_NS, _NO = len(SCENES), len(OBJECT_LABELS)

_SCENE_BASE = np.array([0.30, 0.12, 0.10, 0.14, 0.10, 0.24])
_OBJECT_BASE = np.array([0.8, 0.6, 0.45, 0.3, 0.3, 0.22, 0.35, 0.2, 0.35, 0.2, 0.15, 0.12, 0.05, 0.045])
# scene x object compatibility (0: never). Columns in OBJECT_LABELS order.
_COMPAT = np.array(
    [
        # peo  tree bldg car  dog  cat  flwr bird clds mtn  food boat bike horse
        [1.0, 1.5, 1.0, 1.0, 1.0, 0.3, 1.2, 1.0, 1.5, 1.0, 0.1, 0.0, 1.0, 1.5],  # sky
        [1.0, 0.3, 0.3, 0.0, 0.6, 0.0, 0.0, 1.5, 1.2, 0.6, 0.0, 5.0, 0.0, 0.2],  # sea
        [0.8, 1.2, 0.6, 0.3, 0.3, 0.0, 0.2, 1.0, 1.5, 1.0, 0.0, 1.5, 0.3, 0.3],  # sunset
        [1.0, 0.3, 3.0, 2.0, 0.1, 0.2, 0.0, 0.0, 0.0, 0.2, 0.6, 0.5, 0.4, 0.0],  # night
        [1.0, 2.0, 0.5, 0.5, 1.2, 0.1, 0.0, 0.5, 0.6, 2.5, 0.0, 0.0, 0.2, 0.8],  # snow
        [1.5, 0.0, 0.0, 0.0, 1.2, 2.5, 1.0, 0.1, 0.0, 0.0, 3.0, 0.0, 0.3, 0.0],  # indoor
    ]
)
_SKY_P = {"outdoor": 0.6, "snow": 0.55}  # these scenes show the sky (and get the label) this often
_HARD_P = 0.15
_N_OBJECTS_CUM = (0.45, 0.83)  # P(k=1), P(k<=2); else k=3

# --------------------------------------------------------------------------------------
# Tagging vocabularies
# --------------------------------------------------------------------------------------

# Surface forms per label, canonical first.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "sky": ("sky", "skies", "bluesky", "skyscape"),
    "sea": ("sea", "ocean", "seaside", "seascape"),
    "sunset": ("sunset", "sunsets", "dusk", "sundown", "sunrise"),
    "night": ("night", "nighttime", "nightshot", "nightphotography"),
    "snow": ("snow", "snowy", "snowfall"),
    "indoor": ("indoor", "indoors", "inside", "interior"),
    "people": ("people", "person", "man", "woman", "girl", "boy", "kids", "crowd"),
    "tree": ("tree", "trees", "woods"),
    "building": ("building", "buildings", "architecture", "house", "tower"),
    "car": ("car", "cars", "auto", "automobile", "vehicle"),
    "dog": ("dog", "dogs", "puppy", "doggy", "canine", "pup"),
    "cat": ("cat", "cats", "kitty", "kitten", "feline"),
    "flower": ("flower", "flowers", "blossom", "bloom", "floral"),
    "bird": ("bird", "birds", "seagull", "gull", "pigeon", "duck"),
    "clouds": ("clouds", "cloud", "cloudy", "cloudscape"),
    "mountain": ("mountain", "mountains", "peak", "alps", "hills"),
    "food": ("food", "dinner", "lunch", "meal", "breakfast"),
    "boat": ("boat", "boats", "sailboat", "ship", "yacht"),
    "bicycle": ("bicycle", "bike", "bikes", "cycling"),
    "horse": ("horse", "horses", "pony"),
}
_LANGS = ("en", "es", "fr", "de", "it")
_LANG_P = (0.8, 0.05, 0.05, 0.05, 0.05)
_TRANSLATIONS: dict[str, tuple[str, str, str, str]] = {  # es, fr, de, it
    "sky": ("cielo", "ciel", "himmel", "cielo"),
    "sea": ("mar", "mer", "meer", "mare"),
    "sunset": ("atardecer", "coucherdesoleil", "sonnenuntergang", "tramonto"),
    "night": ("noche", "nuit", "nacht", "notte"),
    "snow": ("nieve", "neige", "schnee", "neve"),
    "indoor": ("interior", "interieur", "innen", "interno"),
    "people": ("gente", "gens", "leute", "persone"),
    "tree": ("arbol", "arbre", "baum", "albero"),
    "building": ("edificio", "batiment", "gebaude", "palazzo"),
    "car": ("coche", "voiture", "auto", "macchina"),
    "dog": ("perro", "chien", "hund", "cane"),
    "cat": ("gato", "chat", "katze", "gatto"),
    "flower": ("flor", "fleur", "blume", "fiore"),
    "bird": ("pajaro", "oiseau", "vogel", "uccello"),
    "clouds": ("nubes", "nuages", "wolken", "nuvole"),
    "mountain": ("montana", "montagne", "berg", "montagna"),
    "food": ("comida", "nourriture", "essen", "cibo"),
    "boat": ("barco", "bateau", "boot", "barca"),
    "bicycle": ("bicicleta", "velo", "fahrrad", "bicicletta"),
    "horse": ("caballo", "cheval", "pferd", "cavallo"),
}
# Words that come with a label without naming it.
_RELATED: dict[str, tuple[str, ...]] = {
    "sky": ("blue", "summer", "sun", "outdoors", "landscape"),
    "sea": ("beach", "waves", "water", "coast", "sand", "holiday"),
    "sunset": ("sun", "orange", "evening", "silhouette", "golden"),
    "night": ("lights", "dark", "longexposure", "city", "nightlife"),
    "snow": ("winter", "cold", "ice", "white", "ski"),
    "indoor": ("home", "room", "window", "kitchen", "livingroom"),
    "people": ("portrait", "friends", "family", "smile", "party"),
    "tree": ("nature", "forest", "green", "park", "leaves"),
    "building": ("city", "urban", "church", "old", "street"),
    "car": ("street", "road", "classic", "vintage", "traffic"),
    "dog": ("pet", "pets", "animal", "cute", "walk"),
    "cat": ("pet", "pets", "animal", "cute", "whiskers"),
    "flower": ("macro", "garden", "spring", "petals", "pink"),
    "bird": ("wildlife", "nature", "animal", "feathers", "flight"),
    "clouds": ("weather", "storm", "blue", "dramatic"),
    "mountain": ("landscape", "hiking", "nature", "rocks", "valley"),
    "food": ("yummy", "delicious", "restaurant", "homemade", "kitchen"),
    "boat": ("harbour", "harbor", "sailing", "water", "port"),
    "bicycle": ("ride", "wheels", "street", "commute"),
    "horse": ("farm", "animal", "riding", "equestrian"),
}
# Per-label chance that a user who could tag it does (nobody tags "indoor").
_TAGABILITY = {
    "sky": 0.55, "sea": 0.85, "sunset": 0.9, "night": 0.75, "snow": 0.85, "indoor": 0.25,
    "people": 0.6, "tree": 0.6, "building": 0.6, "car": 0.8, "dog": 0.95, "cat": 0.95,
    "flower": 0.9, "bird": 0.85, "clouds": 0.65, "mountain": 0.85, "food": 0.8, "boat": 0.85,
    "bicycle": 0.85, "horse": 0.9,
}
_JUNK = (
    "explore", "interestingness", "365days", "365", "abigfave", "supershot", "flickrdiamond",
    "bw", "blackandwhite", "nikonstunninggallery", "diamondclassphotographer", "photo",
    "photography", "art", "travel", "vacation", "holiday", "fun", "me", "color", "colour",
    "light", "green", "red", "hdr", "film", "lomo", "analog", "geotagged", "top20", "wow",
    "excellentphotographer", "impressedbeauty", "aplusphoto", "naturesfinest", "colorful",
    "canonraw", "digital", "2much", "randomness", "cool", "beautiful", "myfavorites", "eos",
)
_CAMERAS = (
    ("nikon", "d300"), ("nikon", "d80"), ("nikon", "d40"), ("canon", "400d"), ("canon", "40d"),
    ("canon", "powershot"), ("canon", "rebelxt"), ("sony", "alpha"), ("olympus", "e510"),
    ("pentax", "k10d"), ("panasonic", "lumix"), ("fujifilm", "finepix"), ("kodak", "easyshare"),
    ("leica", "m8"), ("iphone", "cameraphone"),
)
_CITIES = (
    ("london", "england"), ("paris", "france"), ("newyork", "usa"), ("amsterdam", "netherlands"),
    ("berlin", "germany"), ("tokyo", "japan"), ("sanfrancisco", "california"), ("toronto", "canada"),
    ("sydney", "australia"), ("barcelona", "spain"), ("rome", "italy"), ("seattle", "usa"),
    ("chicago", "usa"), ("dublin", "ireland"), ("madrid", "spain"), ("munich", "germany"),
    ("vancouver", "canada"), ("boston", "usa"), ("lisbon", "portugal"), ("prague", "czechrepublic"),
    ("melbourne", "australia"), ("istanbul", "turkey"), ("brighton", "england"), ("venice", "italy"),
)
_EVENTS = (
    "vacation", "holiday", "trip", "weekend", "wedding", "birthday", "party", "christmas",
    "summer", "roadtrip", "walk", "family", "garden", "home", "festival", "daytrip",
)
_SYLLABLES = (
    "ka", "lo", "mi", "ra", "ne", "to", "su", "vi", "da", "ri", "mo", "be", "zu", "la", "fi",
    "go", "ta", "shi", "ko", "ma", "pe", "ru", "sa", "yo", "an", "el", "or", "in", "us", "jo",
)
# Flickr groups: (name, labels it is about); () marks a generic group.
_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("dogsofflickr", ("dog",)), ("catsandkittens", ("cat",)), ("petsofflickr", ("dog", "cat")),
    ("seascapes", ("sea",)), ("beachlife", ("sea",)), ("nightshots", ("night",)),
    ("citylights", ("night", "building")), ("sunsetsandsunrises", ("sunset",)),
    ("winterwonderland", ("snow",)), ("foodporn", ("food",)), ("flowerpower", ("flower",)),
    ("macroflowers", ("flower",)), ("birdwatching", ("bird",)), ("carspotting", ("car",)),
    ("architecture", ("building",)), ("mountainscapes", ("mountain",)),
    ("treesandforests", ("tree",)), ("cloudporn", ("clouds",)), ("skyporn", ("sky", "clouds")),
    ("boatsandships", ("boat",)), ("horsesofflickr", ("horse",)), ("bicycles", ("bicycle",)),
    ("portraits", ("people",)), ("streetphotography", ("people", "car", "building")),
    ("landscapes", ("mountain", "tree", "sea")), ("interiors", ("indoor",)),
    ("flickrexplore", ()), ("beautifulshot", ()), ("anythinggoes", ()), ("colours", ()),
    ("365project", ()), ("abigfave", ()), ("supershot", ()), ("worldwidephotowalk", ()),
    ("nikonusers", ()), ("canonusers", ()),
)


def _pseudo_word(rng: np.random.Generator, n_syll: int) -> str:
    return "".join(_SYLLABLES[k] for k in rng.integers(0, len(_SYLLABLES), n_syll))


class _Uniforms:
    """Uniform(0, 1) draws from a numpy Generator, buffered for fast scalar use."""

    def __init__(self, rng: np.random.Generator, chunk: int = 1 << 16):
        self._rng, self._chunk = rng, chunk
        self._buf: list[float] = []
        self._pos = 0

    def __call__(self) -> float:
        if self._pos >= len(self._buf):
            self._buf = self._rng.random(self._chunk).tolist()
            self._pos = 0
        v = self._buf[self._pos]
        self._pos += 1
        return v

    def pick(self, seq: Sequence):
        return seq[int(self() * len(seq))]


def _categorical_rows(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One draw per row of a (n, k) probability matrix (rows need not be normalised)."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs)) * cum[:, -1]
    return np.minimum((u[:, None] >= cum).sum(axis=1), probs.shape[1] - 1)


# --------------------------------------------------------------------------------------
# The world
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SyntheticWorld:
    """What is needed to re-render any photo of a world, indexed by image id - 1.

    Kept in ``dataset.extras["world"]``; unaffected by :meth:`SocialImageDataset.subset`
    (photos are looked up through ``dataset.ids``).

    Attributes:
        seed, n_images, n_users, image_size, version: the generating arguments.
        scene: ``(N,)`` scene index into :data:`SCENES`.
        labels: ``(N, L)`` uint8 true labels in :data:`LABELS` order.
        hard: ``(N,)`` bool non-canonical views.
    """

    seed: int
    n_images: int
    n_users: int
    image_size: int
    version: int
    scene: np.ndarray
    labels: np.ndarray
    hard: np.ndarray

    def __repr__(self) -> str:
        return (
            f"SyntheticWorld(seed={self.seed}, n_images={self.n_images}, n_users={self.n_users}, "
            f"image_size={self.image_size}, version={self.version})"
        )

    def content(self, index: int) -> tuple[str, tuple[str, ...], bool]:
        """``(scene, true label names, hard)`` of image ``index`` (0-based, = id - 1)."""
        names = tuple(LABELS[j] for j in np.flatnonzero(self.labels[index]))
        return SCENES[int(self.scene[index])], names, bool(self.hard[index])


def _default_n_users(n_images: int) -> int:
    return max(1, int(round(n_images / 8)))


def _generate_metadata(n: int, seed: int, n_users: int) -> dict:
    rng = stream(seed, "synthetic.metadata")
    U = n_users
    L = len(LABELS)

    # ---- users ---------------------------------------------------------------------
    activity = rng.lognormal(0.0, 1.0, U)
    cum = np.cumsum(activity)
    owner = np.minimum(np.searchsorted(cum, rng.random(n) * cum[-1], side="right"), U - 1).astype(np.int64)

    scene_pref = rng.dirichlet(3.0 * _SCENE_BASE, U)
    obj_interest = rng.lognormal(0.0, 0.6, (U, _NO))
    passion = rng.random((U, _NO)) < 0.08
    obj_interest = np.where(passion, obj_interest * 6.0, obj_interest)

    lazy = rng.random(U) < 0.15
    p_untagged = np.where(lazy, 0.25, rng.beta(1.0, 50.0, U))
    recall = rng.beta(6.0, 2.0, U)
    lang = rng.choice(len(_LANGS), U, p=_LANG_P)
    n_forms = np.array([len(_SYNONYMS[l]) for l in LABELS])
    pref_form = np.where(
        rng.random((U, L)) < 0.7, 0, 1 + (rng.random((U, L)) ** 2 * (n_forms - 1)).astype(int)
    )
    related_rate = rng.beta(2.0, 4.0, U)
    camera = rng.integers(0, len(_CAMERAS), U)
    camera_rate = np.where(rng.random(U) < 0.25, 0.85, 0.0)
    home = rng.integers(0, len(_CITIES), U)
    place_rate = np.where(rng.random(U) < 0.5, 0.6, 0.05)
    year_rate = np.where(rng.random(U) < 0.25, 0.6, 0.03)
    base_year = rng.integers(2004, 2009, U)
    junk_rate = rng.gamma(1.0, 0.8, U)
    fav_junk = rng.integers(0, len(_JUNK), (U, 4))
    personal = [
        tuple(_pseudo_word(rng, int(k)) for k in rng.integers(2, 4, 3)) for _ in range(U)
    ]
    personal_rate = rng.beta(1.0, 2.0, U)
    p_set = np.where(rng.random(U) < 0.25, 0.0, rng.beta(4.0, 1.5, U))
    fav_rate = np.where(rng.random(U) < 0.3, 0.08, 0.0)
    bulk_tagger = rng.random(U) < 0.35
    group_activity = np.where(rng.random(U) < 0.35, 0.0, rng.lognormal(0.0, 0.5, U))
    wrong_rate = 0.04

    # group membership: topical groups by interest in their labels
    label_interest = np.concatenate(
        [scene_pref / _SCENE_BASE, obj_interest / obj_interest.mean(axis=1, keepdims=True)], axis=1
    )  # (U, L), ~1 on average
    G = len(_GROUPS)
    member_p = np.empty((U, G))
    for g, (gname, glabels) in enumerate(_GROUPS):
        if glabels:
            interest = label_interest[:, [_L[l] for l in glabels]].max(axis=1)
            member_p[:, g] = 1.0 - np.exp(-0.12 * interest * group_activity)
        elif gname in ("nikonusers", "canonusers"):
            brand = gname[:-5]
            is_brand = np.array([_CAMERAS[c][0] == brand for c in camera])
            member_p[:, g] = np.where(is_brand, 0.5 * np.minimum(group_activity, 1.0), 0.0)
        else:
            member_p[:, g] = 0.12 * np.minimum(group_activity, 1.5)
    member = rng.random((U, G)) < member_p
    member_groups = [np.flatnonzero(row).tolist() for row in member]
    group_label_sets = [frozenset(_L[l] for l in glabels) for _, glabels in _GROUPS]

    # ---- albums (sets) ---------------------------------------------------------------
    n_per_user = np.bincount(owner, minlength=U)
    n_albums = np.minimum(1 + rng.poisson(n_per_user / 10.0), np.maximum(n_per_user, 1))
    album_offset = np.concatenate([[0], np.cumsum(n_albums)[:-1]])
    A = int(n_albums.sum())
    album_user = np.repeat(np.arange(U), n_albums)
    album_scene = _categorical_rows(rng, scene_pref[album_user])
    theme_w = obj_interest[album_user] * _OBJECT_BASE * _COMPAT[album_scene]
    gumbel = -np.log(-np.log(rng.random((A, _NO))))
    with np.errstate(divide="ignore"):
        keys = np.log(theme_w) + gumbel
    order = np.argsort(-keys, axis=1)
    n_theme = 1 + (rng.random(A) < 0.4)
    album_boost = np.ones((A, _NO))
    for r in range(2):
        sel = (n_theme > r) & np.isfinite(keys[np.arange(A), order[:, r]])
        album_boost[np.flatnonzero(sel), order[sel, r]] = 6.0
    album_home = rng.random(A) < 0.6
    album_city = np.where(album_home, home[album_user], rng.integers(0, len(_CITIES), A))
    album_year = base_year[album_user] + rng.integers(0, 3, A)
    album_event = rng.integers(0, len(_EVENTS), A)
    album_bulk = bulk_tagger[album_user] & (rng.random(A) < 0.7)
    album_local = np.arange(A) - album_offset[album_user]

    in_set = rng.random(n) < p_set[owner]
    local = (rng.random(n) * n_albums[owner]).astype(np.int64)
    album = np.where(in_set, album_offset[owner] + local, -1)

    # ---- content ---------------------------------------------------------------------
    scene = _categorical_rows(rng, scene_pref[owner])
    follow = in_set & (rng.random(n) < 0.8)
    scene = np.where(follow, album_scene[np.maximum(album, 0)], scene)
    u = rng.random(n)
    sky_visible = (
        np.isin(scene, [1, 2])
        | ((scene == 0) & (u < _SKY_P["outdoor"]))
        | ((scene == 4) & (u < _SKY_P["snow"]))
    )
    w = _OBJECT_BASE * _COMPAT[scene] * obj_interest[owner]
    w = np.where(in_set[:, None], w * album_boost[np.maximum(album, 0)], w)
    w[~sky_visible, OBJECT_LABELS.index("clouds")] = 0.0  # no sky in frame: no clouds,
    w[~sky_visible & (scene != 3), OBJECT_LABELS.index("mountain")] = 0.0  # no skyline
    gumbel = -np.log(-np.log(rng.random((n, _NO))))
    with np.errstate(divide="ignore"):
        keys = np.log(w) + gumbel
    order = np.argsort(-keys, axis=1)[:, :3]
    u = rng.random(n)
    k = 1 + (u >= _N_OBJECTS_CUM[0]) + (u >= _N_OBJECTS_CUM[1])
    labels = np.zeros((n, L), dtype=np.uint8)
    has_scene_label = scene > 0  # outdoor has none of its own
    labels[np.flatnonzero(has_scene_label), scene[has_scene_label]] = 1
    labels[sky_visible, _L["sky"]] = 1
    rows = np.arange(n)
    for r in range(3):
        ok = (k > r) & np.isfinite(keys[rows, order[:, r]])
        labels[rows[ok], _NS + order[ok, r]] = 1
    hard = rng.random(n) < _HARD_P
    n_junk = rng.poisson(junk_rate[owner])

    # ---- tokens ----------------------------------------------------------------------
    draw = _Uniforms(rng)
    label_lists = [np.flatnonzero(row).tolist() for row in labels]
    album_tags: list[tuple[str, ...]] = []
    album_token: list[str] = []
    for a in range(A):
        user = int(album_user[a])
        event = _EVENTS[album_event[a]]
        album_token.append(f"u{user}_{event}{album_local[a] + 1}")
        if not album_bulk[a]:
            album_tags.append(())
            continue
        sc = int(album_scene[a])
        theme = [_SYNONYMS[LABELS[sc]][pref_form[user, sc]]] if 0 < sc < 5 else []
        theme += [
            _SYNONYMS[OBJECT_LABELS[o]][pref_form[user, _NS + o]] for o in np.flatnonzero(album_boost[a] > 1)
        ]
        album_tags.append((event, _CITIES[album_city[a]][0], str(album_year[a]), *theme))

    owner_l, album_l, n_junk_l = owner.tolist(), album.tolist(), n_junk.tolist()
    tags_out: list[tuple[str, ...]] = []
    groups_out: list[tuple[str, ...]] = []
    sets_out: list[tuple[str, ...]] = []
    for i in range(n):
        us, a, labs = owner_l[i], album_l[i], label_lists[i]
        # tags
        if draw() < p_untagged[us]:
            tags_out.append(())
        else:
            t: list[str] = []
            lg = lang[us]
            for j in labs:
                name = LABELS[j]
                if draw() < recall[us] * _TAGABILITY[name]:
                    if lg and draw() < 0.7:
                        t.append(_TRANSLATIONS[name][lg - 1])
                    else:
                        forms = _SYNONYMS[name]
                        t.append(forms[pref_form[us, j]] if draw() < 0.8 else draw.pick(forms))
                        if draw() < 0.1:
                            t.append(draw.pick(forms))
                if draw() < related_rate[us] * 0.6:
                    t.append(draw.pick(_RELATED[name]))
            if draw() < wrong_rate:
                t.append(_SYNONYMS[draw.pick(LABELS)][0])
            if a >= 0 and album_tags[a]:
                t.extend(album_tags[a])
            if draw() < camera_rate[us]:
                t.extend(_CAMERAS[camera[us]])
            if draw() < place_rate[us]:
                city = _CITIES[album_city[a] if a >= 0 else home[us]]
                t.extend(city if draw() < 0.5 else city[:1])
            if draw() < year_rate[us]:
                t.append(str(album_year[a] if a >= 0 else base_year[us]))
            if draw() < personal_rate[us]:
                t.append(draw.pick(personal[us]))
            for _ in range(n_junk_l[i]):
                t.append(_JUNK[fav_junk[us, int(draw() * 4)]] if draw() < 0.7 else draw.pick(_JUNK))
            tags_out.append(tuple(dict.fromkeys(t)))
        # groups
        gs: list[str] = []
        labset = labs
        for g in member_groups[us]:
            gl = group_label_sets[g]
            if gl:
                p = 0.5 if any(j in gl for j in labset) else 0.02
            else:
                p = 0.15
            if draw() < p:
                gs.append(_GROUPS[g][0])
        groups_out.append(tuple(gs))
        # sets
        s: list[str] = [album_token[a]] if a >= 0 else []
        if draw() < fav_rate[us]:
            s.append(f"u{us}_favourites")
        sets_out.append(tuple(s))

    return {
        "labels": labels,
        "scene": scene.astype(np.int64),
        "hard": hard,
        "owner": owner,
        "tags": tags_out,
        "groups": groups_out,
        "sets": sets_out,
    }


def default_cache_dir(seed: int, n_images: int, image_size: int, n_users: int | None = None) -> Path:
    """Where :func:`make_synthetic_world` writes its photos unless told otherwise."""
    name = f"seed{seed}-n{n_images}-s{image_size}-v{GENERATOR_VERSION}"
    if n_users is not None:
        name += f"-u{n_users}"
    return cache_root() / "synthetic" / name


def make_synthetic_world(
    n_images: int = 2000,
    seed: int = 0,
    image_size: int = 96,
    render: bool = True,
    cache_dir: str | os.PathLike | None = None,
    n_users: int | None = None,
    progress: bool = False,
) -> SocialImageDataset:
    """Generate the synthetic social-image world (see the module docstring for the story).

    Args:
        n_images: number of images ``N``; ids are ``1..N``.
        seed: the world seed; same arguments give identical labels, tokens and pixels.
        image_size: side of the square photos in pixels.
        render: write the photos as PNG files (skipping valid existing ones) and set
            ``image_paths``; ``False`` writes nothing and leaves ``image_paths=None``.
        cache_dir: folder for the PNGs (default :func:`default_cache_dir`).
        n_users: number of users (default ``round(N / 8)``).
        progress: show a tqdm bar while rendering.

    Returns:
        A :class:`SocialImageDataset` with ``synthetic=True``, metadata kinds
        ``"tags"``, ``"groups"``, ``"sets"`` and extras ``"owner"`` (``(N,)`` int64 user
        ids), ``"hard"`` (``(N,)`` bool), ``"scene"`` (``(N,)`` scene names),
        ``"generator_version"`` and ``"world"`` (a :class:`SyntheticWorld`, used by
        :func:`render_image`).
    """
    n_images, seed, image_size = int(n_images), int(seed), int(image_size)
    if n_images < 1:
        raise ValueError(f"n_images must be >= 1, got {n_images}")
    if image_size < 16:
        raise ValueError(f"image_size must be >= 16, got {image_size}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    users = _default_n_users(n_images) if n_users is None else int(n_users)
    if users < 1:
        raise ValueError(f"n_users must be >= 1, got {n_users}")
    meta = _generate_metadata(n_images, seed, users)
    world = SyntheticWorld(
        seed=seed, n_images=n_images, n_users=users, image_size=image_size,
        version=GENERATOR_VERSION, scene=meta["scene"], labels=meta["labels"], hard=meta["hard"],
    )
    paths: tuple[Path, ...] | None = None
    if render:
        folder = (
            Path(cache_dir) if cache_dir is not None
            else default_cache_dir(seed, n_images, image_size, n_users)
        )
        paths = render_world(world, folder, progress=progress)
    ids = np.arange(1, n_images + 1, dtype=np.int64)
    return SocialImageDataset(
        name="synthetic",
        ids=ids,
        label_names=LABELS,
        labels=meta["labels"],
        metadata={"tags": meta["tags"], "groups": meta["groups"], "sets": meta["sets"]},
        image_paths=paths,
        synthetic=True,
        root=None,
        description=(
            f"SYNTHETIC social-image world (seed={seed}, n={n_images}): generated by "
            f"neighborlib.data.synthetic v{GENERATOR_VERSION} with {users} simulated users; "
            "not real photos, users or tags."
        ),
        extras={
            "owner": meta["owner"],
            "hard": meta["hard"],
            "scene": np.array(SCENES)[meta["scene"]],
            "generator_version": GENERATOR_VERSION,
            "world": world,
        },
    )


# --------------------------------------------------------------------------------------
# Writing photos
# --------------------------------------------------------------------------------------


def image_comment(world: SyntheticWorld, index: int) -> str:
    """The PNG ``Comment`` of photo ``index``: says it is synthetic and pins its content."""
    scene, names, hard = world.content(index)
    return (
        f"neighborlib synthetic world, seed={world.seed}, index={index}, id={index + 1}, "
        f"version={world.version}, scene={scene}, labels={'+'.join(names)}, hard={int(hard)}"
    )


def _is_valid(path: Path, size: int, comment: str) -> bool:
    try:
        with Image.open(path) as im:
            if im.format != "PNG" or im.size != (size, size) or im.mode != "RGB":
                return False
            if im.info.get("Comment") != comment:
                return False
            im.verify()
        return True
    except Exception:  # truncated, corrupt, unreadable: re-render
        return False


def _write_png(img: Image.Image, path: Path, comment: str) -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", comment)
    # Not fsynced: a photo is regenerable and validated before reuse (_png_is_valid).
    atomic_write(path, lambda f: img.save(f, format="PNG", pnginfo=info, compress_level=1), durable=False)


def render_world(
    world: SyntheticWorld, folder: str | os.PathLike, progress: bool = False
) -> tuple[Path, ...]:
    """Write every photo of ``world`` into ``folder`` as ``im<id>.png``; return the paths.

    Existing files are kept when they are valid PNGs of the right size whose
    ``Comment`` matches (so an interrupted run resumes); anything else - missing,
    truncated, stale - is re-rendered. Each file is written to a temporary name in
    the same folder and moved into place with ``os.replace``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(folder)  # leftovers of a killed render
    paths = tuple(folder / f"im{i + 1}.png" for i in range(world.n_images))
    it: object = range(world.n_images)
    if progress:
        from tqdm import tqdm

        it = tqdm(it, total=world.n_images, desc="rendering synthetic photos", unit="img")
    for i in it:  # type: ignore[union-attr]
        comment = image_comment(world, i)
        if paths[i].exists() and _is_valid(paths[i], world.image_size, comment):
            continue
        _write_png(_render_index(world, i), paths[i], comment)
    return paths


def _render_index(world: SyntheticWorld, index: int, image_size: int | None = None) -> Image.Image:
    scene, names, hard = world.content(index)
    arr = render_array(world.seed, index, scene, names, hard, image_size or world.image_size)
    return Image.fromarray(arr)


def render_image(
    world: SocialImageDataset | SyntheticWorld, i: int, image_size: int | None = None
) -> Image.Image:
    """Render one photo in memory (pixel-identical to the cached PNG).

    Args:
        world: a synthetic dataset (``i`` is a row of it; subsets work, the photo
            is found by id) or a :class:`SyntheticWorld` (``i`` is 0-based id - 1).
        i: which image.
        image_size: override the world's image size.
    """
    if isinstance(world, SocialImageDataset):
        spec = world.extras.get("world") if world.synthetic else None
        if not isinstance(spec, SyntheticWorld):
            raise ValueError(f"{world.name} is not a synthetic world made by make_synthetic_world")
        index = int(world.ids[i]) - 1
        world = spec
    else:
        index = int(i)
    if not 0 <= index < world.n_images:
        raise IndexError(f"image index {index} out of range for {world.n_images} images")
    return _render_index(world, index, image_size)


# --------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------

_SS = 2  # supersampling factor for drawing shapes
_ANGLES = np.linspace(0, 2 * np.pi, 14, endpoint=False)
_CIRCLE = np.stack([np.cos(_ANGLES), np.sin(_ANGLES)], axis=1)


@lru_cache(maxsize=8)
def _noise_tile(size: int) -> np.ndarray:
    """A fixed Gaussian noise tile (a pure function of its size); photos take random crops."""
    t = max(256, 2 * size)
    return np.random.default_rng([20150101, t]).standard_normal((t, t, 3), dtype=np.float32)


@lru_cache(maxsize=8)
def _ramp(size: int) -> np.ndarray:
    return np.linspace(0.0, 1.0, size, dtype=np.float32)


@lru_cache(maxsize=8)
def _vignette(size: int) -> np.ndarray:
    r = _ramp(size) * 2 - 1
    d = r[:, None] ** 2 + r[None, :] ** 2
    return (1.0 - 0.25 * d).astype(np.float32)[:, :, None]


def _smooth_field(rng: np.random.Generator, size: int, grid: int = 5) -> np.ndarray:
    """Low-frequency noise in about [-1, 1], shape (size, size)."""
    g = rng.standard_normal((grid, grid)).astype(np.float32)
    return np.asarray(Image.fromarray(g).resize((size, size), Image.BILINEAR))


def _jitter(rng: np.random.Generator, colour, rel: float = 0.08, abs_: float = 8.0) -> np.ndarray:
    c = np.asarray(colour, dtype=np.float64)
    return np.clip(c * (1.0 + rel * rng.standard_normal()) + abs_ * rng.standard_normal(3), 0, 255)


def _vertical(profile_rows: np.ndarray, size: int) -> np.ndarray:
    return np.broadcast_to(profile_rows[:, None, :], (size, size, 3)).copy()


def _gradient(top, bottom, n: int) -> np.ndarray:
    t = np.linspace(0.0, 1.0, max(n, 0), dtype=np.float32)[:, None]
    return np.asarray(top, np.float32) * (1 - t) + np.asarray(bottom, np.float32) * t


def _background(
    rng: np.random.Generator, scene: str, sky: bool, water: bool, S: int
) -> tuple[np.ndarray, float]:
    """Scene background (S, S, 3) float32 and the horizon as a fraction of height."""
    if scene == "indoor":
        horizon = rng.uniform(0.55, 0.75)
    elif scene in ("snow", "outdoor") and not sky:
        horizon = 0.0  # looking down at the ground: no sky in frame
    elif scene == "sea":
        horizon = rng.uniform(0.35, 0.55)
    else:
        horizon = rng.uniform(0.5, 0.72)
    h = int(round(horizon * S))
    h = min(max(h, 0), S)
    rows = np.empty((S, 3), np.float32)
    field = _smooth_field(rng, S)
    if scene == "outdoor":
        rows[:h] = _gradient(_jitter(rng, (70, 130, 215)), _jitter(rng, (175, 210, 240)), h)
        grounds = ((95, 150, 60), (95, 150, 60), (170, 160, 90), (130, 105, 75), (125, 125, 120))
        g = np.asarray(grounds[int(rng.integers(len(grounds)))], np.float32)
        rows[h:] = _gradient(_jitter(rng, g, 0.15), _jitter(rng, g * 0.7, 0.15), S - h)
        img = _vertical(rows, S)
        img[h:] *= (1.0 + 0.15 * field[h:, :, None])
    elif scene == "sea":
        sand = int(round(rng.uniform(0.8, 1.05) * S))
        rows[:h] = _gradient(_jitter(rng, (80, 140, 220)), _jitter(rng, (185, 215, 240)), h)
        rows[h:] = _gradient(_jitter(rng, (30, 80, 140), 0.12), _jitter(rng, (40, 120, 150), 0.12), S - h)
        img = _vertical(rows, S)
        yy = np.arange(h, S, dtype=np.float32)[:, None]
        xx = np.arange(S, dtype=np.float32)[None, :]
        freq = rng.uniform(0.6, 1.2) * 96 / S
        waves = np.sin(yy * freq + 0.15 * np.sin(xx * 0.2 * 96 / S) + rng.uniform(0, 6.3))
        img[h:] *= (1.0 + 0.1 * waves[:, :, None])
        if sand < S:
            img[sand:] = _jitter(rng, (215, 195, 150), 0.08) * (1.0 + 0.08 * field[sand:, :, None])
    elif scene == "sunset":
        rows[:h] = _gradient(_jitter(rng, (70, 50, 120), 0.15), _jitter(rng, (250, 150, 50), 0.1), h)
        low = (40, 50, 80) if water else (45, 30, 25)
        rows[h:] = _gradient(_jitter(rng, low, 0.2), _jitter(rng, (20, 15, 15), 0.2), S - h)
        img = _vertical(rows, S)
        cx = rng.uniform(0.2, 0.8) * S
        r = rng.uniform(0.05, 0.1) * S
        cy = h - rng.uniform(-0.3, 1.0) * r
        yy, xx = np.ogrid[:h, :S]
        img[:h][(xx - cx) ** 2 + (yy - cy) ** 2 < r * r] = _jitter(rng, (255, 215, 110), 0.05, 6)
        if water:
            xx = np.arange(S, dtype=np.float32)
            glow = np.exp(-(((xx - cx) / (0.12 * S)) ** 2))
            img[h:, :, 0] += 120 * glow
            img[h:, :, 1] += 60 * glow
    elif scene == "night":
        rows[:h] = _gradient(_jitter(rng, (8, 10, 30), 0.3, 4), _jitter(rng, (25, 30, 60), 0.3, 4), h)
        low = (15, 25, 45) if water else (20, 18, 18)
        rows[h:] = _gradient(_jitter(rng, low, 0.3, 4), _jitter(rng, (8, 8, 10), 0.3, 3), S - h)
        img = _vertical(rows, S)
        if h > 2:
            n_stars = int(rng.integers(10, 50))
            ys = rng.integers(0, h, n_stars)
            xs = rng.integers(0, S, n_stars)
            img[ys, xs] = rng.uniform(150, 255, (n_stars, 1)).astype(np.float32)
    elif scene == "snow":
        if h > 0:
            rows[:h] = _gradient(_jitter(rng, (165, 180, 200), 0.1), _jitter(rng, (215, 220, 228), 0.05), h)
        near, far = _jitter(rng, (240, 243, 250), 0.03, 4), _jitter(rng, (215, 222, 238), 0.04, 5)
        rows[h:] = _gradient(near, far, S - h)
        img = _vertical(rows, S)
        img[h:] *= (1.0 + 0.06 * field[h:, :, None])
    else:  # indoor
        walls = ((215, 200, 170), (235, 232, 225), (180, 200, 175), (170, 180, 200), (200, 160, 140))
        floors = ((130, 90, 55), (160, 120, 80), (90, 70, 60), (150, 150, 150))
        wall = _jitter(rng, walls[rng.integers(len(walls))], 0.1)
        rows[:h] = _gradient(wall, _jitter(rng, (150, 140, 120), 0.1), h)
        floor = _jitter(rng, floors[rng.integers(len(floors))], 0.12)
        rows[h:] = _gradient(floor, _jitter(rng, (60, 45, 35), 0.15), S - h)
        img = _vertical(rows, S)
        yy = np.arange(h, S, dtype=np.float32)[:, None]
        img[h:] *= (1.0 + 0.06 * np.sin(yy * 1.3 * 96 / S))[:, :, None]
        img *= (1.0 + 0.08 * field[:, :, None])
        if rng.random() < 0.5 and h > S // 4:  # a window or picture on the wall
            x0 = int(rng.uniform(0.05, 0.6) * S)
            y0 = int(rng.uniform(0.05, 0.2) * S)
            x1 = x0 + int(rng.uniform(0.15, 0.35) * S)
            y1 = min(h - 2, y0 + int(rng.uniform(0.15, 0.35) * S))
            pane = (190, 215, 240) if rng.random() < 0.6 else (120, 60, 50)
            img[y0:y1, x0:x1] = _jitter(rng, pane, 0.2, 20)
    return img, float(h) / S


class _Pen:
    """Draws primitives given in an object's local frame (origin at its base, y up is negative)."""

    __slots__ = ("draw", "m", "t", "scale")

    def __init__(
        self, draw: ImageDraw.ImageDraw, cx: float, cy: float, scale: float, angle: float, flip: float
    ):
        c, s = math.cos(angle), math.sin(angle)
        self.draw = draw
        self.scale = scale
        self.m = np.array([[c * flip * scale, -s * scale], [s * flip * scale, c * scale]])
        self.t = np.array([cx, cy])

    def pts(self, local) -> list[float]:
        return (np.asarray(local, dtype=np.float64) @ self.m.T + self.t).ravel().tolist()

    def poly(self, local, fill) -> None:
        self.draw.polygon(self.pts(local), fill=fill)

    def ellipse(self, ex: float, ey: float, rx: float, ry: float, fill) -> None:
        self.draw.polygon(self.pts(_CIRCLE * (rx, ry) + (ex, ey)), fill=fill)

    def rect(self, x0: float, y0: float, x1: float, y1: float, fill) -> None:
        self.poly(((x0, y0), (x1, y0), (x1, y1), (x0, y1)), fill)

    def line(self, local, width: float, fill) -> None:
        self.draw.line(self.pts(local), fill=fill, width=max(1, int(round(width * self.scale))))

    def ring(self, ex: float, ey: float, r: float, width: float, fill) -> None:
        pts = self.pts(_CIRCLE * r + (ex, ey))
        self.draw.line(pts + pts[:2], fill=fill, width=max(1, int(round(width * self.scale))))


# Colour distributions per object class (RGB 0-255).
_COL = {
    "canopy": ((34, 100, 34), (60, 130, 50), (85, 140, 40), (30, 80, 45)),
    "autumn": ((200, 110, 30), (170, 60, 30), (220, 170, 40)),
    "trunk": ((100, 70, 40), (80, 55, 35)),
    "flower": (
        (220, 30, 50), (240, 200, 40), (230, 110, 180), (150, 60, 200), (250, 250, 250), (250, 140, 30)
    ),
    "dog": ((140, 90, 45), (200, 165, 110), (40, 32, 28), (230, 225, 210), (170, 120, 70)),
    "cat": ((125, 125, 125), (215, 135, 60), (35, 35, 35), (235, 235, 230), (160, 140, 120)),
    "car": ((200, 30, 30), (30, 60, 170), (190, 190, 195), (25, 25, 30), (240, 240, 240), (230, 190, 20)),
    "bird": ((60, 60, 65), (120, 90, 60), (235, 235, 235), (40, 80, 170), (190, 40, 40)),
    "shirt": ((200, 40, 40), (40, 80, 180), (240, 240, 240), (30, 30, 30), (60, 140, 60), (230, 180, 40)),
    "skin": ((240, 200, 170), (200, 150, 110), (140, 95, 65), (90, 60, 40)),
    "trousers": ((40, 50, 90), (30, 30, 30), (120, 100, 80), (80, 80, 80)),
    "building": ((150, 150, 150), (170, 90, 70), (210, 190, 150), (100, 130, 160), (230, 230, 225)),
    "clouds": ((245, 245, 245), (225, 227, 232), (200, 200, 210)),
    "mountain": ((110, 115, 130), (130, 110, 95), (90, 100, 120), (120, 125, 110)),
    "food": ((200, 40, 30), (60, 150, 50), (140, 80, 40), (240, 200, 60), (240, 130, 30), (250, 240, 220)),
    "hull": ((245, 245, 245), (180, 40, 40), (40, 60, 140), (120, 80, 50)),
    "bicycle": ((200, 30, 30), (30, 60, 170), (30, 30, 30), (240, 240, 240), (40, 140, 70)),
    "horse": ((120, 70, 35), (160, 95, 50), (40, 30, 25), (235, 230, 220), (140, 140, 140)),
}
# size range as a fraction of the image side, drawing order (back to front)
_SIZE = {
    "mountain": (0.35, 0.6), "clouds": (0.3, 0.5), "building": (0.4, 0.75), "tree": (0.35, 0.6),
    "boat": (0.25, 0.45), "car": (0.3, 0.45), "horse": (0.35, 0.5), "bicycle": (0.25, 0.38),
    "people": (0.35, 0.6), "dog": (0.22, 0.35), "cat": (0.2, 0.32), "food": (0.35, 0.55),
    "flower": (0.22, 0.4), "bird": (0.1, 0.18),
}
_DRAW_ORDER = ("mountain", "clouds", "building", "tree", "boat", "car", "horse", "bicycle",
               "people", "dog", "cat", "food", "flower", "bird")
_HARD_KINDS = ("small", "occluded", "oddcolour", "darkblur")


class _Painter:
    def __init__(self, rng: np.random.Generator, scene: str, odd: bool):
        self.rng, self.scene, self.odd = rng, scene, odd

    def colour(self, key: str) -> tuple[int, int, int]:
        rng = self.rng
        if self.odd:
            c = rng.uniform(0, 255, 3)
        else:
            options = _COL[key]
            c = _jitter(rng, options[int(rng.integers(len(options)))])
        if self.scene == "night":
            c = c * 0.35
        elif self.scene == "sunset":
            c = c * 0.4 + np.array((25.0, 10.0, 0.0))
        return tuple(int(v) for v in c)


def _draw_object(name: str, pen: _Pen, paint: _Painter, rng: np.random.Generator, scene: str) -> None:
    col = paint.colour
    if name == "tree":
        pen.rect(-0.05, -0.42, 0.05, 0.0, col("trunk"))
        if scene == "snow" or rng.random() < 0.3:  # conifer
            green = col("canopy")
            for k in range(3):
                y = -0.3 - 0.22 * k
                w = 0.32 - 0.08 * k
                pen.poly(((-w, y), (w, y), (0, y - 0.38)), green)
            if scene == "snow":
                pen.poly(((-0.08, -0.82), (0.08, -0.82), (0, -0.98)), (240, 240, 245))
        else:
            leaf = col("autumn" if rng.random() < 0.15 else "canopy")
            pen.ellipse(0.0, -0.66, 0.33, 0.34, leaf)
            pen.ellipse(-0.16, -0.55, 0.2, 0.18, leaf)
            pen.ellipse(0.17, -0.58, 0.2, 0.18, leaf)
    elif name == "flower":
        n_heads = int(rng.integers(1, 4))
        for k in range(n_heads):
            dx = (k - (n_heads - 1) / 2) * 0.35
            top = -0.6 - 0.15 * rng.random()
            pen.line(((dx, 0.0), (dx + 0.03, top)), 0.05, col("canopy"))
            pen.ellipse(dx + 0.08, -0.25, 0.1, 0.04, col("canopy"))
            n_pet = int(rng.integers(5, 9))
            ang = np.linspace(0, 2 * np.pi, 2 * n_pet, endpoint=False) + rng.uniform(0, 1)
            rad = np.where(np.arange(2 * n_pet) % 2 == 0, 0.2, 0.07)
            star = np.stack([np.cos(ang) * rad + dx, np.sin(ang) * rad + top], axis=1)
            pen.poly(star, col("flower"))
            pen.ellipse(dx, top, 0.06, 0.06, (230, 190, 40) if rng.random() < 0.6 else (90, 60, 30))
    elif name == "dog":
        fur = col("dog")
        dark = tuple(int(v * 0.6) for v in fur)
        for x in (-0.32, -0.2, 0.22, 0.34):
            pen.rect(x - 0.04, -0.3, x + 0.04, 0.0, fur)
        pen.ellipse(0.0, -0.42, 0.44, 0.17, fur)
        pen.line(((-0.42, -0.45), (-0.58, -0.7)), 0.06, fur)
        pen.ellipse(0.46, -0.66, 0.16, 0.14, fur)
        pen.ellipse(0.62, -0.62, 0.1, 0.06, fur)
        pen.poly(((0.36, -0.76), (0.44, -0.76), (0.38, -0.52), (0.32, -0.56)), dark)
        pen.ellipse(0.71, -0.64, 0.03, 0.03, (20, 20, 20))
    elif name == "cat":
        fur = col("cat")
        if rng.random() < 0.5:  # sitting
            pen.ellipse(0.0, -0.32, 0.2, 0.32, fur)
            pen.line(((0.15, -0.02), (0.4, -0.05), (0.45, -0.2)), 0.05, fur)
            hx, hy = 0.0, -0.74
        else:  # walking
            for x in (-0.25, -0.15, 0.15, 0.25):
                pen.rect(x - 0.035, -0.25, x + 0.035, 0.0, fur)
            pen.ellipse(0.0, -0.33, 0.32, 0.14, fur)
            pen.line(((-0.3, -0.38), (-0.45, -0.6), (-0.38, -0.78)), 0.05, fur)
            hx, hy = 0.34, -0.52
        pen.ellipse(hx, hy, 0.15, 0.13, fur)
        pen.poly(((hx - 0.14, hy - 0.04), (hx - 0.12, hy - 0.26), (hx - 0.02, hy - 0.1)), fur)
        pen.poly(((hx + 0.14, hy - 0.04), (hx + 0.12, hy - 0.26), (hx + 0.02, hy - 0.1)), fur)
        eye = (120, 200, 60) if paint.scene != "night" else (200, 230, 90)
        pen.ellipse(hx - 0.06, hy - 0.01, 0.025, 0.03, eye)
        pen.ellipse(hx + 0.06, hy - 0.01, 0.025, 0.03, eye)
    elif name == "car":
        body = col("car")
        pen.poly(((-0.5, -0.1), (0.5, -0.1), (0.5, -0.28), (0.3, -0.32), (-0.5, -0.32)), body)
        pen.poly(((-0.32, -0.32), (0.22, -0.32), (0.1, -0.5), (-0.25, -0.5)), body)
        glass = (40, 50, 60) if paint.scene in ("night", "sunset") else (150, 180, 200)
        pen.poly(((-0.27, -0.34), (0.17, -0.34), (0.07, -0.47), (-0.22, -0.47)), glass)
        for x in (-0.3, 0.3):
            pen.ellipse(x, -0.1, 0.11, 0.11, (20, 20, 20))
            pen.ellipse(x, -0.1, 0.05, 0.05, (150, 150, 150))
        if paint.scene == "night":
            pen.ellipse(0.47, -0.24, 0.04, 0.03, (255, 240, 180))
    elif name == "bird":
        body = col("bird")
        pen.ellipse(0.0, 0.0, 0.28, 0.12, body)
        pen.ellipse(0.26, -0.07, 0.1, 0.09, body)
        pen.poly(((0.34, -0.09), (0.46, -0.05), (0.34, -0.03)), (230, 150, 30))
        pen.poly(((-0.26, 0.0), (-0.46, -0.08), (-0.44, 0.08)), body)
        up = rng.uniform(0.3, 0.6)
        pen.poly(((-0.1, -0.02), (0.1, -0.02), (-0.15, -up)), tuple(int(v * 0.8) for v in body))
    elif name == "people":
        n_people = 1 if rng.random() < 0.65 else int(rng.integers(2, 4))
        for k in range(n_people):
            dx = (k - (n_people - 1) / 2) * 0.32
            skin, shirt, legs = col("skin"), col("shirt"), col("trousers")
            pen.rect(dx - 0.09, -0.45, dx - 0.015, 0.0, legs)
            pen.rect(dx + 0.015, -0.45, dx + 0.09, 0.0, legs)
            pen.poly(((dx - 0.13, -0.8), (dx + 0.13, -0.8), (dx + 0.11, -0.43), (dx - 0.11, -0.43)), shirt)
            pen.line(((dx - 0.12, -0.78), (dx - 0.2, -0.5)), 0.05, shirt)
            pen.line(((dx + 0.12, -0.78), (dx + 0.2, -0.5)), 0.05, shirt)
            pen.ellipse(dx, -0.9, 0.085, 0.1, skin)
            pen.ellipse(dx, -0.96, 0.09, 0.05, tuple(int(v * 0.35) for v in col("dog")))
    elif name == "building":
        wall = col("building")
        w = rng.uniform(0.3, 0.55)
        pen.rect(-w, -1.0, w, 0.0, wall)
        if rng.random() < 0.3:
            roof = tuple(int(v * 0.7) for v in wall)
            pen.poly(((-w - 0.05, -1.0), (w + 0.05, -1.0), (0.0, -1.0 - w * 0.7)), roof)
        lit = paint.scene == "night"
        nx = int(rng.integers(2, 5))
        ny = int(rng.integers(3, 7))
        for r in range(ny):
            for c in range(nx):
                x0 = -w + (c + 0.25) * 2 * w / nx
                y0 = -0.95 + r * 0.88 / ny
                if lit:
                    fill = (250, 220, 120) if rng.random() < 0.6 else (40, 50, 70)
                else:
                    fill = (60, 80, 110)
                pen.rect(x0, y0, x0 + w / nx, y0 + 0.45 / ny, fill)
    elif name == "clouds":
        c = col("clouds") if paint.scene != "sunset" else (235, 160, 140)
        for k in range(int(rng.integers(3, 6))):
            ex, ey = rng.uniform(-0.4, 0.4), rng.uniform(-0.15, 0.05)
            pen.ellipse(ex, ey, rng.uniform(0.15, 0.3), rng.uniform(0.08, 0.16), c)
    elif name == "mountain":
        rock = col("mountain")
        for k in range(int(rng.integers(1, 3))):
            dx = rng.uniform(-0.5, 0.5) * k
            hgt = rng.uniform(0.7, 1.0)
            wdt = rng.uniform(0.8, 1.3)
            pen.poly(((dx - wdt, 0.0), (dx + wdt, 0.0), (dx, -hgt)), rock)
            if paint.scene != "night":
                cap = ((dx - wdt * 0.3, -hgt * 0.7), (dx + wdt * 0.3, -hgt * 0.7), (dx, -hgt))
                pen.poly(cap, (245, 245, 250))
    elif name == "food":
        pen.ellipse(0.0, -0.5, 0.5, 0.42, (245, 245, 240) if not paint.odd else col("food"))
        pen.ellipse(0.0, -0.5, 0.4, 0.33, (230, 230, 225))
        for k in range(int(rng.integers(3, 7))):
            ex, ey = rng.uniform(-0.25, 0.25), -0.5 + rng.uniform(-0.2, 0.2)
            pen.ellipse(ex, ey, rng.uniform(0.06, 0.14), rng.uniform(0.05, 0.12), col("food"))
    elif name == "boat":
        hull = col("hull")
        pen.poly(((-0.5, -0.18), (0.5, -0.18), (0.36, 0.0), (-0.38, 0.0)), hull)
        if rng.random() < 0.6:
            pen.line(((0.0, -0.18), (0.0, -0.95)), 0.03, (90, 70, 50))
            sail = (250, 250, 245) if not paint.odd else col("hull")
            pen.poly(((0.03, -0.92), (0.03, -0.22), (0.4, -0.22)), sail)
            pen.poly(((-0.03, -0.8), (-0.03, -0.22), (-0.3, -0.22)), (235, 235, 230))
        else:
            pen.rect(-0.25, -0.38, 0.2, -0.18, (235, 235, 235))
            pen.rect(-0.18, -0.34, 0.12, -0.27, (60, 80, 110))
    elif name == "bicycle":
        frame = col("bicycle")
        pen.ring(-0.3, -0.2, 0.19, 0.035, (25, 25, 25))
        pen.ring(0.3, -0.2, 0.19, 0.035, (25, 25, 25))
        pen.line(((-0.3, -0.2), (-0.05, -0.2), (0.22, -0.5), (-0.12, -0.5), (-0.3, -0.2)), 0.04, frame)
        pen.line(((-0.05, -0.2), (-0.15, -0.58)), 0.04, frame)
        pen.line(((0.3, -0.2), (0.22, -0.5), (0.2, -0.62), (0.3, -0.64)), 0.04, frame)
        pen.rect(-0.22, -0.62, -0.08, -0.58, (30, 30, 30))
    elif name == "horse":
        coat = col("horse")
        dark = tuple(int(v * 0.5) for v in coat)
        for x in (-0.3, -0.2, 0.2, 0.3):
            pen.rect(x - 0.03, -0.5, x + 0.03, 0.0, coat)
        pen.ellipse(0.0, -0.58, 0.4, 0.15, coat)
        pen.poly(((0.22, -0.62), (0.34, -0.7), (0.5, -0.98), (0.4, -1.0), (0.3, -0.8), (0.2, -0.7)), coat)
        pen.poly(((0.4, -1.0), (0.52, -0.98), (0.68, -0.82), (0.62, -0.78)), coat)
        pen.line(((0.32, -0.98), (0.22, -0.72)), 0.04, dark)
        pen.line(((-0.38, -0.62), (-0.5, -0.3)), 0.05, dark)


def _place(name: str, rng: np.random.Generator, horizon: float, scene: str) -> tuple[float, float]:
    """Base point (fractions of the side) for an object."""
    x = rng.uniform(0.15, 0.85)
    if name in ("clouds",):
        return x, rng.uniform(0.12, max(0.15, horizon - 0.1))
    if name == "bird":
        if scene == "indoor" or rng.random() < 0.25:
            return x, rng.uniform(max(horizon, 0.4), 0.95)
        return x, rng.uniform(0.1, max(0.15, horizon - 0.1))
    if name == "mountain":
        return rng.uniform(0.2, 0.8), horizon + 0.01
    if name == "building":
        if horizon < 0.3:  # looking down: the building stands in the frame
            return x, rng.uniform(0.6, 0.98)
        return x, min(0.98, horizon + rng.uniform(0.0, 0.08))
    if name == "boat":
        lo = horizon + 0.05
        hi = 0.8 if scene == "sea" else 0.97
        return x, rng.uniform(lo, max(lo + 0.01, hi))
    if name == "food":
        return rng.uniform(0.3, 0.7), rng.uniform(0.7, 1.0)
    lo = max(horizon + 0.04, 0.35)
    return x, rng.uniform(lo, max(lo + 0.01, 0.98))


def render_array(
    seed: int, index: int, scene: str, labels: Sequence[str], hard: bool, image_size: int = 96
) -> np.ndarray:
    """Render one synthetic photo as a ``(S, S, 3)`` uint8 array.

    A pure function of its arguments: random choices (layout, colours, noise) come
    from the ``"synthetic.render"`` stream of ``(seed, index)``, content (scene, labels, hard) is given.
    """
    rng = stream(int(seed), "synthetic.render", int(index))
    S = int(image_size)
    labels = set(labels)
    objects = [o for o in _DRAW_ORDER if o in labels]
    sky = "sky" in labels
    water = scene == "sea" or ("boat" in labels and scene in ("sunset", "night"))
    hard_kind = _HARD_KINDS[int(rng.integers(len(_HARD_KINDS)))] if hard else ""

    bg, horizon = _background(rng, scene, sky, water, S)
    big = S * _SS
    img = Image.fromarray(np.clip(bg, 0, 255).astype(np.uint8)).resize((big, big), Image.NEAREST)
    draw = ImageDraw.Draw(img)

    # clutter: rocks, bushes, signs - no label
    for _ in range(int(rng.integers(0, 4))):
        cx, cy = rng.uniform(0, 1) * big, rng.uniform(max(horizon, 0.3), 1.0) * big
        r = rng.uniform(0.02, 0.07) * big
        fill = tuple(int(v) for v in rng.uniform(40, 170, 3))
        if rng.random() < 0.5:
            draw.ellipse((cx - r, cy - r * 0.6, cx + r, cy + r * 0.6), fill=fill)
        else:
            draw.rectangle((cx - r * 0.5, cy - r, cx + r * 0.5, cy), fill=fill)

    paint = _Painter(rng, scene, hard_kind == "oddcolour")
    bboxes = []
    for name in objects:
        lo, hi = _SIZE[name]
        size = rng.uniform(lo, hi) * big
        if hard_kind == "small" and name not in ("mountain", "clouds"):
            size *= rng.uniform(0.3, 0.45)
        bx, by = _place(name, rng, horizon, scene)
        if name not in ("mountain", "building", "clouds", "food"):
            size *= 0.7 + 0.5 * max(0.0, by - horizon) / max(1e-3, 1.0 - horizon)  # perspective
        rot = 0.0
        if name not in ("mountain", "building"):
            rot = rng.uniform(-0.2, 0.2) + (rng.uniform(-0.4, 0.4) if name == "bird" else 0.0)
        flip = -1.0 if rng.random() < 0.5 else 1.0
        pen = _Pen(draw, bx * big, by * big, size, rot, flip)
        _draw_object(name, pen, paint, rng, scene)
        bboxes.append((bx * big, by * big - size * 0.5, size))

    if hard_kind == "occluded" and bboxes:
        cx, cy, size = bboxes[-1]
        fill = tuple(int(v) for v in rng.uniform(30, 200, 3))
        ox, oy = cx + rng.uniform(-0.3, 0.3) * size, cy + rng.uniform(-0.3, 0.3) * size
        r = size * rng.uniform(0.35, 0.55)
        if rng.random() < 0.5:
            draw.rectangle((ox - r, oy - r, ox + r, oy + r), fill=fill)
        else:
            draw.ellipse((ox - r, oy - r * 0.8, ox + r, oy + r * 0.8), fill=fill)

    small = img.reduce(_SS)
    blur = 0.0
    if hard_kind == "darkblur":
        blur = rng.uniform(1.2, 2.0)
    elif rng.random() < 0.25:
        blur = rng.uniform(0.4, 0.9)
    if blur:
        small = small.filter(ImageFilter.GaussianBlur(blur * S / 96))
    arr = np.asarray(small, dtype=np.float32)

    # photometric: exposure, colour cast, lighting field, vignette, sensor noise
    gain = math.exp(rng.normal(0.0, 0.12))
    if hard_kind == "darkblur":
        gain *= rng.uniform(0.35, 0.55) if rng.random() < 0.7 else rng.uniform(1.5, 1.8)
    cast = (1.0 + rng.normal(0.0, 0.04, 3)).astype(np.float32) * np.float32(gain)
    light = 1.0 + 0.12 * _smooth_field(rng, S, 3)[:, :, None]
    arr = arr * cast * light
    if rng.random() < 0.4:
        arr *= _vignette(S)
    tile = _noise_tile(S)
    oy, ox = rng.integers(0, tile.shape[0] - S + 1, 2)
    sigma = np.float32(rng.uniform(3.0, 10.0))
    arr += sigma * tile[oy : oy + S, ox : ox + S]
    return np.clip(arr, 0, 255).astype(np.uint8)
