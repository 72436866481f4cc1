"""A crowd of visitors that speak Streamlit's protocol (tools/protocol.py, issue 26) against a served gallery.

The unit tests feed the visitor the messages a server sends (no server): widget values as the frontend holds them,
the message cache and its ageing. The served test runs ``python -m gallery serve`` (two replicas behind nginx where
nginx is installed, else one): four visitors generate names for a few seconds, each checking that every name starts
with its own prefix; a visitor whose check deliberately expects another visitor's prefix counts every one of its
interactions as an error; the skills page's 107 KB select box comes once, then as a reference to the visitor's cache.
``python -m benchmarks.load`` runs the same visitors in larger crowds and prints latencies and CPU per interaction.
"""

from __future__ import annotations

import asyncio

import pytest
from streamlit.proto.Element_pb2 import Element
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from gallery.serve import Gallery, find_nginx, free_port
from tools.protocol import SCENARIOS, ProtocolError, Run, Visitor, names_prefix, run_crowd, widget_state

# --- the frontend's side, without a server ---------------------------------------------------------------------


def test_widget_values_are_what_the_frontend_sends():
    """As captured from Chromium: formatted options, sliders as arrays, integer inputs as int_value."""
    e = Element()
    e.selectbox.id, e.selectbox.options[:], e.selectbox.default = "s", ["female", "male"], 1
    assert widget_state("selectbox", e.selectbox).string_value == "male"
    e.selectbox.set_value, e.selectbox.raw_value = True, "female"
    assert widget_state("selectbox", e.selectbox).string_value == "female"
    e.slider.id, e.slider.default[:] = "k", [20.0]
    assert list(widget_state("slider", e.slider).double_array_value.data) == [20.0]
    e.number_input.id, e.number_input.data_type, e.number_input.default = "n", e.number_input.INT, 7
    state = widget_state("number_input", e.number_input)
    assert state.WhichOneof("value") == "int_value" and state.int_value == 7
    e.button_group.id = "b"
    e.button_group.options.add().content = "Faces, sharp decoder"
    e.button_group.default[:] = [0]
    assert list(widget_state("button_group", e.button_group).string_array_value.data) == ["Faces, sharp decoder"]
    e.text_input.id = "t"  # no default, nothing set: the frontend holds no value
    assert widget_state("text_input", e.text_input) is None
    e.button.id = "go"
    assert widget_state("button", e.button) is None  # a button only ever sends a trigger


def delta(path, fragment="", hash_="", cacheable=False, label="x") -> bytes:
    msg = ForwardMsg()
    msg.metadata.delta_path[:] = path
    msg.delta.fragment_id = fragment
    msg.delta.new_element.markdown.body = label
    if hash_:
        msg.hash, msg.metadata.cacheable = hash_, cacheable
    return msg.SerializeToString()


def control(kind: str, value=0, fragments=()) -> bytes:
    msg = ForwardMsg()
    if kind == "new_session":
        msg.new_session.config.max_cached_message_age = 2
        msg.metadata.run.fragment_ids[:] = fragments
    elif kind == "ref_hash":
        msg.ref_hash = value
    else:
        msg.script_finished = value
    return msg.SerializeToString()


def test_the_message_cache_keeps_dereferences_and_ages_like_the_frontend():
    v = Visitor("http://127.0.0.1:1")
    run = Run()
    v._handle(control("new_session"), run)
    v._handle(delta([0, 0], hash_="big", cacheable=True, label="107 KB"), run)
    v._handle(delta([0, 1], hash_="small"), run)  # not cacheable: not kept
    assert v._handle(control("script_finished", ForwardMsg.FINISHED_SUCCESSFULLY), run)
    assert list(v.cache) == ["big"]

    run = Run()  # the next run: the server sends a reference, with its own delta path
    v._handle(control("new_session"), run)
    ref = ForwardMsg.FromString(control("ref_hash", "big"))
    ref.metadata.delta_path[:] = [0, 0]
    v._handle(ref.SerializeToString(), run)
    assert [n.element.body for n in run.elements] == ["107 KB"]
    v._handle(control("script_finished", ForwardMsg.FINISHED_SUCCESSFULLY), run)
    assert list(v.tree) == [(0, 0)]  # the element the run did not draw again is gone

    for _ in range(3):  # three runs without it: older than max_cached_message_age (2)
        v._handle(control("new_session"), Run())
        v._handle(control("script_finished", ForwardMsg.FINISHED_SUCCESSFULLY), Run())
    assert v.cache == {}
    with pytest.raises(ProtocolError, match="MISS"):
        v._handle(control("ref_hash", "big"), Run())


def test_a_finished_run_before_the_new_session_is_not_the_one_waited_for():
    """A script_finished from an earlier run (before this rerun's new_session) does not end the wait."""
    v = Visitor("http://127.0.0.1:1")
    assert not v._handle(control("script_finished", ForwardMsg.FINISHED_SUCCESSFULLY), Run())
    v._handle(control("new_session", fragments=["f"]), Run())
    assert v._handle(control("script_finished", ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY), Run())


def test_inputs_are_the_visitors_own():
    prefixes = {names_prefix(v, j) for v in range(256) for j in range(85)}
    assert len(prefixes) == 256 * 85 and len({len(p) for p in prefixes}) == 1  # none inside another
    translate = SCENARIOS["translate"]()
    translate.prepare(64)
    sentences = [translate.sentence(v, j)[0] for v in range(64) for j in range(28)]
    assert len(set(sentences)) == len(sentences)


# --- a served gallery ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served():
    replicas = 2 if find_nginx() else 1
    port = free_port()
    with Gallery(replicas, port, echo=lambda *_: None) as gallery:
        yield gallery, f"http://127.0.0.1:{port}"


def test_a_protocol_crowd_sees_its_own_names_and_counts_a_wrong_answer(served):
    gallery, base = served
    crowd = asyncio.run(run_crowd(base, "names", 4, seconds=3))
    assert not crowd.open_errors and not crowd.errors, (crowd.open_errors, [i.error for i in crowd.errors][:3])
    assert {i.visitor for i in crowd.ok} == {0, 1, 2, 3}  # each checked its own answers
    assert len(crowd.ok) >= 8
    if gallery.count == 2:  # nginx's cookie spread them, and each websocket reached its visitor's replica
        assert crowd.replicas == {"r0": 2, "r1": 2}, crowd.replicas

    wrong = asyncio.run(run_crowd(base, "names", 2, seconds=1, wrong={1}))  # visitor 1 expects visitor 2's prefix
    mine = [i for i in wrong.interactions if i.visitor == 1]
    assert mine and all(not i.ok and "asked for names starting" in i.error for i in mine)
    assert all(i.ok for i in wrong.interactions if i.visitor == 0)
    assert len(wrong.errors) == len(mine)
    logs = "".join(gallery.log_of(r).read_text(errors="replace") for r in gallery.replicas)
    assert "Traceback" not in logs, logs[-3000:]


def test_the_skills_select_box_comes_once_then_from_the_visitors_cache(served):
    _, base = served

    async def visit():
        scenario = SCENARIOS["skills"]()
        scenario.prepare(2)
        v = Visitor(base, 0)
        try:
            run = await v.open(scenario.path)
            assert not run.exceptions and not scenario.ready(run)
            opened, cached = v.bytes_in, list(v.cache)
            sizes = []
            for j in range(2):
                before = v.bytes_in
                run, problem = await scenario.act(v, j)
                assert not problem, problem
                sizes.append(v.bytes_in - before)
            return opened, cached, sizes
        finally:
            await v.close()

    opened, cached, sizes = asyncio.run(visit())
    assert opened > 100_000 and cached  # the select box of 8,500 skills, kept under its hash
    assert max(sizes) < 60_000, sizes  # then a reference to it, not the 107 KB again
