"""Scenarios of the Debian python3-socketio client (5.7, python-engineio 4.3)
against the Go server, driven by interop/python_test.go.

Usage: sio_client.py URL TRANSPORT SCENARIO
  TRANSPORT: polling | websocket | upgrade (python-engineio's default:
             polling first, then the upgrade to WebSocket)

Every observation is printed on stdout as one JSON object per line, with
"ev" naming its kind; bytes are written as {"$bytes": "<hex>"}. The script
exits by itself: every wait has a timeout, and a watchdog ends the process
(exit 3) if a scenario hangs. Any failure prints {"ev": "fail", ...} and
exits 1; the Go side checks the exact records.
"""

import hashlib
import json
import os
import sys
import threading
import time
import traceback

import socketio

WAIT = 10.0       # seconds for any single expected event
WATCHDOG = 25.0   # seconds for the whole scenario

_out_lock = threading.Lock()


def enc(v):
    """JSON-friendly copy of v: bytes become {"$bytes": hex}, tuples lists."""
    if isinstance(v, (bytes, bytearray)):
        return {"$bytes": bytes(v).hex()}
    if isinstance(v, (list, tuple)):
        return [enc(x) for x in v]
    if isinstance(v, dict):
        return {k: enc(x) for k, x in v.items()}
    return v


def out(kind, **fields):
    rec = {"ev": kind}
    rec.update({k: enc(v) for k, v in fields.items()})
    with _out_lock:
        sys.stdout.write(json.dumps(rec, sort_keys=True) + "\n")
        sys.stdout.flush()


def fatal(msg):
    out("fail", error=msg)
    sys.stdout.flush()
    os._exit(1)


def watchdog():
    t = threading.Timer(WATCHDOG, lambda: (out("watchdog", error="scenario hung"), os._exit(3)))
    t.daemon = True
    t.start()


class Inbox:
    """Records the events a client receives and lets the script wait for them."""

    def __init__(self, name):
        self.name = name
        self.cond = threading.Condition()
        self.seen = []  # (event, namespace, args)

    def put(self, event, ns, args):
        out("recv", client=self.name, event=event, ns=ns, args=list(args))
        with self.cond:
            self.seen.append((event, ns, args))
            self.cond.notify_all()

    def wait(self, event, ns="/", count=1):
        deadline = time.monotonic() + WAIT
        with self.cond:
            while True:
                got = [s for s in self.seen if s[0] == event and s[1] == ns]
                if len(got) >= count:
                    return got[count - 1][2]
                left = deadline - time.monotonic()
                if left <= 0:
                    fatal("%s: timed out waiting for %r on %s" % (self.name, event, ns))
                self.cond.wait(left)

    def record(self, sio, event, ns="/", reply=None):
        """Registers a handler for event on ns that records its arguments;
        reply(args) gives the acknowledgement the handler returns."""
        def handler(*args):
            self.put(event, ns, args)
            if reply is not None:
                return reply(args)
        sio.on(event, handler, namespace=ns)


def transports_arg(name):
    return None if name == "upgrade" else [name]


def new_client(name, inbox=None, namespaces=("/",)):
    # PY_SIO_DEBUG=1 logs every Engine.IO packet on stderr.
    sio = socketio.Client(reconnection=False, handle_sigint=False, request_timeout=5,
                          engineio_logger=bool(os.environ.get("PY_SIO_DEBUG")))
    for ns in namespaces:
        def on_connect(ns=ns):
            out("connect", client=name, ns=ns)
        def on_disconnect(ns=ns):
            out("disconnect", client=name, ns=ns)
            if inbox is not None:
                inbox.put("disconnect", ns, ())
        def on_connect_error(*data, ns=ns):
            out("connect_error", client=name, ns=ns, data=list(data))
        sio.on("connect", on_connect, namespace=ns)
        sio.on("disconnect", on_disconnect, namespace=ns)
        sio.on("connect_error", on_connect_error, namespace=ns)
    return sio


def connect(sio, name, url, transport, namespaces, auth=None, wait_timeout=WAIT):
    sio.connect(url, transports=transports_arg(transport), namespaces=list(namespaces),
                auth=auth, wait_timeout=wait_timeout)
    out("connected", client=name, transport=sio.transport(),
        sids={ns: sio.get_sid(ns) for ns in namespaces})


def call(sio, name, event, data, ns="/"):
    try:
        r = sio.call(event, data, namespace=ns, timeout=WAIT)
    except socketio.exceptions.TimeoutError:
        fatal("%s: no ack for %r" % (name, event))
    out("ack", client=name, event=event, ns=ns, value=r)
    return r


def drain(sio, name):
    """Waits for python-engineio's write thread to end: sio.disconnect()
    only queues the DISCONNECT and CLOSE packets, that thread sends them.
    (It is not a daemon thread, so a normal interpreter exit would wait for
    it too; this script ends with os._exit.)"""
    task = sio.eio.write_loop_task
    if task is not None:
        task.join(WAIT)
        if task.is_alive():
            fatal("%s: the engine.io write thread did not end" % name)


def settle(sio):
    """Waits until python-engineio's write thread is idle: blocked in the
    queue's get() with nothing queued. Its write loop checks the connection
    state only between batches: if disconnect() comes while it is sending a
    batch (e.g. the POST of the last emit, whose ack came back by the
    long-poll before the POST returned), or after the batch and before its
    next get(), it exits without sending the queued DISCONNECT and CLOSE
    packets, and the server only notices the client has gone at the next
    ping ("ping timeout"). That is a race inside the client; the tests
    disconnect an idle client. Polls the thread's stack, with a deadline."""
    deadline = time.monotonic() + WAIT
    while not write_loop_waiting(sio):
        if time.monotonic() > deadline:
            fatal("the engine.io write thread did not become idle")
        time.sleep(0.005)


def write_loop_waiting(sio):
    """Reports whether the write thread waits in Queue.get() on an empty
    queue (every packet put was sent: task_done() follows each send)."""
    task = sio.eio.write_loop_task
    if task is None or sio.eio.queue.unfinished_tasks:
        return False
    frame = sys._current_frames().get(task.ident)
    while frame is not None:
        code = frame.f_code
        if code.co_name == "get" and os.path.basename(code.co_filename) == "queue.py":
            return True
        frame = frame.f_back
    return False


def join_handlers():
    """Waits for the message handlers python-engineio started so far: it
    runs each message's handler on a thread of its own (named after
    python-socketio's _handle_eio_message), started by the read thread in
    arrival order, so once a later message's handler has run, every earlier
    one has at least been started and is joined here."""
    me = threading.current_thread()
    for th in threading.enumerate():
        if th is not me and th.name.endswith("(_handle_eio_message)"):
            th.join(WAIT)
            if th.is_alive():
                fatal("a message handler thread did not end")


def finish(sio, name):
    settle(sio)
    sio.disconnect()
    drain(sio, name)
    out("closed", client=name, connected=sio.connected)


# ---------------------------------------------------------------- scenarios


def scenario_events(url, transport):
    inbox = Inbox("a")
    sio = new_client("a", inbox)
    inbox.record(sio, "welcome")
    inbox.record(sio, "verdict")
    inbox.record(sio, "got_message")
    inbox.record(sio, "question", reply=lambda a: ("answer", {"double": a[1] * 2, "list": [1, "two", None, True]}))
    connect(sio, "a", url, transport, ["/"])
    sio.emit("hello", {"text": "héllo ✓", "n": 42, "f": 1.5, "neg": -7, "ok": True,
                       "none": None, "list": [1, "x", [2, 3], {"deep": False}], "empty": {}})
    inbox.wait("welcome")
    call(sio, "a", "sum", [1, 2, 3, 4.5])
    call(sio, "a", "noargs", None)
    sio.emit("ask", "please")
    inbox.wait("verdict")
    sio.send("plain message")
    sio.send({"as": "dict"})
    inbox.wait("got_message", count=2)
    # Two arguments in one emit (a tuple is spread into arguments).
    call(sio, "a", "multi", ("one", 2, {"three": [3]}))
    finish(sio, "a")


def scenario_binary(url, transport):
    inbox = Inbox("a")
    sio = new_client("a", inbox)
    inbox.record(sio, "bin_back")
    inbox.record(sio, "bin_question", reply=lambda a: (bytes(reversed(a[0])), {"echo": a[0], "len": len(a[0])}))
    inbox.record(sio, "bin_verdict")
    connect(sio, "a", url, transport, ["/"])
    sio.emit("bin", (b"\x00\x01\x02\xff", {"name": "blob", "data": b"\xde\xad\xbe\xef",
                                         "list": [b"\x01", 2, {"more": b""}]}))
    inbox.wait("bin_back")
    call(sio, "a", "bin_ack", b"\x10\x20\x30")
    sio.emit("bin_ask")
    inbox.wait("bin_verdict")
    # 64 KiB of every byte value, to catch any text mangling of binary.
    big = bytes(range(256)) * 256
    r = sio.call("bin_big", big, timeout=WAIT)
    out("big", client="a", len=r[0], sha=r[1], echo_equal=(r[2] == big),
        sent_sha=hashlib.sha256(big).hexdigest())
    finish(sio, "a")


def scenario_namespaces(url, transport):
    inbox = Inbox("a")
    sio = new_client("a", inbox, namespaces=("/", "/chat"))
    # Handlers on both namespaces: an event routed to the wrong one shows up.
    for ns in ("/", "/chat"):
        inbox.record(sio, "where", ns=ns)
    connect(sio, "a", url, transport, ["/", "/chat"], auth={"token": "s3cret", "user": {"id": 7, "tags": ["a", "b"]}})
    call(sio, "a", "whoami", None, ns="/chat")
    call(sio, "a", "whoami", None, ns="/")
    sio.emit("route_me", "to chat", namespace="/chat")
    inbox.wait("where", ns="/chat")
    sio.emit("route_me", "to main", namespace="/")
    inbox.wait("where", ns="/")
    finish(sio, "a")


def scenario_connect_error(url, transport):
    # 1. Middleware of "/" refuses with a ConnectError carrying data.
    sio = new_client("bad")
    try:
        sio.connect(url, transports=transports_arg(transport), namespaces=["/"],
                    auth={"token": "wrong"}, wait_timeout=1)
    except socketio.exceptions.ConnectionError as e:
        out("connect_failed", client="bad", error=str(e), connected=sio.connected)
    else:
        fatal("bad: connect succeeded")
    drain(sio, "bad")
    # 2. "/" accepted, "/admin" refused with a plain error, "/nope" unknown.
    sio = new_client("mixed", namespaces=("/", "/admin", "/nope"))
    try:
        sio.connect(url, transports=transports_arg(transport), namespaces=["/", "/admin", "/nope"],
                    auth={"token": "good"}, wait_timeout=1)
    except socketio.exceptions.ConnectionError as e:
        out("connect_failed", client="mixed", error=str(e), connected=sio.connected)
    else:
        fatal("mixed: connect succeeded")
    drain(sio, "mixed")
    # 3. The right token connects.
    sio = new_client("good")
    connect(sio, "good", url, transport, ["/"], auth={"token": "good"})
    call(sio, "good", "whoami", None)
    finish(sio, "good")


def scenario_rooms(url, transport):
    clients = {}
    for name in ("a", "b", "c"):
        inbox = Inbox(name)
        sio = new_client(name, inbox)
        for ev in ("news", "news_from_a", "outside", "done"):
            inbox.record(sio, ev)
        connect(sio, name, url, transport, ["/"])
        clients[name] = (sio, inbox)
    call(clients["a"][0], "a", "join", "r1")
    call(clients["b"][0], "b", "join", "r1")
    call(clients["c"][0], "c", "join", "r2")
    call(clients["a"][0], "a", "trigger", None)
    for name, (sio, inbox) in clients.items():
        inbox.wait("done")
    # A message that arrived before "done" may be handled just after it:
    # wait for those handlers before taking the snapshot.
    join_handlers()
    # What each client received (in handler order, not arrival order).
    for name, (sio, inbox) in clients.items():
        with inbox.cond:
            seq = [s[0] for s in inbox.seen]
        out("sequence", client=name, events=seq)
    for name, (sio, inbox) in clients.items():
        finish(sio, name)


def scenario_server_disconnect(url, transport):
    inbox = Inbox("a")
    sio = new_client("a", inbox, namespaces=("/", "/chat"))
    connect(sio, "a", url, transport, ["/", "/chat"])
    # The server disconnects /chat only (Socket.Disconnect(false)).
    sio.emit("kick", namespace="/chat")
    inbox.wait("disconnect", ns="/chat")
    out("state", client="a", namespaces=sorted(sio.namespaces), connected=sio.connected)
    call(sio, "a", "still_here", None)  # "/" still works
    # Then the whole connection (Socket.Disconnect(true)).
    sio.emit("kick_all")
    inbox.wait("disconnect", ns="/")
    task = sio.eio.read_loop_task
    task.join(WAIT)
    if task.is_alive():
        fatal("a: the engine.io read thread did not end after the server closed")
    drain(sio, "a")
    # The read thread has ended; with the message handlers done too, no
    # disconnect callback can come any more (a stray second one included).
    join_handlers()
    with inbox.cond:
        discs = [s[1] for s in inbox.seen if s[0] == "disconnect"]
    out("disconnects", client="a", namespaces=discs)
    out("closed", client="a", connected=sio.connected, eio_state=sio.eio.state)


def scenario_client_disconnect(url, transport):
    sio = new_client("a", None, namespaces=("/", "/chat"))
    connect(sio, "a", url, transport, ["/", "/chat"])
    call(sio, "a", "ready", None, ns="/")
    call(sio, "a", "ready", None, ns="/chat")
    # python-socketio 5.7 has no public way to leave one namespace; this is
    # the packet its disconnect() sends for each namespace, sent alone so
    # the server must handle it while the connection stays up.
    sio._send_packet(sio.packet_class(socketio.packet.DISCONNECT, namespace="/chat"))
    call(sio, "a", "chat_sockets", None, ns="/")
    finish(sio, "a")


def scenario_heartbeat(url, transport):
    # The Go server pings every 200ms and gives up after 1s: staying
    # connected for 2s means the client answered every ping. The server
    # ends the connection (with pongs flowing, a client-side disconnect
    # would hit the write-thread race described in settle()).
    inbox = Inbox("a")
    sio = new_client("a", inbox)
    connect(sio, "a", url, transport, ["/"])
    time.sleep(2.0)
    call(sio, "a", "still_here", None)
    sio.emit("bye")
    inbox.wait("disconnect")
    task = sio.eio.read_loop_task
    task.join(WAIT)
    if task.is_alive():
        fatal("a: the engine.io read thread did not end after the server closed")
    drain(sio, "a")
    out("closed", client="a", connected=sio.connected)


SCENARIOS = {name[len("scenario_"):]: fn for name, fn in globals().items() if name.startswith("scenario_")}


def main():
    if len(sys.argv) != 4 or sys.argv[2] not in ("polling", "websocket", "upgrade") or sys.argv[3] not in SCENARIOS:
        sys.stderr.write(__doc__)
        sys.exit(2)
    url, transport, scenario = sys.argv[1:]
    watchdog()
    try:
        SCENARIOS[scenario](url, transport)
    except SystemExit:
        raise
    except BaseException:
        traceback.print_exc()
        fatal("exception: " + traceback.format_exc().strip().splitlines()[-1])
    out("exit")
    sys.stdout.flush()
    # Background threads of python-engineio (a pending long-poll) must not
    # keep the process alive.
    os._exit(0)


if __name__ == "__main__":
    main()
