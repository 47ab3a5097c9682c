"""Tutorial B's REST integration: python-socketio clients of
examples/restemit, and `requests` posting to its /send route; driven by
interop/examples_test.go.

Usage: example_restemit.py URL ORIGIN
  ORIGIN: an origin the server allows (its -origins flag)

fan joins the room "sports", reader joins nothing. Each POST prints
{"ev": "post", "body": ..., "status": ..., "answer": ...}; each event a
client receives {"ev": "recv", "client": ..., "event": ..., "data": ...};
the CORS answers {"ev": "cors", ...}; then {"ev": "exit"}. Every wait has
a timeout; a failure prints {"ev": "fail"} and exits 1.
"""

import json
import sys
import threading
import time

import requests
import socketio

WAIT = 10.0
lock = threading.Lock()


def out(ev, **fields):
    with lock:
        print(json.dumps({"ev": ev, **fields}), flush=True)


class Client:
    def __init__(self, name):
        self.name = name
        self.cond = threading.Condition()
        self.events = []
        self.sio = socketio.Client()

        @self.sio.on("*")
        def any_event(event, data):
            out("recv", client=name, event=event, data=data)
            with self.cond:
                self.events.append((event, data))
                self.cond.notify_all()

        self.sio.connect(URL)

    def wait(self, event, data):
        deadline = time.monotonic() + WAIT
        with self.cond:
            while (event, data) not in self.events:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{self.name}: no {event} {data!r}")
                self.cond.wait(left)


def post(body):
    res = requests.post(URL + "/send", json=body, timeout=WAIT)
    out("post", body=body, status=res.status_code, answer=res.json())


def main():
    fan, reader = Client("fan"), Client("reader")
    try:
        out("joined", client="fan", ack=fan.sio.call("join", "sports", timeout=WAIT))

        post({"data": "hello everyone"})
        for c in (fan, reader):
            c.wait("message", "hello everyone")
        post({"event": "score", "data": {"home": 2, "away": 1}, "room": "sports"})
        fan.wait("score", {"home": 2, "away": 1})
        post({"event": "connect", "data": 1})  # refused: a reserved name
        # Last, an event to all: once both have it, the reader would have
        # had the score too.
        post({"event": "end", "data": [1, "two"]})
        for c in (fan, reader):
            c.wait("end", [1, "two"])

        pre = requests.options(URL + "/send", timeout=WAIT, headers={
            "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type"})
        out("cors", origin=ORIGIN, status=pre.status_code,
            allow_origin=pre.headers.get("Access-Control-Allow-Origin"),
            allow_methods=pre.headers.get("Access-Control-Allow-Methods"))
        pre = requests.options(URL + "/send", timeout=WAIT, headers={
            "Origin": "http://elsewhere.example", "Access-Control-Request-Method": "POST"})
        out("cors", origin="http://elsewhere.example", status=pre.status_code,
            allow_origin=pre.headers.get("Access-Control-Allow-Origin"),
            allow_methods=pre.headers.get("Access-Control-Allow-Methods"))
    finally:
        fan.sio.disconnect()
        reader.sio.disconnect()


if __name__ == "__main__":
    URL, ORIGIN = sys.argv[1], sys.argv[2]
    try:
        main()
    except Exception as e:  # reported to the Go side, which fails the test
        out("fail", error=repr(e))
        sys.exit(1)
    out("exit")
