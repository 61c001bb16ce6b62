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

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image, PngImagePlugin

from ..atomic import atomic_write, remove_stale_temporaries
from ..seeding import stream
from .base import SocialImageDataset
from .painter import render_array
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


@dataclass(frozen=True)
class _Users:
    """Step 1: the users (``U``) and who took each of the ``n`` photos (``owner``)."""

    owner: np.ndarray  # (n,) user of each photo
    scene_pref: np.ndarray  # (U, scenes) Dirichlet scene preferences
    obj_interest: np.ndarray  # (U, objects) interest in each object
    p_untagged: np.ndarray  # (U,) chance a photo has no tags
    recall: np.ndarray  # (U,) chance a visible label is tagged
    lang: np.ndarray  # (U,) 0 = English, else index into _LANGS
    pref_form: np.ndarray  # (U, L) preferred synonym of each label
    related_rate: np.ndarray
    camera: np.ndarray
    camera_rate: np.ndarray
    home: np.ndarray
    place_rate: np.ndarray
    year_rate: np.ndarray
    base_year: np.ndarray
    junk_rate: np.ndarray
    fav_junk: np.ndarray  # (U, 4) favourite junk tags
    personal: list[tuple[str, ...]]  # per user, three personal pseudo-words
    personal_rate: np.ndarray
    p_set: np.ndarray  # (U,) chance a photo goes into an album
    fav_rate: np.ndarray
    bulk_tagger: np.ndarray
    group_activity: np.ndarray


@dataclass(frozen=True)
class _Albums:
    """Step 3: albums (``A``, Flickr "sets") and the album of each photo (``-1``: none)."""

    n_albums: np.ndarray  # (U,)
    user: np.ndarray  # (A,)
    scene: np.ndarray  # (A,)
    boost: np.ndarray  # (A, objects) 6 for the album's theme objects, else 1
    city: np.ndarray
    year: np.ndarray
    event: np.ndarray
    bulk: np.ndarray  # (A,) the owner tags the whole album at once
    local: np.ndarray  # (A,) index of the album among its owner's
    album: np.ndarray  # (n,) album of each photo, -1 when none


@dataclass(frozen=True)
class _Content:
    """Step 4: what each photo shows."""

    labels: np.ndarray  # (n, L) uint8
    scene: np.ndarray  # (n,) int64 index into SCENES
    hard: np.ndarray  # (n,) bool: a hard photo (see the painter)
    n_junk: np.ndarray  # (n,) junk tags to add


@dataclass(frozen=True)
class _Metadata:
    """The social world of :func:`make_synthetic_world`, before any pixel is drawn."""

    labels: np.ndarray
    scene: np.ndarray
    hard: np.ndarray
    owner: np.ndarray
    tags: list[tuple[str, ...]]
    groups: list[tuple[str, ...]]
    sets: list[tuple[str, ...]]


def _generate_metadata(n: int, seed: int, n_users: int) -> _Metadata:
    """Users, groups, albums, content, then tokens, in this order from one stream
    (``"synthetic.metadata"``): each step draws what it needs after the previous one."""
    rng = stream(seed, "synthetic.metadata")
    users = _draw_users(rng, n, n_users)
    member_groups, group_label_sets = _draw_groups(rng, users)
    albums = _draw_albums(rng, users, n)
    content = _draw_content(rng, users, albums, n)
    tags, groups, sets = _draw_tokens(rng, users, albums, content, member_groups, group_label_sets)
    return _Metadata(content.labels, content.scene, content.hard, users.owner, tags, groups, sets)


def _draw_users(rng: np.random.Generator, n: int, U: int) -> _Users:
    L = len(LABELS)
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
    return _Users(
        owner, scene_pref, obj_interest, p_untagged, recall, lang, pref_form, related_rate, camera,
        camera_rate, home, place_rate, year_rate, base_year, junk_rate, fav_junk, personal,
        personal_rate, p_set, fav_rate, bulk_tagger, group_activity,
    )


def _draw_groups(rng: np.random.Generator, users: _Users) -> tuple[list[list[int]], list[frozenset[int]]]:
    """Step 2: group membership (topical groups by interest in their labels, camera-brand
    groups, general groups); returns each user's groups and each group's label set."""
    U = len(users.scene_pref)
    label_interest = np.concatenate(
        [users.scene_pref / _SCENE_BASE, users.obj_interest / users.obj_interest.mean(axis=1, keepdims=True)], axis=1
    )  # (U, L), ~1 on average
    G = len(_GROUPS)
    member_p = np.empty((U, G))
    for g, (gname, glabels) in enumerate(_GROUPS):
        if glabels:
            interest = label_interest[:, [_L[l] for l in glabels]].max(axis=1)
            member_p[:, g] = 1.0 - np.exp(-0.12 * interest * users.group_activity)
        elif gname in ("nikonusers", "canonusers"):
            brand = gname[:-5]
            is_brand = np.array([_CAMERAS[c][0] == brand for c in users.camera])
            member_p[:, g] = np.where(is_brand, 0.5 * np.minimum(users.group_activity, 1.0), 0.0)
        else:
            member_p[:, g] = 0.12 * np.minimum(users.group_activity, 1.5)
    member = rng.random((U, G)) < member_p
    member_groups = [np.flatnonzero(row).tolist() for row in member]
    group_label_sets = [frozenset(_L[l] for l in glabels) for _, glabels in _GROUPS]
    return member_groups, group_label_sets


def _draw_albums(rng: np.random.Generator, users: _Users, n: int) -> _Albums:
    U = len(users.scene_pref)
    owner = users.owner
    n_per_user = np.bincount(owner, minlength=U)
    n_albums = np.minimum(1 + rng.poisson(n_per_user / 10.0), np.maximum(n_per_user, 1))
    album_offset = np.concatenate([[0], np.cumsum(n_albums)[:-1]])
    A = int(n_albums.sum())
    album_user = np.repeat(np.arange(U), n_albums)
    album_scene = _categorical_rows(rng, users.scene_pref[album_user])
    theme_w = users.obj_interest[album_user] * _OBJECT_BASE * _COMPAT[album_scene]
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
    album_city = np.where(album_home, users.home[album_user], rng.integers(0, len(_CITIES), A))
    album_year = users.base_year[album_user] + rng.integers(0, 3, A)
    album_event = rng.integers(0, len(_EVENTS), A)
    album_bulk = users.bulk_tagger[album_user] & (rng.random(A) < 0.7)
    album_local = np.arange(A) - album_offset[album_user]

    in_set = rng.random(n) < users.p_set[owner]
    local = (rng.random(n) * n_albums[owner]).astype(np.int64)
    album = np.where(in_set, album_offset[owner] + local, -1)
    return _Albums(n_albums, album_user, album_scene, album_boost, album_city, album_year, album_event,
                   album_bulk, album_local, album)


def _draw_content(rng: np.random.Generator, users: _Users, albums: _Albums, n: int) -> _Content:
    """Step 4: scene (album photos mostly follow their album's), visible sky, 1-3 objects
    by Gumbel top-k over interest x compatibility, hard photos and the junk-tag count."""
    L = len(LABELS)
    owner, album = users.owner, albums.album
    in_set = album >= 0
    scene = _categorical_rows(rng, users.scene_pref[owner])
    follow = in_set & (rng.random(n) < 0.8)
    scene = np.where(follow, albums.scene[np.maximum(album, 0)], scene)
    u = rng.random(n)
    sky_visible = (
        np.isin(scene, [1, 2])
        | ((scene == 0) & (u < _SKY_P["outdoor"]))
        | ((scene == 4) & (u < _SKY_P["snow"]))
    )
    w = _OBJECT_BASE * _COMPAT[scene] * users.obj_interest[owner]
    w = np.where(in_set[:, None], w * albums.boost[np.maximum(album, 0)], w)
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
    n_junk = rng.poisson(users.junk_rate[owner])
    return _Content(labels, scene.astype(np.int64), hard, n_junk)


#: Chance that a tagged photo carries one wrong label's tag.
_WRONG_RATE = 0.04


def _album_tokens(users: _Users, albums: _Albums) -> tuple[list[tuple[str, ...]], list[str]]:
    """Per album: the tags its owner puts on every photo when tagging in bulk, and its set token."""
    album_tags: list[tuple[str, ...]] = []
    album_token: list[str] = []
    for a in range(len(albums.user)):
        user = int(albums.user[a])
        event = _EVENTS[albums.event[a]]
        album_token.append(f"u{user}_{event}{albums.local[a] + 1}")
        if not albums.bulk[a]:
            album_tags.append(())
            continue
        sc = int(albums.scene[a])
        theme = [_SYNONYMS[LABELS[sc]][users.pref_form[user, sc]]] if 0 < sc < 5 else []
        theme += [
            _SYNONYMS[OBJECT_LABELS[o]][users.pref_form[user, _NS + o]] for o in np.flatnonzero(albums.boost[a] > 1)
        ]
        album_tags.append((event, _CITIES[albums.city[a]][0], str(albums.year[a]), *theme))
    return album_tags, album_token


def _draw_tokens(
    rng: np.random.Generator,
    users: _Users,
    albums: _Albums,
    content: _Content,
    member_groups: list[list[int]],
    group_label_sets: list[frozenset[int]],
) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]], list[tuple[str, ...]]]:
    """Step 5: each photo's tags, groups and sets (in that order per photo, one draw stream)."""
    draw = _Uniforms(rng)
    label_lists = [np.flatnonzero(row).tolist() for row in content.labels]
    album_tags, album_token = _album_tokens(users, albums)
    owner_l, album_l, n_junk_l = users.owner.tolist(), albums.album.tolist(), content.n_junk.tolist()
    tags_out: list[tuple[str, ...]] = []
    groups_out: list[tuple[str, ...]] = []
    sets_out: list[tuple[str, ...]] = []
    for i in range(len(owner_l)):
        us, a, labs = owner_l[i], album_l[i], label_lists[i]
        if draw() < users.p_untagged[us]:
            tags_out.append(())
        else:
            tags_out.append(_photo_tags(draw, users, albums, us, a, labs, album_tags, n_junk_l[i]))
        gs: list[str] = []
        for g in member_groups[us]:
            gl = group_label_sets[g]
            p = (0.5 if any(j in gl for j in labs) else 0.02) if gl else 0.15
            if draw() < p:
                gs.append(_GROUPS[g][0])
        groups_out.append(tuple(gs))
        s: list[str] = [album_token[a]] if a >= 0 else []
        if draw() < users.fav_rate[us]:
            s.append(f"u{us}_favourites")
        sets_out.append(tuple(s))
    return tags_out, groups_out, sets_out


def _photo_tags(
    draw: "_Uniforms", users: _Users, albums: _Albums, us: int, a: int, labs: list[int],
    album_tags: list[tuple[str, ...]], n_junk: int,
) -> tuple[str, ...]:
    """The tags of one tagged photo of user ``us`` in album ``a`` (-1: none) showing ``labs``:
    label tags (synonyms, translations, repeats), related words, a rare wrong tag, the
    album's bulk tags, camera, place, year, a personal word and junk; first occurrence kept."""
    t: list[str] = []
    lg = users.lang[us]
    for j in labs:
        name = LABELS[j]
        if draw() < users.recall[us] * _TAGABILITY[name]:
            if lg and draw() < 0.7:
                t.append(_TRANSLATIONS[name][lg - 1])
            else:
                forms = _SYNONYMS[name]
                t.append(forms[users.pref_form[us, j]] if draw() < 0.8 else draw.pick(forms))
                if draw() < 0.1:
                    t.append(draw.pick(forms))
        if draw() < users.related_rate[us] * 0.6:
            t.append(draw.pick(_RELATED[name]))
    if draw() < _WRONG_RATE:
        t.append(_SYNONYMS[draw.pick(LABELS)][0])
    if a >= 0 and album_tags[a]:
        t.extend(album_tags[a])
    if draw() < users.camera_rate[us]:
        t.extend(_CAMERAS[users.camera[us]])
    if draw() < users.place_rate[us]:
        city = _CITIES[albums.city[a] if a >= 0 else users.home[us]]
        t.extend(city if draw() < 0.5 else city[:1])
    if draw() < users.year_rate[us]:
        t.append(str(albums.year[a] if a >= 0 else users.base_year[us]))
    if draw() < users.personal_rate[us]:
        t.append(draw.pick(users.personal[us]))
    for _ in range(n_junk):
        t.append(_JUNK[users.fav_junk[us, int(draw() * 4)]] if draw() < 0.7 else draw.pick(_JUNK))
    return tuple(dict.fromkeys(t))


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
        version=GENERATOR_VERSION, scene=meta.scene, labels=meta.labels, hard=meta.hard,
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
        labels=meta.labels,
        metadata={"tags": meta.tags, "groups": meta.groups, "sets": meta.sets},
        image_paths=paths,
        synthetic=True,
        root=None,
        description=(
            f"SYNTHETIC social-image world (seed={seed}, n={n_images}): generated by "
            f"neighborlib.data.synthetic v{GENERATOR_VERSION} with {users} simulated users; "
            "not real photos, users or tags."
        ),
        extras={
            "owner": meta.owner,
            "hard": meta.hard,
            "scene": np.array(SCENES)[meta.scene],
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
