"""Scrapes a real Convene's /metrics before and after a workload and checks the deltas with
prometheus_client's text-format parser: HTTP requests by route template and status, the log's
appends against its head, every read model's lag, the token rule, and no tenant data in any
label."""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

TOKEN = "scrape-token"
binary = sys.argv[1]
port = socket.socket()
port.bind(("127.0.0.1", 0))
port_number = port.getsockname()[1]
port.close()
base = f"http://127.0.0.1:{port_number}"
data = tempfile.mkdtemp()
env = dict(
    os.environ,
    CONVENE_STORAGE_PATH=os.path.join(data, "store"),
    CONVENE_SERVER_PORT=str(port_number),
    # Two sign-ins or registrations per window: the workload's third is refused (429).
    CONVENE_RATE_LIMITS_AUTH_REQUESTS="2",
    CONVENE_METRICS_TOKEN=TOKEN,
    RUST_LOG="warn",
)
server = subprocess.Popen([binary], env=env, cwd=data)
passed = failed = 0


def check(what, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAILED: {what} {detail}")


def call(method, path, body=None, headers=None):
    request = urllib.request.Request(base + path, method=method, headers=headers or {})
    if body is not None:
        request.data = json.dumps(body).encode()
        request.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def scrape():
    status, body = call("GET", "/metrics", headers={"authorization": f"Bearer {TOKEN}"})
    assert status == 200, status
    samples = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


try:
    for _ in range(100):
        try:
            if call("GET", "/healthz")[0] == 200:
                break
        except OSError:
            pass
        time.sleep(0.1)

    check("no token, no metrics", call("GET", "/metrics")[0] == 401)
    check(
        "a wrong token, no metrics",
        call("GET", "/metrics", headers={"authorization": "Bearer nope"})[0] == 401,
    )

    status, body = call("POST", "/api/auth/register", {"email": "metrics@example.com", "password": "secret123"})
    check("registered", status == 201, status)
    key = json.loads(body)["apiKey"]

    before = scrape()
    for n in range(3):
        status, _ = call("POST", "/api/meetings", {"title": f"Scraped {n}"}, {"x-api-key": key})
        check("meeting created", status == 201, status)
    status, _ = call("GET", "/api/meetings", headers={"x-api-key": key})
    check("listed", status == 200, status)
    status, _ = call("GET", "/api/meetings/not-a-meeting", headers={"x-api-key": key})
    check("unknown meeting", status == 404, status)
    status, _ = call("GET", "/no/such/endpoint")
    check("no such endpoint", status == 404, status)
    login = {"email": "metrics@example.com", "password": "secret123"}
    check("a sign-in", call("POST", "/api/auth/login", login)[0] == 200)
    check("a sign-in over the limit", call("POST", "/api/auth/login", login)[0] == 429)
    after = scrape()

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    requests = "convene_http_requests_total"
    check("3 creations counted", delta(requests, route="/api/meetings", method="POST", status="201") == 3)
    check("1 list counted", delta(requests, route="/api/meetings", method="GET", status="200") == 1)
    check(
        "the unknown meeting under its route template",
        delta(requests, route="/api/meetings/{meetingId}", method="GET", status="404") == 1,
    )
    check("the unrouted path under one label", delta(requests, route="unrouted", method="GET", status="404") == 1)
    check(
        "each request timed",
        delta("convene_http_request_duration_seconds_count", route="/api/meetings", method="POST") == 3,
    )
    check("the refusal counted by group", delta("convene_rate_limit_refusals_total", group="auth") == 1)
    check("a refusal is an answer too", delta(requests, route="/api/auth/login", method="POST", status="429") == 1)
    appended = delta("convene_log_appended_events_total")
    head = delta("convene_log_head_seq")
    # 3 meetings (created, activated) and one sign-in (session.started).
    check("3 meetings and a sign-in are 7 events", appended == 7, appended)
    check("the head moved by what was appended", head == appended, (head, appended))
    lags = {dict(labels)["read_model"]: v for (name, labels), v in after.items() if name == "convene_read_model_lag_events"}
    check("every read model has a lag", len(lags) == 10, sorted(lags))
    check(
        "the API's read models are caught up after read-your-writes",
        all(lags[m] == 0 for m in ["meeting_directory", "accounts_directory", "event_feed"]),
        lags,
    )
    label_values = " ".join(v for (_, labels) in after for (_, v) in labels)
    check("no tenant data in labels", "metrics@example.com" not in label_values and key not in label_values)
finally:
    server.terminate()
    server.wait(timeout=10)

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
