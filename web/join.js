// The meeting room (onepizza §10–§12): a WebRTC full mesh signaled over Convene's `/ws`
// realtime endpoint (JSON frames: {event, data, ack}). No framework, no build step.
"use strict";

const $ = (id) => document.getElementById(id);
const meetingId = decodeURIComponent(location.pathname.split("/").filter(Boolean)[1] || "");
const query = new URLSearchParams(location.search);
// The host's admin token travels in the fragment, which browsers never send to a server.
const fragment = new URLSearchParams(location.hash.slice(1));
const adminToken = fragment.get("admin");
const inviteToken = query.get("invite");

const state = {
  channel: null,
  me: null, // my participant id
  isHost: false,
  settings: {},
  iceServers: [],
  local: null, // MediaStream: microphone + camera
  cameraTrack: null, // the camera's own track while the screen or blur replaces it
  screenTrack: null,
  blur: null, // {track, stop}
  muted: false,
  videoOff: false,
  hand: false,
  pinned: null,
  peers: new Map(), // participantId → {pc, pending: [], tile}
  people: new Map(), // participantId → participant JSON
  leaving: false,
};

// ---------- screens ----------

function show(screen) {
  for (const id of ["prejoin", "waiting", "message", "room"]) $(id).hidden = id !== screen;
}

function message(title, text, retry = false) {
  $("message-title").textContent = title;
  $("message-text").textContent = text;
  $("retry").hidden = !retry;
  show("message");
  document.body.dataset.screen = title.toLowerCase();
}

/** The screen for a refused join, by the server's message. */
function refused(text) {
  const t = String(text || "");
  if (t.includes("locked")) return message("Meeting locked", "The host has locked this meeting.", true);
  if (t.includes("full")) return message("Meeting full", "This meeting has reached its participant limit.", true);
  if (t.includes("not started") || t.includes("scheduled"))
    return message("Not started yet", t.charAt(0).toUpperCase() + t.slice(1) + ".", true);
  if (t.includes("ended")) return message("Meeting ended", "This meeting has ended.");
  if (t.includes("not found")) return message("Meeting not found", "Check the link you were given.");
  return message("Cannot join", t);
}

// ---------- the realtime channel ----------

class Channel {
  constructor(url) {
    this.socket = new WebSocket(url);
    this.handlers = new Map();
    this.acks = new Map();
    this.nextAck = 1;
    this.opened = new Promise((resolve, reject) => {
      this.socket.onopen = resolve;
      this.socket.onerror = () => reject(new Error("cannot reach the server"));
    });
    this.socket.onmessage = (frame) => {
      let packet;
      try {
        packet = JSON.parse(frame.data);
      } catch {
        return;
      }
      if (packet.ack !== undefined && !packet.event) {
        const settle = this.acks.get(packet.ack);
        this.acks.delete(packet.ack);
        if (settle) settle(packet.data || {});
        return;
      }
      const handler = this.handlers.get(packet.event);
      if (handler) handler(packet.data || {});
    };
    this.socket.onclose = (event) => {
      const handler = this.handlers.get("close");
      if (handler) handler(event);
    };
  }
  on(event, handler) {
    this.handlers.set(event, handler);
  }
  /** Sends an event; resolves with its acknowledgement ({ok, error?}). */
  emit(event, data) {
    const ack = this.nextAck++;
    const answer = new Promise((resolve) => this.acks.set(ack, resolve));
    this.socket.send(JSON.stringify({ event, data: data || {}, ack }));
    return answer;
  }
  close() {
    this.socket.close();
  }
}

// ---------- media ----------

async function listDevices() {
  const devices = await navigator.mediaDevices.enumerateDevices();
  for (const [select, kind] of [[$("camera"), "videoinput"], [$("microphone"), "audioinput"]]) {
    const current = select.value;
    select.replaceChildren();
    devices
      .filter((d) => d.kind === kind)
      .forEach((d, i) => {
        const option = new Option(d.label || `${kind === "videoinput" ? "Camera" : "Microphone"} ${i + 1}`, d.deviceId);
        select.add(option);
      });
    if (current) select.value = current;
  }
}

async function openMedia() {
  const camera = $("camera").value;
  const microphone = $("microphone").value;
  if (state.local) state.local.getTracks().forEach((t) => t.stop());
  try {
    state.local = await navigator.mediaDevices.getUserMedia({
      video: camera ? { deviceId: { exact: camera } } : true,
      audio: microphone ? { deviceId: { exact: microphone } } : true,
    });
    $("media-note").textContent = "";
  } catch (err) {
    state.local = new MediaStream();
    $("media-note").textContent = `No camera or microphone: ${err.message}. You can still join.`;
  }
  state.cameraTrack = state.local.getVideoTracks()[0] || null;
  $("preview").srcObject = state.local;
}

/** The video track peers should see now: the screen, the blurred camera, or the camera. */
function outgoingVideo() {
  return state.screenTrack || (state.blur && state.blur.track) || state.cameraTrack;
}

function replaceVideoEverywhere() {
  const track = outgoingVideo();
  for (const { pc } of state.peers.values()) {
    const sender = pc.getSenders().find((s) => s.track && s.track.kind === "video");
    if (sender) sender.replaceTrack(track);
  }
  const tile = tileOf(state.me);
  if (tile) tile.querySelector("video").srcObject = new MediaStream([track].filter(Boolean));
}

/** Canvas blur of the camera (§12 "Background: canvas-based blur filter"). */
function startBlur() {
  const video = document.createElement("video");
  video.muted = true;
  video.srcObject = new MediaStream([state.cameraTrack]);
  video.play();
  const canvas = document.createElement("canvas");
  const settings = state.cameraTrack.getSettings();
  canvas.width = settings.width || 640;
  canvas.height = settings.height || 480;
  const context = canvas.getContext("2d");
  let running = true;
  const draw = () => {
    if (!running) return;
    context.filter = "blur(8px)";
    context.drawImage(video, 0, 0, canvas.width, canvas.height);
    requestAnimationFrame(draw);
  };
  draw();
  const track = canvas.captureStream(25).getVideoTracks()[0];
  return { track, stop: () => { running = false; track.stop(); } };
}

// ---------- tiles ----------

function tileOf(id) {
  return document.querySelector(`.tile[data-participant="${CSS.escape(id)}"]`);
}

function ensureTile(person) {
  let tile = tileOf(person.participantId);
  if (!tile) {
    tile = document.createElement("figure");
    tile.className = "tile";
    tile.dataset.participant = person.participantId;
    const video = document.createElement("video");
    video.autoplay = true;
    video.playsInline = true;
    if (person.participantId === state.me) video.muted = true;
    const label = document.createElement("figcaption");
    label.className = "label";
    const badges = document.createElement("div");
    badges.className = "badges";
    const actions = document.createElement("div");
    actions.className = "actions";
    const pin = button("Pin", () => {
      state.pinned = state.pinned === person.participantId ? null : person.participantId;
      layout();
    });
    pin.className = "pin";
    actions.append(pin);
    if (state.isHost && person.participantId !== state.me) {
      actions.append(
        button("Mute", () => state.channel.emit("host:mute", { participantId: person.participantId }), `Mute ${person.name}`),
        button("Remove", () => state.channel.emit("host:kick", { participantId: person.participantId }), `Remove ${person.name}`),
      );
    }
    tile.append(video, label, badges, actions);
    $("grid").append(tile);
  }
  state.people.set(person.participantId, { ...(state.people.get(person.participantId) || {}), ...person });
  renderTile(person.participantId);
  return tile;
}

function renderTile(id) {
  const tile = tileOf(id);
  const person = state.people.get(id);
  if (!tile || !person) return;
  const you = id === state.me ? " (you)" : "";
  tile.querySelector(".label").textContent = `${person.name}${you}${person.isAdmin ? " · host" : ""}`;
  tile.setAttribute("aria-label", `${person.name}${you}`);
  const badges = tile.querySelector(".badges");
  badges.replaceChildren();
  for (const [on, text] of [
    [person.isMuted, "🔇 muted"],
    [person.isVideoOff, "📷 off"],
    [person.isScreenSharing, "🖥 sharing"],
    [person.isHandRaised, "✋ hand"],
  ]) {
    if (on) {
      const badge = document.createElement("span");
      badge.textContent = text;
      badges.append(badge);
    }
  }
}

function layout() {
  const stage = $("stage");
  for (const tile of document.querySelectorAll(".tile")) {
    const pinned = tile.dataset.participant === state.pinned;
    (pinned ? stage : $("grid")).append(tile);
    const pin = tile.querySelector(".pin");
    pin.textContent = pinned ? "Unpin" : "Pin";
    pin.setAttribute("aria-pressed", String(pinned));
  }
}

function removeTile(id) {
  const tile = tileOf(id);
  if (tile) tile.remove();
  state.people.delete(id);
  if (state.pinned === id) state.pinned = null;
}

function button(text, onClick, label) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  if (label) b.setAttribute("aria-label", label);
  b.addEventListener("click", onClick);
  return b;
}

/** The speaking indicator: a tile lights up while its audio is above a threshold. */
function watchSpeaking(id, stream) {
  if (!stream.getAudioTracks().length || !window.AudioContext) return;
  const context = new AudioContext();
  const analyser = context.createAnalyser();
  analyser.fftSize = 512;
  context.createMediaStreamSource(stream).connect(analyser);
  const samples = new Uint8Array(analyser.fftSize);
  const tick = () => {
    const tile = tileOf(id);
    if (!tile) return context.close();
    analyser.getByteTimeDomainData(samples);
    let peak = 0;
    for (const s of samples) peak = Math.max(peak, Math.abs(s - 128));
    tile.classList.toggle("speaking", peak > 12);
    setTimeout(tick, 150);
  };
  tick();
}

// ---------- peers (onepizza §12) ----------

function peerFor(id) {
  let peer = state.peers.get(id);
  if (peer) return peer;
  const pc = new RTCPeerConnection({ iceServers: state.iceServers });
  peer = { pc, pending: [] };
  state.peers.set(id, peer);
  for (const track of state.local.getAudioTracks()) pc.addTrack(track, state.local);
  const video = outgoingVideo();
  if (video) pc.addTrack(video, state.local);
  pc.onicecandidate = ({ candidate }) => {
    if (candidate) state.channel.emit("signal:ice-candidate", { to: id, candidate });
  };
  pc.ontrack = ({ streams }) => {
    const tile = tileOf(id);
    if (!tile || !streams[0]) return;
    const video = tile.querySelector("video");
    if (video.srcObject !== streams[0]) {
      video.srcObject = streams[0];
      watchSpeaking(id, streams[0]);
    }
  };
  pc.onconnectionstatechange = () => {
    const tile = tileOf(id);
    if (tile) tile.dataset.connection = pc.connectionState;
  };
  return peer;
}

async function call(id) {
  const { pc } = peerFor(id);
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  state.channel.emit("signal:offer", { to: id, offer: pc.localDescription });
}

async function flushCandidates(peer) {
  for (const candidate of peer.pending.splice(0)) await peer.pc.addIceCandidate(candidate);
}

function closePeer(id) {
  const peer = state.peers.get(id);
  if (peer) peer.pc.close();
  state.peers.delete(id);
}

// ---------- joining ----------

async function join(name) {
  try {
    const answer = await fetch("/api/config/ice-servers").then((r) => r.json());
    state.iceServers = answer.iceServers || [];
  } catch {
    state.iceServers = [];
  }
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const channel = new Channel(`${scheme}://${location.host}/ws`);
  state.channel = channel;
  wire(channel, name);
  try {
    await channel.opened;
  } catch (err) {
    return message("Cannot connect", err.message, true);
  }
  sendJoin(name);
}

function sendJoin(name) {
  const data = { meetingId, name };
  if (adminToken) Object.assign(data, { isAdmin: true, adminToken });
  if (inviteToken) data.inviteToken = inviteToken;
  state.channel.emit("join-meeting", data);
}

function wire(channel, name) {
  channel.on("joined", (data) => {
    state.me = data.participantId;
    state.isHost = Boolean(data.isAdmin);
    state.settings = data.settings || {};
    $("room-title").textContent = data.title || "Meeting";
    document.title = `${data.title || "Meeting"} · Convene`;
    $("host-panel").hidden = !state.isHost;
    show("room");
    document.body.dataset.screen = "room";
    const me = (data.participants || []).find((p) => p.participantId === state.me) || {
      participantId: state.me, name, isAdmin: state.isHost,
    };
    ensureTile(me);
    tileOf(state.me).querySelector("video").srcObject = state.local;
    watchSpeaking(state.me, state.local);
    state.muted = Boolean(me.isMuted);
    applyMute();
    if (me.isVideoOff) setVideoOff(true);
    settingsChanged(state.settings);
    for (const person of data.participants || []) {
      if (person.participantId === state.me) continue;
      ensureTile(person);
      call(person.participantId);
    }
  });
  channel.on("participant:joined", (person) => ensureTile(person));
  channel.on("participant:left", ({ participantId }) => {
    closePeer(participantId);
    removeTile(participantId);
  });
  channel.on("participant:updated", (change) => {
    const person = state.people.get(change.participantId);
    if (!person) return;
    Object.assign(person, change);
    renderTile(change.participantId);
  });
  channel.on("signal:offer", async ({ from, offer }) => {
    const peer = peerFor(from);
    await peer.pc.setRemoteDescription(offer);
    await flushCandidates(peer);
    const answer = await peer.pc.createAnswer();
    await peer.pc.setLocalDescription(answer);
    channel.emit("signal:answer", { to: from, answer: peer.pc.localDescription });
  });
  channel.on("signal:answer", async ({ from, answer }) => {
    const peer = state.peers.get(from);
    if (!peer) return;
    await peer.pc.setRemoteDescription(answer);
    await flushCandidates(peer);
  });
  channel.on("signal:ice-candidate", async ({ from, candidate }) => {
    const peer = peerFor(from);
    if (peer.pc.remoteDescription) await peer.pc.addIceCandidate(candidate);
    else peer.pending.push(candidate);
  });
  channel.on("chat:message", ({ name: sender, text, timestamp }) => {
    const item = document.createElement("li");
    const from = document.createElement("span");
    from.className = "from";
    from.textContent = `${sender}`;
    const time = new Date(timestamp || Date.now()).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    from.title = time;
    item.append(from, document.createTextNode(text));
    $("chat-log").append(item);
    $("chat-log").scrollTop = $("chat-log").scrollHeight;
  });
  channel.on("react", ({ emoji }) => {
    const float = document.createElement("span");
    float.textContent = emoji;
    float.style.left = `${10 + Math.random() * 80}%`;
    $("floating").append(float);
    setTimeout(() => float.remove(), 2600);
  });
  channel.on("recording:started", ({ hostName }) => {
    $("recording").textContent = `🔴 ${hostName} started recording this meeting. By staying, you consent to being recorded.`;
    $("recording").hidden = false;
  });
  channel.on("admin:mute", () => {
    state.muted = true;
    applyMute();
  });
  channel.on("admin:unmute", () => ($("unmute-request").hidden = !state.muted));
  channel.on("meeting:all-muted", () => {
    if (state.isHost) return;
    state.muted = true;
    applyMute();
  });
  channel.on("meeting:settings-updated", settingsChanged);
  channel.on("admin:kick", ({ reason }) => {
    state.leaving = true;
    hangUp();
    message("Removed from the meeting", reason ? `The host removed you: ${reason}` : "The host removed you from this meeting.");
  });
  channel.on("meeting:ended", () => {
    state.leaving = true;
    hangUp();
    message("Meeting ended", "The host has ended this meeting.");
  });
  channel.on("waiting-room:waiting", ({ message: text }) => {
    $("waiting-text").textContent = text || "Waiting for the host to let you in…";
    show("waiting");
    document.body.dataset.screen = "waiting";
  });
  channel.on("waiting-room:admitted", () => sendJoin(name));
  channel.on("waiting-room:denied", ({ message: text }) => {
    state.leaving = true;
    message("Entry declined", text || "The host declined your entry.");
  });
  channel.on("waiting-room:participant-waiting", ({ socketId, name: waiter, removed }) => {
    const existing = document.querySelector(`#waiting-list li[data-socket="${CSS.escape(socketId)}"]`);
    if (removed) {
      if (existing) existing.remove();
      return;
    }
    if (existing) return;
    const item = document.createElement("li");
    item.dataset.socket = socketId;
    const label = document.createElement("span");
    label.textContent = waiter;
    const decide = (admit) => () => {
      channel.emit(admit ? "waiting-room:admit" : "waiting-room:deny", { meetingId, socketId });
      item.remove();
    };
    item.append(label, button("Admit", decide(true), `Admit ${waiter}`), button("Deny", decide(false), `Deny ${waiter}`));
    $("waiting-list").append(item);
  });
  channel.on("error", ({ message: text }) => {
    if (!state.me) refused(text);
  });
  channel.on("close", () => {
    if (!state.leaving && state.me) message("Disconnected", "The connection to the meeting was lost.", true);
  });
}

function settingsChanged(settings) {
  state.settings = settings || state.settings;
  $("lock").setAttribute("aria-pressed", String(Boolean(state.settings.locked)));
  $("lock").textContent = state.settings.locked ? "Unlock meeting" : "Lock meeting";
  $("waiting-toggle").setAttribute("aria-pressed", String(Boolean(state.settings.waitingRoom)));
}

function hangUp() {
  for (const id of [...state.peers.keys()]) closePeer(id);
  if (state.channel) state.channel.close();
  if (state.local) state.local.getTracks().forEach((t) => t.stop());
  if (state.screenTrack) state.screenTrack.stop();
  if (state.blur) state.blur.stop();
}

// ---------- controls ----------

function applyMute() {
  for (const track of state.local.getAudioTracks()) track.enabled = !state.muted;
  $("toggle-mic").setAttribute("aria-pressed", String(state.muted));
  $("toggle-mic").textContent = state.muted ? "Unmute" : "Mute";
  if (!state.muted) $("unmute-request").hidden = true;
  const me = state.people.get(state.me);
  if (me) {
    me.isMuted = state.muted;
    renderTile(state.me);
  }
}

function setVideoOff(off) {
  state.videoOff = off;
  if (state.cameraTrack) state.cameraTrack.enabled = !off;
  $("toggle-camera").setAttribute("aria-pressed", String(off));
  $("toggle-camera").textContent = off ? "Start video" : "Stop video";
}

function bindControls() {
  $("toggle-mic").addEventListener("click", () => {
    state.muted = !state.muted;
    applyMute();
    state.channel.emit("media:toggle-audio", { isMuted: state.muted });
  });
  $("accept-unmute").addEventListener("click", () => $("toggle-mic").click());
  $("toggle-camera").addEventListener("click", () => {
    setVideoOff(!state.videoOff);
    state.channel.emit("media:toggle-video", { isVideoOff: state.videoOff });
  });
  $("toggle-screen").addEventListener("click", async () => {
    if (state.screenTrack) {
      state.screenTrack.stop();
      return screenEnded();
    }
    try {
      const screen = await navigator.mediaDevices.getDisplayMedia({ video: true });
      state.screenTrack = screen.getVideoTracks()[0];
      state.screenTrack.addEventListener("ended", screenEnded);
      replaceVideoEverywhere();
      $("toggle-screen").setAttribute("aria-pressed", "true");
      $("toggle-screen").textContent = "Stop sharing";
      state.channel.emit("media:screen-share", { isScreenSharing: true });
    } catch {
      // The user chose not to share.
    }
  });
  $("toggle-blur").addEventListener("click", () => {
    if (!state.cameraTrack) return;
    if (state.blur) {
      state.blur.stop();
      state.blur = null;
    } else {
      state.blur = startBlur();
    }
    replaceVideoEverywhere();
    $("toggle-blur").setAttribute("aria-pressed", String(Boolean(state.blur)));
  });
  $("toggle-hand").addEventListener("click", () => {
    state.hand = !state.hand;
    $("toggle-hand").setAttribute("aria-pressed", String(state.hand));
    $("toggle-hand").textContent = state.hand ? "Lower hand" : "Raise hand";
    state.channel.emit("raise-hand", { isHandRaised: state.hand });
  });
  for (const react of document.querySelectorAll(".react")) {
    react.addEventListener("click", () => state.channel.emit("react", { emoji: react.dataset.emoji }));
  }
  $("chat-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("chat-text").value.trim();
    if (!text) return;
    state.channel.emit("chat:message", { text });
    $("chat-text").value = "";
  });
  $("leave").addEventListener("click", () => {
    state.leaving = true;
    hangUp();
    message("You left the meeting", "You can close this page, or join again.", true);
  });
  $("mute-all").addEventListener("click", () => state.channel.emit("host:mute-all"));
  $("lock").addEventListener("click", () => state.channel.emit(state.settings.locked ? "host:unlock" : "host:lock"));
  $("waiting-toggle").addEventListener("click", () =>
    state.channel.emit("host:settings", { waitingRoom: !state.settings.waitingRoom }));
  $("end").addEventListener("click", () => state.channel.emit("host:end"));
  $("recording-notice").addEventListener("click", () =>
    state.channel.emit("recording:broadcast-started", { hostName: state.people.get(state.me)?.name || "The host" }));
  $("invite").addEventListener("click", async () => {
    // A one-use invite (it passes the waiting room and a lock), made with the admin token.
    const response = await fetch(`/api/meetings/${encodeURIComponent(meetingId)}/invite`, {
      method: "POST",
      headers: { "x-admin-token": adminToken, "content-type": "application/json" },
      body: "{}",
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      $("invite-note").textContent = body.error || "Could not create an invite";
      return;
    }
    const link = new URL(body.joinUrl, location.origin).href;
    try {
      await navigator.clipboard.writeText(link);
      $("invite-note").textContent = "Invite link copied (it works once).";
    } catch {
      $("invite-note").textContent = link;
    }
  });
  $("retry").addEventListener("click", () => location.reload());
}

function screenEnded() {
  state.screenTrack = null;
  replaceVideoEverywhere();
  $("toggle-screen").setAttribute("aria-pressed", "false");
  $("toggle-screen").textContent = "Share screen";
  state.channel.emit("media:screen-share", { isScreenSharing: false });
}

// ---------- start ----------

async function start() {
  $("prejoin-meeting").textContent = meetingId;
  const name = query.get("name");
  if (name) $("name").value = name;
  show("prejoin");
  document.body.dataset.screen = "prejoin";
  bindControls();
  await openMedia();
  await listDevices().catch(() => {});
  $("camera").addEventListener("change", openMedia);
  $("microphone").addEventListener("change", openMedia);
  $("join-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const chosen = $("name").value.trim();
    if (!chosen) return $("name").focus();
    $("join").disabled = true;
    join(chosen);
  });
  document.body.dataset.ready = "true";
}

// For the browser tests and for debugging from the console: the live peer connections.
window.convene = { peers: () => state.peers };

start();
