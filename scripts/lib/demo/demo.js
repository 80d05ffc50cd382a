// The demo page's logic: log in with the demo backend (a session cookie and a chat token),
// open the buyer/seller chat with the token and the activity feed with the cookie, and show
// what the edge says, "logged out" included.
"use strict";

const CHAT = { path: "/v1/conversations/sockets", namespace: "/v1/conversations/events" };
const $ = (id) => document.getElementById(id);
let me = null;      // {user, role, peer, room}
let chat = null;    // MiniSocket to marketplace-chat
let activity = null; // MiniSocket to model-activity

function setState(state, text) {
  document.body.dataset.state = state;
  $("status").textContent = text;
}

function add(list, text, className) {
  const item = document.createElement("li");
  item.textContent = text;
  if (className) item.className = className;
  $(list).appendChild(item);
}

function roomOf(user, role, peer) {
  return role === "BUYER" ? { buyer: user, seller: peer } : { buyer: peer, seller: user };
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const user = $("user").value.trim(), role = $("role").value, peer = $("peer").value.trim();
  setState("logging-in", "logging in…");
  const answer = await fetch("login", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ user, role }),
  });
  const body = await answer.json();
  if (!answer.ok) {
    setState("logged-out", `login refused: ${body.message || body.error}`);
    return;
  }
  const pair = roomOf(user, role, peer);
  me = { user, role, peer, pair, room: `${pair.buyer}.${pair.seller}` };
  $("login-form").classList.add("hidden");
  $("chat").classList.remove("hidden");
  $("room").textContent = me.room;
  setState("online", `logged in as ${user} (${role})`);
  openChat(body.token);
  openActivity();
});

function openChat(token) {
  chat = new MiniSocket({ ...CHAT, query: { token, user_id: me.user, user_role: me.role } });
  chat.on("connect", () => {
    $("chat-status").textContent = "connected";
    $("send-button").disabled = false;
    // Idempotent: whichever party comes first creates the room, the other gets it back.
    chat.emit("create_room", { type: "BS", ...me.pair, shop_id: 1, creator: me.user });
  });
  chat.on("connect_error", (error) => { $("chat-status").textContent = `refused: ${error.message}`; });
  chat.on("disconnect", (reason) => {
    $("chat-status").textContent = `disconnected (${reason})`;
    $("send-button").disabled = true;
    $("peer-status").textContent = `${me.peer}'s status is unknown`;
    delete $("peer-status").dataset.online;
  });
  chat.on("active_user_list", (list) => {
    const room = (list.rooms || []).find((r) => r.room_id === me.room);
    if (room) showPeer(room.status);
  });
  chat.on("create_room", (room) => { if (room.room_id === me.room) $("room").dataset.ready = "true"; });
  chat.on("user_status_change", (change) => { if (change.room_id === me.room) showPeer(change.status); });
  chat.on("new_message", (message) => {
    if (message.room_id !== me.room) return;
    add("messages", `${message.from}: ${message.content}`, message.from === me.user ? "mine" : "theirs");
  });
  chat.on("error", (error) => add("notifications", `chat error: ${error.code} ${error.message}`));
}

function showPeer(online) {
  $("peer-status").textContent = `${me.peer} is ${online ? "online" : "offline"}`;
  $("peer-status").dataset.online = String(online);
}

function openActivity() {
  // No credentials of its own: the browser sends the connect.sid cookie on the upgrade.
  activity = new MiniSocket({ path: "/chat" });
  activity.on("connect", () => {
    $("activity-status").textContent = "connected";
    activity.emit("join", { notifications: true });
  });
  activity.on("message", (message) => {
    if (message.event === "success") $("activity-status").textContent = `connected, notifications::${me.user}`;
    else add("notifications", `notification: ${JSON.stringify(message)}`);
  });
  activity.on("error", (error) => add("notifications", `activity error: ${error.code} ${error.message}`));
  activity.on("connect_error", (error) => {
    $("activity-status").textContent = `refused: ${error.message || JSON.stringify(error)}`;
  });
  activity.on("loggedOut", (why) => {
    // The edge found the session gone: it disconnects this socket right after; the chat
    // socket rides on the token, so the page closes it itself.
    setState("ended", `logged out by the edge (${why && why.reason})`);
    $("activity-status").textContent = "logged out";
    if (chat) chat.close();
  });
  activity.on("disconnect", (reason) => {
    if (document.body.dataset.state !== "ended") $("activity-status").textContent = `disconnected (${reason})`;
  });
}

$("send-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const content = $("message-input").value;
  if (!content || !chat || !chat.connected) return;
  chat.emit("new_message", { room_id: me.room, from: me.user, to: me.peer, type: "TEXT", content });
  $("message-input").value = "";
});

$("logout-button").addEventListener("click", async () => {
  // Only deletes the session: what the page shows next is the edge's doing (loggedOut).
  $("logout-button").disabled = true;
  setState("logging-out", "logging out… (waiting for the edge)");
  await fetch("logout", { method: "POST" });
});
