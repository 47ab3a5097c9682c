"""Tutorial B's clients, written the way the tutorial writes them
(python-socketio's decorators, sio.connect(url, namespaces=[...]),
sio.emit(..., namespace=...), sio.send), against examples/namespaces;
driven by interop/examples_test.go.

Usage: example_namespaces.py URL

Four clients: alice and bob join the room "lobby" of /chat, carol the room
"other", dave is on /test only. alice talks to the lobby, carol to her
room, dave sends a text to /test. Every event a client receives is printed
as {"ev": "recv", "client": name, "ns": ..., "event": ..., "data": ...},
then {"ev": "sid", ...} for each client and {"ev": "exit"}. Every wait has
a timeout; a failure prints {"ev": "fail"} and exits 1.
"""

import json
import sys
import threading
import time

import socketio

WAIT = 10.0
lock = threading.Lock()


def out(ev, **fields):
    with lock:
        print(json.dumps({"ev": ev, **fields}), flush=True)


class Inbox:
    def __init__(self):
        self.cond = threading.Condition()
        self.items = []

    def put(self, item):
        with self.cond:
            self.items.append(item)
            self.cond.notify_all()

    def wait(self, pred, what):
        deadline = time.monotonic() + WAIT
        with self.cond:
            while not any(pred(i) for i in self.items):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(what)
                self.cond.wait(left)


def chat_client(name):
    """A client of /chat, as in the tutorial."""
    sio = socketio.Client()
    inbox = Inbox()

    @sio.event(namespace="/chat")
    def connect():
        out("connected", client=name, ns="/chat")

    @sio.on("message", namespace="/chat")
    def on_message(data):
        out("recv", client=name, ns="/chat", event="message", data=data)
        inbox.put(("message", data))

    @sio.on("response", namespace="/chat")
    def on_response(data):
        out("recv", client=name, ns="/chat", event="response", data=data)
        inbox.put(("response", data))

    sio.connect(URL, namespaces=["/chat"])
    return sio, inbox


def test_client(name):
    """A client of /test, as in the tutorial."""
    sio = socketio.Client()
    inbox = Inbox()

    @sio.event(namespace="/test")
    def connect():
        out("connected", client=name, ns="/test")

    @sio.on("response", namespace="/test")
    def on_response(data):
        out("recv", client=name, ns="/test", event="response", data=data)
        inbox.put(("response", data))

    sio.connect(URL, namespaces=["/test"])
    return sio, inbox


def join(sio, inbox, room):
    sid = sio.get_sid(namespace="/chat")
    sio.emit("join_room", {"room": room}, namespace="/chat")
    text = f"{sid} has joined the room {room}"
    inbox.wait(lambda i: i == ("message", text), text)


def main():
    alice, alice_in = chat_client("alice")
    bob, bob_in = chat_client("bob")
    carol, carol_in = chat_client("carol")
    dave, dave_in = test_client("dave")
    clients = {"alice": alice, "bob": bob, "carol": carol, "dave": dave}
    try:
        join(alice, alice_in, "lobby")
        join(bob, bob_in, "lobby")
        alice_in.wait(lambda i: i[0] == "message" and "has joined" in i[1] and bob.get_sid(namespace="/chat") in i[1], "bob's join")
        join(carol, carol_in, "other")

        alice.emit("message", {"room": "lobby", "data": "hello lobby"}, namespace="/chat")
        for inbox in (alice_in, bob_in):
            inbox.wait(lambda i: i[0] == "response" and i[1]["data"] == "hello lobby", "alice's message")

        dave.send("ping", namespace="/test")
        dave_in.wait(lambda i: i == ("response", "/test received: ping"), "dave's answer")

        # carol talks to her room, then bob to the lobby: what reaches a
        # client arrives in the order the server sent it, so once alice and
        # bob have bob's message, they would have had carol's, and carol
        # alice's. The Go side checks every client's events.
        carol.emit("message", {"room": "other", "data": "anyone?"}, namespace="/chat")
        carol_in.wait(lambda i: i[0] == "response" and i[1]["data"] == "anyone?", "carol's message")
        bob.emit("message", {"room": "lobby", "data": "bye"}, namespace="/chat")
        for inbox in (alice_in, bob_in):
            inbox.wait(lambda i: i[0] == "response" and i[1]["data"] == "bye", "bob's message")
        for name, sio in clients.items():
            ns = "/test" if name == "dave" else "/chat"
            out("sid", client=name, ns=ns, sid=sio.get_sid(namespace=ns))
    finally:
        for sio in clients.values():
            sio.disconnect()


if __name__ == "__main__":
    URL = sys.argv[1]
    try:
        main()
    except Exception as e:  # reported to the Go side, which fails the test
        out("fail", error=repr(e))
        sys.exit(1)
    out("exit")
