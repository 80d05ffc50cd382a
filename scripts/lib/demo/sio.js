// A minimal Socket.IO client for the demo page: protocol v5 on Engine.IO 4, WebSocket
// transport only, one namespace per socket, text events. It exists because the official
// client is an npm package and the demo has no build step; for anything real use
// socket.io-client, which speaks the same protocol (docs/protocols.md).
//
//   const s = new MiniSocket({path: "/chat", namespace: "/", query: {token}});
//   s.on("connect", () => s.emit("join", {notifications: true}));
//   s.on("message", (data) => ...);   // any server event; also "connect_error", "disconnect"
//
// Engine.IO packets are one text frame each: "0" open (JSON handshake), "2" ping (answered
// "3"), "4" message, "1" close. A Socket.IO packet rides in a "4": its type digit, then
// "/namespace," unless the namespace is "/", then an optional ack id, then JSON:
// "0" CONNECT, "1" DISCONNECT, "2" EVENT ["name", data], "3" ACK, "4" CONNECT_ERROR.
"use strict";

class MiniSocket {
  constructor({ path, namespace = "/", query = {}, auth = null }) {
    this.namespace = namespace;
    this.auth = auth;
    this.handlers = new Map();
    this.acks = new Map();
    this.nextAck = 0;
    this.connected = false;
    this.closed = false;
    const params = new URLSearchParams({ ...query, EIO: "4", transport: "websocket" });
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const base = path.endsWith("/") ? path : path + "/";
    this.ws = new WebSocket(`${scheme}://${location.host}${base}?${params}`);
    this.ws.onmessage = (message) => this.onFrame(String(message.data));
    this.ws.onclose = (close) => this.finish(`transport closed (${close.code})`);
    this.ws.onerror = () => this.fire("connect_error", { message: "websocket error" });
  }

  on(event, handler) {
    if (!this.handlers.has(event)) this.handlers.set(event, []);
    this.handlers.get(event).push(handler);
    return this;
  }

  fire(event, ...args) {
    for (const handler of this.handlers.get(event) || []) handler(...args);
  }

  prefix() {
    return this.namespace === "/" ? "" : this.namespace + ",";
  }

  // emit(event, data[, ack]): an EVENT, with an ack id when a callback is given.
  emit(event, data, ack) {
    let id = "";
    if (ack) {
      id = String(this.nextAck++);
      this.acks.set(id, ack);
    }
    this.send("42" + this.prefix() + id + JSON.stringify([event, data]));
  }

  send(frame) {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(frame);
  }

  close() {
    this.send("41" + this.prefix());
    this.ws.close(1000);
    this.finish("io client disconnect");
  }

  finish(reason) {
    if (this.closed) return;
    this.closed = true;
    const wasConnected = this.connected;
    this.connected = false;
    if (wasConnected) this.fire("disconnect", reason);
    else this.fire("connect_error", { message: reason });
  }

  onFrame(frame) {
    const type = frame[0];
    if (type === "0") {
      // Engine.IO open: join the namespace, with the auth object when there is one.
      this.send("40" + this.prefix() + (this.auth ? JSON.stringify(this.auth) : ""));
    } else if (type === "2") {
      this.send("3" + frame.slice(1));
    } else if (type === "1") {
      this.ws.close(1000);
      this.finish("transport close");
    } else if (type === "4") {
      this.onPacket(frame.slice(1));
    }
  }

  onPacket(packet) {
    const type = packet[0];
    let rest = packet.slice(1);
    let namespace = "/";
    if (rest.startsWith("/")) {
      const comma = rest.indexOf(",");
      namespace = comma < 0 ? rest : rest.slice(0, comma);
      rest = comma < 0 ? "" : rest.slice(comma + 1);
    }
    if (namespace !== this.namespace) return;
    const id = (rest.match(/^\d+/) || [""])[0];
    rest = rest.slice(id.length);
    const data = rest ? JSON.parse(rest) : undefined;
    if (type === "0") {
      this.connected = true;
      this.id = data && data.sid;
      this.fire("connect");
    } else if (type === "1") {
      this.ws.close(1000);
      this.finish("io server disconnect");
    } else if (type === "2" && Array.isArray(data)) {
      this.fire(data[0], ...data.slice(1));
    } else if (type === "3" && this.acks.has(id)) {
      const ack = this.acks.get(id);
      this.acks.delete(id);
      ack(...(data || []));
    } else if (type === "4") {
      this.fire("connect_error", data || { message: "refused" });
    }
  }
}
