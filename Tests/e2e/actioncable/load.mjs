// What client.mjs and community.mjs share: loading Rails' ActionCable client (Debian's
// ruby-actioncable) on node-ws by path, and the one-JSON-object-per-line output.
//
// Paths: NODE_WS (default /usr/share/nodejs/ws) and ACTIONCABLE_JS (default
// /usr/share/nodejs/@rails/actioncable). Node from outside Debian does not search
// /usr/share/nodejs, so both are loaded by path.

import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const wsPath = process.env.NODE_WS || "/usr/share/nodejs/ws";
const cablePath = process.env.ACTIONCABLE_JS || "/usr/share/nodejs/@rails/actioncable";

export function emit(object) {
  process.stdout.write(JSON.stringify(object) + "\n");
}

export function fail(message) {
  emit({ event: "error", message });
  process.exit(1);
}

/// node-ws and the ActionCable client, with the client's log on stderr and `WebSocket`
/// (a node-ws subclass when given) as its transport; exits through `fail` when either
/// cannot be loaded.
export function loadActionCable(makeWebSocket = (ws) => ws.WebSocket) {
  let ws, ActionCable;
  try {
    ws = require(wsPath);
    // The bundle reads `self.console` and `self.WebSocket` when it loads, and the
    // connection monitor listens for the page's `visibilitychange`: give it the browser
    // globals it uses.
    globalThis.self = globalThis;
    globalThis.WebSocket = ws.WebSocket;
    globalThis.addEventListener ??= () => {};
    globalThis.removeEventListener ??= () => {};
    ActionCable = require(cablePath);
  } catch (error) {
    fail(`cannot load node-ws (${wsPath}) or @rails/actioncable (${cablePath}): ${error.message}`);
  }
  ActionCable.adapters.WebSocket = makeWebSocket(ws);
  ActionCable.adapters.logger = {
    log: (...parts) =>
      process.stderr.write(parts.map((p) => (typeof p === "string" ? p : JSON.stringify(p))).join(" ") + "\n"),
  };
  ActionCable.logger.enabled = true;
  const versions = {
    ws: require(`${wsPath}/package.json`).version,
    actioncable: require(`${cablePath}/package.json`).version,
  };
  return { ws, ActionCable, versions };
}
