"""Visitors that speak Streamlit's own websocket protocol: a crowd without browsers (issue 26).

Each visitor does on the wire what Streamlit 1.67's frontend does in Chromium (captured with Playwright):

- an HTTP GET of the page's URL, then ``/_stcore/health`` and ``/_stcore/host-config``, keeping every Set-Cookie
  (nginx's ``gallery_route``, which pins the visitor to a replica, and Streamlit's ``_streamlit_xsrf``);
- a websocket to ``/_stcore/stream`` with those cookies, an Origin header and the subprotocols
  ``["streamlit", <the xsrf cookie>]`` (permessage-deflate, as browsers negotiate it);
- a first ``rerun_script`` with ``page_name`` set to the URL path and no widget states; later reruns carry the
  ``page_script_hash`` from the ``navigation`` message, the value of every mounted widget (the frontend's widget
  manager: a widget's stored value, else the value the server set, else its default; forgotten when a finished run
  no longer draws it), a form submit's ``trigger_value``, and ``fragment_id`` when the widget sits in an
  ``st.fragment`` (the fragment of the widget's delta);
- the message cache: a delta the server marks cacheable is kept by its hash, every rerun lists the kept hashes in
  ``cached_message_hashes``, the server then sends a ``ref_hash`` instead of the message, and entries older than
  ``max_cached_message_age`` finished runs are dropped (the frontend's ForwardMsgCache);
- pictures (``st.image``) are fetched over HTTP once per URL, as a browser's cache does.

What it leaves out: the static JavaScript and CSS a browser loads once (cached afterwards), the probes of
``<page>/_stcore/health`` that fail before the root one answers, and rendering.

Each page's scenario (``SCENARIOS``) sets the inputs of one interaction, unique to the visitor and the
interaction, and checks the answer as the visitor's own: names start with the visitor's prefix, a skill's bars list
exactly that skill's neighbours, a translation names the sentence's subject and place and its heatmap reads the
sentence's German words, a face's latent sliders hold the code drawn from the visitor's seed and its picture is
served. A wrong answer, an exception on the page or a run that does not finish counts as an error; the crowd goes on.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import json
import random
import re
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

TIMEOUT_S = 120.0  # one page open or interaction may take this long on a crowded 2-core machine
OPEN_AT_ONCE = 8  # visitors opening their page at the same moment (a crowd arrives over a few seconds)
FINISHED_OK = (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY)
CONTEXT = {"timezone": "UTC", "timezone_offset": 0, "locale": "en-US", "is_embedded": False, "color_scheme": "light"}


class ProtocolError(AssertionError):
    """A visitor saw something wrong: an exception, a run that did not finish, or an answer that is not its own."""


# --- one visitor's tab, as the frontend keeps it -------------------------------------------------------------------


@dataclass
class Node:
    """One entry of the page's element tree (by delta path): what the frontend keeps between runs."""

    kind: str  # the element's type (selectbox, plotly_chart, ...) or "block"
    element: object  # the element's proto (Selectbox, PlotlyChart, ...), None for blocks
    fragment_id: str
    run: int  # the script run that wrote it

    @property
    def widget_id(self) -> str:
        return getattr(self.element, "id", "") if self.kind in WIDGETS else ""


def _options(el) -> list[str]:
    return [o.content for o in el.options] if el.DESCRIPTOR.name == "ButtonGroup" else list(el.options)


def widget_state(kind: str, el) -> WidgetState | None:
    """The value the frontend holds for a newly drawn widget: the one the server set, else its default.

    Selectboxes and radios send the formatted option (``string_value``), segmented controls and multiselects the
    formatted options (``string_array_value``), sliders ``double_array_value``, number inputs ``int_value`` or
    ``double_value`` by their type, text boxes ``string_value``, checkboxes and toggles ``bool_value``. None: the
    widget holds no value (no default, nothing set), and the frontend sends none.
    """
    state = WidgetState(id=el.id)
    if kind in ("selectbox", "radio"):
        if el.set_value:
            if not el.HasField("raw_value"):
                return None
            state.string_value = el.raw_value
        elif el.HasField("default"):
            state.string_value = el.options[el.default]
        else:
            return None
    elif kind in ("button_group", "multiselect"):
        values = list(el.raw_values) if el.set_value else [_options(el)[i] for i in el.default]
        state.string_array_value.data.extend(values)
    elif kind == "slider":
        state.double_array_value.data.extend(el.value if el.set_value else el.default)
    elif kind == "number_input":
        value = el.value if el.set_value and el.HasField("value") else el.default if el.HasField("default") else None
        if value is None:
            return None
        if el.data_type == el.INT:
            state.int_value = int(value)
        else:
            state.double_value = value
    elif kind in ("text_input", "text_area"):
        value = el.value if el.set_value and el.HasField("value") else el.default if el.HasField("default") else None
        if value is None:
            return None
        state.string_value = value
    elif kind == "checkbox":
        state.bool_value = el.value if el.set_value else el.default
    else:
        return None
    return state


WIDGETS = {"selectbox", "radio", "button_group", "multiselect", "slider", "number_input", "text_input", "text_area",
           "checkbox", "button"}  # fmt: skip


@dataclass
class Run:
    """What one script run drew (the elements this run wrote, in order) and how long it took."""

    elements: list[Node] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def of_kind(self, kind: str) -> list:
        return [n.element for n in self.elements if n.kind == kind]

    def describe(self) -> str:
        """What the run drew, for an error message: its alerts' text, else its element kinds."""
        alerts = [a.body[:200] for a in self.of_kind("alert")]
        return "; ".join(alerts) if alerts else ", ".join(n.kind for n in self.elements[:30]) or "nothing"

    def widget(self, key: str):
        """The element of the widget with user key ``key`` drawn in this run, or None."""
        return next((n.element for n in self.elements if n.widget_id.endswith(f"-{key}")), None)


class Visitor:
    """One browser tab on one page of the gallery, speaking Streamlit's protocol.

    ``base``: the served gallery's URL (``http://127.0.0.1:8080``); the page's URL path is given to ``open``.
    """

    def __init__(self, base: str, index: int = 0, timeout: float = TIMEOUT_S):
        self.base, self.index, self.timeout = base.rstrip("/"), index, timeout
        self.jar = http.cookiejar.CookieJar()
        self.http = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.ws = None
        self.url = ""
        self.page_script_hash = ""
        self.max_message_age = 2
        self.cache: dict[str, list] = {}  # hash -> [encoded ForwardMsg, script run count when last used, fragment]
        self.run_count = 0  # finished runs, for the cache's ages
        self.tree: dict[tuple[int, ...], Node] = {}
        self.widgets: dict[str, WidgetState] = {}  # the frontend's widget manager: id -> value
        self.fetched: set[str] = set()  # media URLs already loaded (the browser's cache)
        self.runs = 0  # new_session messages seen: the current script run's number
        self.fragments_this_run: list[str] = []
        self.new_session_seen = False
        self.bytes_in = 0

    # --- HTTP -------------------------------------------------------------------------------------------------

    def _get(self, path: str) -> bytes:
        with self.http.open(f"{self.base}{path}", timeout=self.timeout) as answer:
            return answer.read()

    async def get(self, path: str) -> bytes:
        """An HTTP GET with this visitor's cookies (in a worker thread), its body."""
        return await asyncio.to_thread(self._get, path)

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)

    @property
    def replica(self) -> str:
        """The replica nginx pinned this visitor to (its ``gallery_route`` cookie), "" without nginx."""
        return self.cookie("gallery_route") or ""

    # --- the websocket ----------------------------------------------------------------------------------------

    async def open(self, path: str) -> Run:
        """Open the page at URL path ``path`` as Chromium does, and wait for its first run to finish."""
        from websockets.asyncio.client import connect

        self.url = f"{self.base}/{path}"
        start = time.perf_counter()
        await self.get(f"/{path}")
        await self.get("/_stcore/health")  # sets _streamlit_xsrf
        await self.get("/_stcore/host-config")
        xsrf = self.cookie("_streamlit_xsrf")
        protocols = ["streamlit", xsrf] if xsrf else ["streamlit", "PLACEHOLDER_AUTH_TOKEN"]
        host = urlsplit(self.base).netloc
        self.ws = await connect(
            f"ws://{host}/_stcore/stream",
            subprotocols=protocols,
            origin=self.base,
            additional_headers={"Cookie": "; ".join(f"{c.name}={c.value}" for c in self.jar)},
            max_size=None,
            open_timeout=self.timeout,
        )
        msg = BackMsg()
        msg.rerun_script.widget_states.SetInParent()
        msg.rerun_script.page_name = path
        run = await self._send_and_wait(msg)
        run.seconds = time.perf_counter() - start
        return run

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None

    def widget(self, key: str) -> tuple[str, Node]:
        """The id and tree node of the mounted widget whose user key is ``key`` (its id ends ``-<key>``)."""
        for node in self.tree.values():
            if node.widget_id.endswith(f"-{key}"):
                return node.widget_id, node
        raise ProtocolError(f"visitor {self.index}: no widget with key {key!r} on {self.url}")

    def submit_button(self, label: str) -> tuple[str, Node]:
        for node in self.tree.values():
            if node.kind == "button" and node.element.is_form_submitter and node.element.label == label:
                return node.element.id, node
        raise ProtocolError(f"visitor {self.index}: no form submit button {label!r} on {self.url}")

    def set(self, key: str, **value) -> Node:
        """Change a widget's value as the visitor does (``string_value="..."``, ``int_value=...``); its node."""
        wid, node = self.widget(key)
        state = WidgetState(id=wid, **value)
        self.widgets[wid] = state
        return node

    async def rerun(self, fragment_id: str = "", trigger: str = "") -> Run:
        """Send the rerun the frontend sends after a widget change (``trigger``: a button's id, pressed)."""
        msg = BackMsg()
        client = msg.rerun_script
        states = [s for wid, s in self.widgets.items() if wid != trigger]
        if trigger:
            states.append(WidgetState(id=trigger, trigger_value=True))
        client.widget_states.widgets.extend(states)
        client.page_script_hash = self.page_script_hash
        if fragment_id:
            client.fragment_id = fragment_id
        client.cached_message_hashes.extend(self.cache)
        start = time.perf_counter()
        run = await self._send_and_wait(msg)
        run.seconds = time.perf_counter() - start
        return run

    async def fetch_media(self, run: Run) -> int:
        """Load the pictures of ``run`` that this tab has not loaded before; how many it loaded."""
        loaded = 0
        for images in run.of_kind("imgs"):
            for img in images.imgs:
                if img.url and img.url not in self.fetched:
                    body = await self.get(img.url if img.url.startswith("/") else f"/{img.url}")
                    if not (body.startswith(b"\x89PNG") or body.startswith(b"\xff\xd8")):
                        raise ProtocolError(f"visitor {self.index}: {img.url} is not a PNG or JPEG picture")
                    self.fetched.add(img.url)
                    loaded += 1
        return loaded

    async def _send_and_wait(self, msg: BackMsg) -> Run:
        ctx = msg.rerun_script.context_info
        for name, value in CONTEXT.items():
            setattr(ctx, name, value)
        ctx.url = self.url
        self.new_session_seen = False
        await self.ws.send(msg.SerializeToString())
        run = Run()
        try:
            async with asyncio.timeout(self.timeout):
                while True:
                    raw = await self.ws.recv()
                    if self._handle(raw, run):
                        return run
        except TimeoutError:
            raise ProtocolError(
                f"visitor {self.index}: the run on {self.url} did not finish in {self.timeout} s"
            ) from None

    # --- what arrives -----------------------------------------------------------------------------------------

    def _handle(self, raw: bytes, run: Run) -> bool:
        """Process one ForwardMsg as the frontend does; True when it ends the run this visitor waits for."""
        self.bytes_in += len(raw)
        msg = ForwardMsg()
        msg.ParseFromString(raw)
        kind = msg.WhichOneof("type")
        if kind == "ref_hash":  # a cached message: the one kept under that hash, with this message's metadata
            entry = self.cache.get(msg.ref_hash)
            if entry is None:
                raise ProtocolError(f"visitor {self.index}: cached ForwardMsg MISS (hash {msg.ref_hash})")
            entry[1] = self.run_count
            metadata = msg.metadata
            msg = ForwardMsg()
            msg.ParseFromString(entry[0])
            msg.metadata.CopyFrom(metadata)
            kind = msg.WhichOneof("type")
        elif msg.metadata.cacheable and msg.hash:
            if msg.hash in self.cache:
                self.cache[msg.hash][1] = self.run_count
            else:
                fragment = msg.delta.fragment_id if kind == "delta" else ""
                self.cache[msg.hash] = [raw, self.run_count, fragment]
        if kind == "new_session":
            self.new_session_seen = True
            self.runs += 1
            self.fragments_this_run = list(msg.metadata.run.fragment_ids)
            if msg.new_session.HasField("config"):
                self.max_message_age = msg.new_session.config.max_cached_message_age or self.max_message_age
            if msg.new_session.page_script_hash and not self.page_script_hash:
                self.page_script_hash = msg.new_session.page_script_hash
        elif kind == "navigation":
            if msg.navigation.page_script_hash:
                self.page_script_hash = msg.navigation.page_script_hash
        elif kind == "delta":
            self._delta(msg, run)
        elif kind == "page_not_found":
            raise ProtocolError(f"visitor {self.index}: page not found: {self.url}")
        elif kind == "script_finished":
            status = msg.script_finished
            if status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                raise ProtocolError(f"visitor {self.index}: the script of {self.url} did not compile")
            if status in FINISHED_OK and self.new_session_seen:
                self._finished()
                return True
        return False

    def _delta(self, msg: ForwardMsg, run: Run) -> None:
        delta, path = msg.delta, tuple(msg.metadata.delta_path)
        which = delta.WhichOneof("type")
        if which == "new_element":
            kind = delta.new_element.WhichOneof("type")
            element = getattr(delta.new_element, kind)
            node = Node(kind, element, delta.fragment_id, self.runs)
            self.tree[path] = node
            run.elements.append(node)
            if kind == "exception":
                run.exceptions.append(f"{element.type}: {element.message}")
            wid = node.widget_id
            if wid and (wid not in self.widgets or getattr(element, "set_value", False)):
                state = widget_state(kind, element)
                if state is not None:
                    self.widgets[wid] = state
        elif which == "add_block":
            self.tree[path] = Node("block", None, delta.fragment_id, self.runs)

    def _finished(self) -> None:
        """A run finished: drop what it did not draw again, forget their widgets, age the message cache."""
        fragments = self.fragments_this_run
        stale = [
            p for p, n in self.tree.items() if n.run != self.runs and (not fragments or n.fragment_id in fragments)
        ]
        for p in stale:
            del self.tree[p]
        active = {n.widget_id for n in self.tree.values() if n.widget_id}
        self.widgets = {wid: s for wid, s in self.widgets.items() if wid in active}
        self.run_count += 1
        for h, (_, used, fragment) in list(self.cache.items()):
            if fragments and fragment not in fragments:
                continue
            if self.run_count - used > self.max_message_age:
                del self.cache[h]


# --- the pages: one interaction each, with inputs of the visitor's own and a check of the answer -----------------


@dataclass
class Interaction:
    page: str
    visitor: int
    seconds: float
    ok: bool
    error: str = ""
    replica: str = ""


SYLLABLES = [c + v for c in "bdfghjklmnprstvyz" for v in "aeiou"]  # 85


def names_prefix(visitor: int, j: int) -> str:
    """Six letters: two syllables for the visitor, one for its j-th interaction. All prefixes have the same length,
    so none lies inside another, and a visitor's prefix repeats only after 85 interactions."""
    n = len(SYLLABLES)
    return SYLLABLES[(visitor // n) % n] + SYLLABLES[visitor % n] + SYLLABLES[j % n]


def _plotly(run: Run) -> list[dict]:
    return [json.loads(chart.spec) for chart in run.of_kind("plotly_chart") if chart.spec]


class Scenario:
    """A page's main interaction. ``prepare`` gets ready for ``visitors`` (the expected answers are computed here,
    outside any timing); ``act`` makes the visitor's j-th interaction and returns the run and an error ("" if the
    answer is the visitor's own). ``wrong``: check against another visitor's input (tests: must count as an error).
    """

    name = ""
    path = ""
    offset = 0  # added to the inputs' numbers: a later crowd on the same server asks new questions

    def prepare(self, visitors: int) -> None:
        pass

    def ready(self, run: Run) -> str:
        """After the page's first run: "" when its main output is there, else what is missing."""
        return ""

    async def act(self, v: Visitor, j: int, wrong: bool = False) -> tuple[Run, str]:
        raise NotImplementedError


class Names(Scenario):
    """Generate names from a prefix of the visitor's own (a form in a fragment): every name must start with it."""

    name, path = "names", "Names"

    def ready(self, run: Run) -> str:
        return "" if run.widget("pick") is not None else "no names drawn"

    async def act(self, v: Visitor, j: int, wrong: bool = False) -> tuple[Run, str]:
        prefix = names_prefix(v.index, j)
        v.set("prefix", string_value=prefix)
        v.set("seed", int_value=(1000 * v.index + j) % 1_000_000)
        button, node = v.submit_button("Generate")
        run = await v.rerun(node.fragment_id, trigger=button)
        want = names_prefix(v.index + 1, j) if wrong else prefix
        pick = run.widget("pick")
        if pick is None:
            return run, f"asked for names starting {prefix!r}: no names drawn"
        names = [re.sub(r"^\d+\. ", "", o).rsplit(" (", 1)[0] for o in pick.options]
        if not names or not all(n.startswith(want) for n in names):
            return run, f"asked for names starting {want!r}, got {names[:3]}"
        titles = [str(f.get("layout", {}).get("title", {}).get("text", "")) for f in _plotly(run)]
        if not any(f"“{want}" in t for t in titles):
            return run, f"asked for names starting {want!r}; heatmap titles {titles}"
        return run, ""


class Skills(Scenario):
    """Query a skill of the visitor's own (a select box of 8,500 skills, cached by the message cache): the bars must
    list exactly the neighbours the same vectors give here."""

    name, path = "skills", "Skill_Neighbors"
    WORDS_EACH = 4  # a visitor cycles through this many words of its own

    def __init__(self):
        self.words: list[str] = []
        self.expected: dict[str, list[str]] = {}

    def prepare(self, visitors: int) -> None:
        from gallery.skills.cli import query
        from gallery.skills.model import load

        if not self.words:
            self.model = load("glove")
            self.backend = self.model.backend("exact", False)
            words = self.model.vectors.words[:4000]
            self.words = [w for w in words if re.fullmatch(r"[a-z][a-z0-9_]+", w) and w != "php"]  # php: the default
        self.visitors = visitors
        for v in range(visitors):
            for w in self.visitor_words(v):
                if w not in self.expected:
                    self.expected[w] = [r["word"] for r in query(self.model, self.backend, [w], [], 10)]

    def visitor_words(self, v: int) -> list[str]:
        share = self.words[v % len(self.words) :: max(1, self.visitors)]
        return share[: self.WORDS_EACH]

    def ready(self, run: Run) -> str:
        return "" if any(f["data"] and f["data"][0].get("type") == "bar" for f in _plotly(run)) else "no bars"

    async def act(self, v: Visitor, j: int, wrong: bool = False) -> tuple[Run, str]:
        words = self.visitor_words(v.index)
        word = words[j % len(words)]
        node = v.set("skill", string_value=word)
        run = await v.rerun(node.fragment_id)
        want = self.expected[self.visitor_words(v.index + 1)[0] if wrong else word]
        bars = [f for f in _plotly(run) if f["data"] and f["data"][0].get("type") == "bar"]
        shown = sorted(bars[0]["data"][0]["y"]) if bars else None
        if shown != sorted(want):
            return run, f"asked for the neighbours of {word!r}, {want}; shown {shown}"
        return run, ""


# One subject per 14, one place per 11 and a verb per 12: 1,848 sentences, each translated by the committed
# transformer with its subject's noun and its place in English (tools.visitors says so for the same lists).
def german_sentence(i: int) -> tuple[str, list[str]]:
    from tools.visitors import PLACES, SUBJECTS, VERBS

    (subject, noun), (place, where) = SUBJECTS[i % len(SUBJECTS)], PLACES[(i // len(SUBJECTS)) % len(PLACES)]
    verb = VERBS[(i // (len(SUBJECTS) * len(PLACES))) % len(VERBS)]
    return f"{subject} {verb} {place}.", [noun, where]


SENTENCES = 14 * 11 * 12


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


class Translate(Scenario):
    """Translate a sentence of the visitor's own (a text area in a fragment; the page caches 200 answers, and no
    sentence comes back within 1,848 interactions): the English must name its subject and its place, and the
    attention heatmap must read exactly its German words."""

    name, path = "translate", "Translate"

    def prepare(self, visitors: int) -> None:
        self.visitors = visitors

    def sentence(self, v: int, j: int) -> tuple[str, list[str]]:
        return german_sentence(self.offset + v + self.visitors * j)

    def ready(self, run: Run) -> str:
        return "" if any(h.tag == "h3" for h in run.of_kind("heading")) else "no translation"

    async def act(self, v: Visitor, j: int, wrong: bool = False) -> tuple[Run, str]:
        german, english = self.sentence(v.index, j)
        node = v.set("source", string_value=german)
        run = await v.rerun(node.fragment_id)
        if wrong:
            german, english = self.sentence(v.index + 1, j)
        shown = next((h.body for h in run.of_kind("heading") if h.tag == "h3"), None)
        if shown is None or not all(re.search(rf"\b{w}", shown, re.I) for w in english):
            return run, f"translated {german!r}, expecting {english}; shown {shown!r}"
        heatmaps = [f["data"][0] for f in _plotly(run) if f["data"] and f["data"][0].get("type") == "heatmap"]
        read = heatmaps[0]["x"] if heatmaps else []
        if _words(" ".join(str(x) for x in read if not str(x).startswith("["))) != _words(german):
            return run, f"translated {german!r}; the heatmap reads {read}"
        return run, ""


class Faces(Scenario):
    """A new face from a seed of the visitor's own (a number input with a callback, in a fragment): the latent
    sliders must hold the code drawn from that seed (computed here from the same artifact), and the new picture
    is loaded as a browser loads it."""

    name, path = "faces", "VAE_Explorer"

    def prepare(self, visitors: int) -> None:
        import numpy as np

        from gallery.vae import model as vae

        self.visitors = visitors
        if not hasattr(self, "density"):
            m = vae.load("vae-faces-sharp")
            self.density, self.latent, self.ranked = m.density(), m.latent, m.ranked_dims()
            self.np = np

    def seed(self, v: int, j: int) -> int:
        return 1 + (self.offset + v + self.visitors * j) % 999_999

    def code(self, seed: int) -> dict[int, float]:
        """The sliders' values after ``seed``: the page's new_sample (fitted density, temperature 1), clipped to
        +-3 and rounded to 2 decimals, for the dimensions shown (the busiest 8)."""
        z = self.np.clip(self.np.asarray(self.density.sample(1, seed, 1.0)[0], self.np.float32), -3.0, 3.0)
        return {i: round(float(z[i]), 2) for i in self.ranked[:8]}

    def ready(self, run: Run) -> str:
        return "" if run.of_kind("imgs") else "no face drawn"

    async def act(self, v: Visitor, j: int, wrong: bool = False) -> tuple[Run, str]:
        seed = self.seed(v.index, j)
        node = v.set("faces_seed", int_value=seed)
        run = await v.rerun(node.fragment_id)
        start = time.perf_counter()
        loaded = await v.fetch_media(run)
        run.seconds += time.perf_counter() - start
        want = self.code(self.seed(v.index + 1, j) if wrong else seed)
        shown = {}
        for i in want:
            slider = run.widget(f"faces_dim_{i}")
            shown[i] = round(slider.value[0], 2) if slider is not None and slider.set_value else None
        if any(shown[i] is None or abs(shown[i] - want[i]) > 1e-6 for i in want):
            return run, f"seed {seed}: sliders {shown}, expected {want}"
        if not loaded:
            return run, f"seed {seed}: no new picture"
        return run, ""


SCENARIOS: dict[str, Callable[[], Scenario]] = {"names": Names, "skills": Skills, "translate": Translate,
                                                "faces": Faces}  # fmt: skip


# --- a crowd -------------------------------------------------------------------------------------------------------


@dataclass
class Crowd:
    """A crowd's result on one page: every interaction (its wall clock and whether the answer was the visitor's
    own) in the measured window, and the window's length."""

    page: str
    visitors: int
    interactions: list[Interaction]
    window_s: float
    replicas: dict[str, int] = field(default_factory=dict)  # visitors per replica (gallery_route), "" without nginx
    open_errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> list[Interaction]:
        return [i for i in self.interactions if i.ok]

    @property
    def errors(self) -> list[Interaction]:
        return [i for i in self.interactions if not i.ok]


async def open_crowd(base: str, scenario: Scenario, visitors: int, first: int = 0) -> tuple[list, list[str]]:
    """``visitors`` visitors open the page, at most OPEN_AT_ONCE at a time, and interact once (not measured)."""
    gate = asyncio.Semaphore(OPEN_AT_ONCE)
    errors: list[str] = []

    async def one(i: int) -> Visitor | None:
        v = Visitor(base, i)
        async with gate:
            try:
                run = await v.open(scenario.path)
                problem = "; ".join(run.exceptions) or scenario.ready(run)
                if problem:
                    problem += f" (the page drew: {run.describe()})"
                else:
                    run, problem = await scenario.act(v, first)
                    problem = "; ".join(run.exceptions) or problem
            except Exception as err:  # counted; the crowd goes on
                problem = f"{type(err).__name__}: {err}"
        if problem:
            errors.append(f"visitor {i} on /{scenario.path}: {problem}")
            await v.close()
            return None
        return v

    crowd = await asyncio.gather(*(one(i) for i in range(visitors)))
    return [v for v in crowd if v is not None], errors


async def keep_interacting(
    scenario: Scenario, crowd: list[Visitor], seconds: float, pause: float = 0.0, first: int = 1, wrong=()
) -> tuple[list[Interaction], float]:
    """Every visitor interacts again and again until ``seconds`` have passed (each at least once), ``pause``
    seconds between its interactions (the first after a random part of a pause, so that visitors do not move in
    step). ``wrong``: visitors whose checks expect another visitor's answer. Returns the interactions and the
    window's length."""
    done: list[Interaction] = []
    rng = random.Random(0)
    offsets = {v.index: rng.uniform(0, pause) for v in crowd}
    start = time.monotonic()
    deadline = start + seconds

    async def visitor(v: Visitor) -> None:
        j = first
        if pause:
            await asyncio.sleep(offsets[v.index])
        while True:
            try:
                run, problem = await scenario.act(v, j, wrong=v.index in wrong)
                problem = "; ".join(run.exceptions) or problem
                done.append(Interaction(scenario.name, v.index, run.seconds, not problem, problem, v.replica))
            except Exception as err:  # a broken session: counted once, and this visitor stops
                done.append(Interaction(scenario.name, v.index, 0.0, False, f"{type(err).__name__}: {err}"))
                return
            j += 1
            if time.monotonic() >= deadline:
                return
            if pause:
                await asyncio.sleep(min(pause, max(0.0, deadline - time.monotonic())))
                if time.monotonic() >= deadline:
                    return

    await asyncio.gather(*(visitor(v) for v in crowd))
    return done, time.monotonic() - start


async def close_all(crowd: list[Visitor]) -> None:
    await asyncio.gather(*(v.close() for v in crowd), return_exceptions=True)


async def run_crowd(
    base: str, page: str, visitors: int, seconds: float, pause: float = 0.0, wrong=(), scenario: Scenario | None = None
) -> Crowd:
    """Open ``page`` for ``visitors`` visitors and let them interact for ``seconds`` (no CPU readings: see
    benchmarks.load for those)."""
    scenario = scenario or SCENARIOS[page]()
    scenario.prepare(visitors + 1)
    crowd, open_errors = await open_crowd(base, scenario, visitors)
    try:
        done, window = await keep_interacting(scenario, crowd, seconds, pause, wrong=wrong)
    finally:
        await close_all(crowd)
    return Crowd(page, visitors, done, window, replicas_of(crowd), open_errors)


def replicas_of(crowd: list[Visitor]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for v in crowd:
        counts[v.replica] = counts.get(v.replica, 0) + 1
    return dict(sorted(counts.items()))
