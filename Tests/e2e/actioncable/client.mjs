// Drives Rails' own ActionCable JavaScript client (Debian's ruby-actioncable, the
// @rails/actioncable UMD bundle) from Node, with Debian's node-ws as the browser
// WebSocket, for Tests/e2e/test_actioncable.py. A real-client check of the edge's
// ActionCable protocol: subprotocol negotiation, welcome, subscribe / confirm / reject,
// perform and broadcasts, as a browser running Rails' client would see them.
//
// Usage:
//   node client.mjs --url ws://127.0.0.1:8080/cable --room lobby [--clients 2] [--body hi]
//                   [--channel ChatChannel] [--expect reject|listen] [--timeout 10]
//   node client.mjs --self-test
//
// Chat mode (the default, `--expect broadcast`): `--clients` consumers (separate
// WebSocket connections) subscribe to {channel, room}; once all are confirmed the first
// one performs `speak` with {body}; it succeeds when every consumer has received a
// broadcast whose body is `--body`. Reject mode (`--expect reject`): succeeds when the
// first consumer's subscription is rejected. Listen mode (`--expect listen`): like chat
// mode, but nobody speaks: the broadcast must come from elsewhere (a backend publishing
// through the edge's `/_broadcast`), after the `connected` lines.
//
// Output: one JSON object per line on stdout, for the test to assert on:
//   {"event":"loaded","ws":"8.11.0","actioncable":"6.1.710"}
//   {"event":"connected","client":0,"protocol":"actioncable-v1-json"}
//   {"event":"received","client":1,"data":{"body":"hi","user":null}}
//   {"event":"rejected","client":0}
//   {"event":"disconnected","client":0}
//   {"event":"done"}                    then exit 0
//   {"event":"timeout"}                 then exit 2
//   {"event":"error","message":"…"}     then exit 1
// The client's own log (ActionCable.logger) goes to stderr.
//
// `--self-test` runs both modes against a minimal ActionCable server written here with
// node-ws's WebSocketServer (welcome, confirm or reject, broadcast to a room), proving
// that the Rails client loads and works on node-ws without the edge.
//
// Paths: NODE_WS and ACTIONCABLE_JS, as load.mjs reads them.

import { parseArgs } from "node:util";

import { emit, fail, loadActionCable } from "./load.mjs";

const { ws, ActionCable, versions } = loadActionCable();

/// Runs one scenario; resolves to true on success, false on timeout.
function run({ url, channel, room, clients, body, expect, timeout }) {
  return new Promise((resolve) => {
    const consumers = [];
    const connected = new Set();
    const received = new Set();
    let spoken = false;
    let finished = false;

    const finish = (ok) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      for (const consumer of consumers) consumer.disconnect();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeout * 1000);

    const params = { channel };
    if (room !== undefined) params.room = room;
    for (let index = 0; index < clients; index++) {
      const consumer = ActionCable.createConsumer(url);
      consumers.push(consumer);
      consumer.subscriptions.create(params, {
        connected() {
          emit({ event: "connected", client: index, protocol: consumer.connection.getProtocol() ?? null });
          connected.add(index);
          // Rails' client re-sends `subscribe` until confirmed, so a confirmation may come
          // twice; speak once.
          if (expect === "broadcast" && connected.size === clients && !spoken) {
            spoken = true;
            consumers[0].subscriptions.subscriptions[0].perform("speak", { body });
          }
        },
        received(data) {
          emit({ event: "received", client: index, data });
          if ((expect === "broadcast" || expect === "listen") && data && data.body === body) {
            received.add(index);
            if (received.size === clients) finish(true);
          }
        },
        rejected() {
          emit({ event: "rejected", client: index });
          if (expect === "reject" && index === 0) finish(true);
        },
        disconnected() {
          if (!finished) emit({ event: "disconnected", client: index });
        },
      });
    }
  });
}

/// A minimal ActionCable server on node-ws: enough of the protocol (docs: §3 of the wire
/// reference) for the Rails client to connect, subscribe and receive a broadcast.
function startSelfTestServer() {
  const streams = new Map(); // room -> Set of sockets following it
  const server = new ws.WebSocketServer({
    host: "127.0.0.1",
    port: 0,
    path: "/cable",
    handleProtocols: (offered) => (offered.has("actioncable-v1-json") ? "actioncable-v1-json" : false),
  });
  server.on("connection", (socket) => {
    socket.send(JSON.stringify({ type: "welcome" }));
    socket.on("message", (raw) => {
      const command = JSON.parse(raw.toString());
      const identifier = command.identifier;
      const params = JSON.parse(identifier);
      if (command.command === "subscribe") {
        if (params.channel !== "ChatChannel" || !params.room) {
          socket.send(JSON.stringify({ identifier, type: "reject_subscription" }));
          return;
        }
        const followers = streams.get(params.room) ?? new Set();
        streams.set(params.room, followers);
        followers.add(socket);
        socket.send(JSON.stringify({ identifier, type: "confirm_subscription" }));
      } else if (command.command === "message") {
        const data = JSON.parse(command.data);
        if (data.action !== "speak") return;
        for (const follower of streams.get(params.room) ?? []) {
          follower.send(JSON.stringify({ identifier, message: { body: data.body, user: null } }));
        }
      }
    });
  });
  return new Promise((resolve) => server.on("listening", () => resolve(server)));
}

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    channel: { type: "string", default: "ChatChannel" },
    room: { type: "string" },
    clients: { type: "string", default: "2" },
    body: { type: "string", default: "hello from the Rails client" },
    expect: { type: "string", default: "broadcast" },
    timeout: { type: "string", default: "10" },
    "self-test": { type: "boolean", default: false },
  },
});

emit({ event: "loaded", ...versions });

if (values["self-test"]) {
  const server = await startSelfTestServer();
  const url = `ws://127.0.0.1:${server.address().port}/cable`;
  const chat = await run({ url, channel: "ChatChannel", room: "lobby", clients: 2, body: "self-test", expect: "broadcast", timeout: 10 });
  const reject = chat && (await run({ url, channel: "NoSuchChannel", room: "lobby", clients: 1, body: "", expect: "reject", timeout: 10 }));
  server.close();
  emit({ event: chat && reject ? "done" : "timeout" });
  process.exit(chat && reject ? 0 : 2);
}

if (!values.url) fail("--url is required (or --self-test)");
if (!["broadcast", "reject", "listen"].includes(values.expect)) fail("--expect is broadcast, reject or listen");
const ok = await run({
  url: values.url,
  channel: values.channel,
  room: values.room,
  clients: Number(values.clients),
  body: values.body,
  expect: values.expect,
  timeout: Number(values.timeout),
});
emit({ event: ok ? "done" : "timeout" });
process.exit(ok ? 0 : 2);
