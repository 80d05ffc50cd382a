// Rails' own ActionCable client (Debian's ruby-actioncable on node-ws, as client.mjs loads
// it) as a headless community client, for Tests/e2e/test_app_community.py: it connects
// the way Circle's docs do, with `Authorization: Bearer <token>` and a whitelisted
// `Origin` on the upgrade request (a browser cannot set these; Node can), subscribes to
// the channels given and reports what each subscription receives.
//
// Usage:
//   node community.mjs --url ws://127.0.0.1:8080/cable --token JWT --origin https://… \
//       --subscribe '{"channel":"NotificationChannel","community_member_id":42}' [--subscribe …]
//       [--count 3] [--expect receive|reject|disconnect] [--timeout 30]
//
// `--expect receive` (default): done once `--count` messages were received in all.
// `--expect reject`: done once every subscription was rejected.
// `--expect disconnect`: done once the connection was lost after every subscription was
// confirmed (the client's `disconnected` callback).
//
// Output, one JSON object per line on stdout:
//   {"event":"loaded","ws":"8.11.0","actioncable":"6.1.710"}
//   {"event":"frame","data":{…}}            every frame from the server but pings
//   {"event":"connected","identifier":"…"}
//   {"event":"received","identifier":"…","data":{…}}
//   {"event":"rejected","identifier":"…"}
//   {"event":"disconnected","identifier":"…","willAttemptReconnect":true}
//   {"event":"done"} exit 0 | {"event":"timeout"} exit 2 | {"event":"error","message":"…"} exit 1
// The client's own log (ActionCable.logger) goes to stderr.

import { parseArgs } from "node:util";

import { emit, fail, loadActionCable } from "./load.mjs";

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    token: { type: "string" },
    origin: { type: "string" },
    subscribe: { type: "string", multiple: true, default: [] },
    count: { type: "string", default: "1" },
    expect: { type: "string", default: "receive" },
    timeout: { type: "string", default: "30" },
  },
});
if (!values.url) fail("--url is required");
if (!["receive", "reject", "disconnect"].includes(values.expect)) fail("--expect is receive, reject or disconnect");
if (values.subscribe.length === 0) fail("at least one --subscribe is required");

const headers = {};
if (values.token) headers.Authorization = `Bearer ${values.token}`;
if (values.origin) headers.Origin = values.origin;

/// node-ws with the headers of Circle's example on every (re)connection; it reports each
/// frame but pings.
const { ActionCable, versions } = loadActionCable(
  (ws) =>
    class HeadlessWebSocket extends ws.WebSocket {
      constructor(url, protocols) {
        super(url, protocols, { headers });
        this.addEventListener("message", (event) => {
          let data;
          try {
            data = JSON.parse(event.data);
          } catch {
            data = String(event.data);
          }
          if (data?.type !== "ping") emit({ event: "frame", data });
        });
      }
    },
);
emit({ event: "loaded", ...versions });

const wanted = Number(values.count);
const consumer = ActionCable.createConsumer(values.url);
const connected = new Set();
const rejected = new Set();
let received = 0;
let finished = false;

function finish(ok) {
  if (finished) return;
  finished = true;
  clearTimeout(timer);
  consumer.disconnect();
  emit({ event: ok ? "done" : "timeout" });
  // Let stdout drain before leaving.
  setTimeout(() => process.exit(ok ? 0 : 2), 50);
}
const timer = setTimeout(() => finish(false), Number(values.timeout) * 1000);

for (const text of values.subscribe) {
  let params;
  try {
    params = JSON.parse(text);
  } catch (error) {
    fail(`--subscribe is not JSON: ${text}`);
  }
  const subscription = consumer.subscriptions.create(params, {
    connected() {
      // Rails' client may be confirmed twice (it re-sends subscribe until confirmed).
      if (connected.has(this.identifier)) return;
      connected.add(this.identifier);
      emit({ event: "connected", identifier: this.identifier });
    },
    received(data) {
      emit({ event: "received", identifier: this.identifier, data });
      received += 1;
      if (values.expect === "receive" && received >= wanted) finish(true);
    },
    rejected() {
      emit({ event: "rejected", identifier: this.identifier });
      rejected.add(this.identifier);
      if (values.expect === "reject" && rejected.size === values.subscribe.length) finish(true);
    },
    disconnected({ willAttemptReconnect } = {}) {
      if (finished) return;
      emit({ event: "disconnected", identifier: this.identifier, willAttemptReconnect: Boolean(willAttemptReconnect) });
      if (values.expect === "disconnect" && connected.size === values.subscribe.length) finish(true);
    },
  });
  void subscription;
}
