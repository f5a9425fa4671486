"""A Streamlit session without a browser: speaks the app's own websocket protocol.

Used by scripts/loadtest.py to stand for visitors whose browsers run on their own machines:
it opens a real server session (``/_stcore/stream``, the same BackMsg / ForwardMsg protobufs
the web client sends), navigates by page, sets widget values and presses buttons the way the
front end does, and waits for the run to finish. It renders nothing, so the time it measures
is the server's: queueing, the script run and the messages, not a browser's drawing.

Widgets are found by their label in the elements the server sent; a rerun carries every value
this client has set on the page (as the web client sends its whole widget state).
"""
from __future__ import annotations

import asyncio

import websockets
from google.protobuf import text_format
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

DONE = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_WITH_COMPILE_ERROR}
MAX_MESSAGE = 64 * 2**20


class ProtocolSession:
    """One Streamlit session over a websocket: ``async with ProtocolSession(url) as s``."""

    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")
        self.ws = None
        self.pages: dict[str, str] = {}       # page name -> page_script_hash
        self.page_hash = ""
        self.query_string = ""
        self.elements: list = []              # (kind, element) of the last finished run
        self.values: dict[str, tuple] = {}    # widget id -> (field, value) sent each rerun

    async def __aenter__(self):
        url = self.base_url.replace("http", "ws", 1) + "/_stcore/stream"
        self.ws = await websockets.connect(url, subprotocols=["streamlit"],
                                           origin=self.base_url, max_size=MAX_MESSAGE)
        return self

    async def __aexit__(self, *exc):
        await self.ws.close()

    # --- runs ---------------------------------------------------------------------------
    async def rerun(self, triggers: tuple[str, ...] = (), timeout: float = 120.0) -> list:
        """Ask for a run with the current widget values (and ``triggers``: button ids
        pressed) and wait until the server's run is done (a run stopped for ``st.rerun``
        is followed by the next one). Returns the finished run's elements."""
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = self.query_string
        cs.page_script_hash = self.page_hash
        for wid, (field, value) in self.values.items():
            w = cs.widget_states.widgets.add()
            w.id = wid
            setattr(w, field, value)
        for wid in triggers:
            w = cs.widget_states.widgets.add()
            w.id, w.trigger_value = wid, True
        await self.ws.send(msg.SerializeToString())
        await asyncio.wait_for(self._collect(), timeout)
        return self.elements

    async def _collect(self) -> None:
        elements = []
        while True:
            fm = ForwardMsg()
            fm.ParseFromString(await self.ws.recv())
            kind = fm.WhichOneof("type")
            if kind == "navigation":          # st.navigation: the pages and the one shown
                self.pages = {p.page_name: p.page_script_hash
                              for p in fm.navigation.app_pages}
                self.page_hash = fm.navigation.page_script_hash
            elif kind == "page_info_changed":
                self.query_string = fm.page_info_changed.query_string
            elif kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
                el = fm.delta.new_element
                elements.append((el.WhichOneof("type"), el))
            elif kind == "script_finished":
                if fm.script_finished in DONE:
                    self.elements = elements
                    return
                elements = []                 # stopped for a rerun: the next run follows

    # --- what the user does ---------------------------------------------------------------
    async def open(self, timeout: float = 120.0) -> list:
        """The first visit: the default page."""
        return await self.rerun(timeout=timeout)

    async def goto(self, page_name: str, timeout: float = 120.0) -> list:
        if page_name not in self.pages:
            raise KeyError(f"no page {page_name!r}; pages: {sorted(self.pages)}")
        self.page_hash, self.values = self.pages[page_name], {}
        return await self.rerun(timeout=timeout)

    def widget(self, kind: str, label: str):
        for k, el in self.elements:
            if k == kind and getattr(el, k).label == label:
                return getattr(el, k)
        raise KeyError(f"no {kind} labelled {label!r} on this page")

    def set(self, kind: str, label: str, field: str, value) -> None:
        self.values[self.widget(kind, label).id] = (field, value)

    def choose(self, label: str, option: str) -> None:
        """A radio button's option, by its text (sent as the option's text, as the web client
        does)."""
        radio = self.widget("radio", label)
        if option not in radio.options:
            raise KeyError(f"radio {label!r} has no option {option!r}")
        self.values[radio.id] = ("string_value", option)

    async def press(self, label: str, timeout: float = 120.0) -> list:
        """Press the first button whose label contains ``label`` (a form's submit button
        sends the form's values with it)."""
        for k, el in self.elements:
            if k == "button" and label in el.button.label:
                return await self.rerun((el.button.id,), timeout)
        raise KeyError(f"no button with {label!r} in its label on this page")

    def shows(self, text: str) -> bool:
        """Whether ``text`` appears in any element of the last finished run."""
        return any(text in text_format.MessageToString(el, as_utf8=True)
                   for _, el in self.elements)
