// dubkit review: the page over the JSON API of `dubkit review` (see server.py). No build step.
"use strict";
const TOKEN = document.body.dataset.token;
const NUDGE = 0.1; // seconds a nudge moves a line's start or end
let view = null;      // the last /api/project answer
let mediaVersion = 0; // bumped after a render, so the browser fetches the new files
let dubEl = null, sourceEl = null;

const $ = (sel) => document.querySelector(sel);
const url = (path, params = {}) => {
  const q = new URLSearchParams({token: TOKEN, ...params});
  return `${path}?${q}`;
};
const fmt = (t) => t == null ? "" :
  `${Math.floor(t / 60)}:${(t % 60).toFixed(1).padStart(4, "0")}`;
const num = (x, digits = 2) => x == null ? "n/a" : Number(x).toFixed(digits);

async function api(method, path, body, params) {
  const init = {method, headers: {}};
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    init.headers["Content-Type"] = typeof body === "string" ? "application/x-subrip"
                                                             : "application/json";
  }
  const response = await fetch(url(path, params), init);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(data.error || `${response.status} ${response.statusText}`);
    error.status = response.status;
    throw error;
  }
  return data;
}

function say(text, isError = false) {
  const box = $("#message");
  box.hidden = !text;
  box.className = isError ? "error" : "";
  box.textContent = text || "";
  if (isError && text && text.includes("changed since the page loaded")) {
    const again = document.createElement("button");
    again.textContent = "Reload";
    again.onclick = () => load().then(() => say(""));
    box.append(" ", again);
  }
}

async function load() {
  view = await api("GET", "/api/project");
  $("#job").textContent = `${view.input} (${view.source_language}) \u2192 ${view.output} ` +
    `(${view.target_language}), revision ${view.revision}`;
  $("#export").href = url("/api/lines.srt");
  buildMedia();
  drawTimeline();
  drawTable();
  showRender(view.render);
}

function buildMedia() {
  const kind = view.video ? "video" : "audio";
  const version = {v: mediaVersion};
  if (!dubEl || dubEl.dataset.version !== String(mediaVersion)) {
    const box = $("#media");
    box.innerHTML = "";
    dubEl = document.createElement(kind);
    dubEl.id = "dub";
    dubEl.controls = true;
    dubEl.preload = "auto";
    dubEl.dataset.version = String(mediaVersion);
    dubEl.src = url("/media/dub", version);
    const track = document.createElement("track");
    track.kind = "subtitles"; track.label = view.target_language;
    track.srclang = view.target_language; track.default = true;
    track.src = url("/media/subtitles", version);
    dubEl.append(track);
    sourceEl = document.createElement("audio");
    sourceEl.id = "source";
    sourceEl.preload = "auto";
    sourceEl.src = url("/media/source");
    sourceEl.muted = true;
    box.append(dubEl, sourceEl);
    // the original follows the dub's clock; the track switch picks which one is heard
    dubEl.addEventListener("play", () => { sync(); sourceEl.play().catch(() => {}); });
    dubEl.addEventListener("pause", () => sourceEl.pause());
    dubEl.addEventListener("seeked", sync);
    dubEl.addEventListener("timeupdate", () => { sync(true); follow(); });
    chooseTrack();
  }
}

function sync(onlyIfDrifted = false) {
  if (!sourceEl) return;
  if (!onlyIfDrifted || Math.abs(sourceEl.currentTime - dubEl.currentTime) > 0.15) {
    sourceEl.currentTime = dubEl.currentTime;
  }
}

function chooseTrack() {
  const which = document.querySelector("input[name=track]:checked").value;
  dubEl.muted = which !== "dub";
  sourceEl.muted = which !== "source";
}

function duration() {
  return view.duration || Math.max(...view.lines.map((l) => Math.max(l.end, l.dub_end || 0)), 1);
}

function drawTimeline() {
  const box = $("#timeline");
  box.querySelectorAll(".lane").forEach((lane) => lane.remove());
  const total = duration();
  for (const speaker of view.speakers) {
    const lane = document.createElement("div");
    lane.className = "lane";
    lane.dataset.speaker = speaker.id;
    lane.innerHTML = `<span class="lane-name">${speaker.id}</span>`;
    for (const line of view.lines.filter((l) => l.speaker === speaker.id)) {
      lane.append(block(line, "source", line.start, line.end, total));
      if (line.dub_start != null) lane.append(block(line, "dub", line.dub_start, line.dub_end, total));
    }
    box.append(lane);
  }
}

function block(line, kind, start, end, total) {
  const el = document.createElement("div");
  el.className = `block ${kind}${kind === "dub" && line.needs_review ? " flagged" : ""}`;
  el.dataset.line = line.id;
  el.style.left = `${100 * start / total}%`;
  el.style.width = `${Math.max(0.2, 100 * (end - start) / total)}%`;
  el.title = `${line.id} ${kind}: ${fmt(start)}\u2013${fmt(end)}`;
  return el;
}

function follow() {
  const t = dubEl.currentTime;
  $("#clock").textContent = fmt(t);
  $("#playhead").style.left = `${100 * t / duration()}%`;
  const current = view.lines.find((l) => (l.dub_start ?? l.start) <= t && t < (l.dub_end ?? l.end));
  document.querySelectorAll(".current").forEach((el) => el.classList.remove("current"));
  if (current) {
    document.querySelectorAll(`[data-line="${current.id}"]`).forEach((el) => el.classList.add("current"));
  }
}

function sortedLines() {
  let lines = view.lines.slice();
  if ($("#needs-review").checked) lines = lines.filter((l) => l.needs_review);
  const key = {
    time: (l) => l.start,
    similarity: (l) => l.similarity ?? Infinity,
    cer: (l) => -(l.cer ?? -1),
    fit: (l) => -Math.abs(Math.log((l.dub_duration || l.slot) / l.slot)),
  }[$("#sort").value];
  return lines.sort((a, b) => key(a) - key(b));
}

function drawTable() {
  const body = $("#lines tbody");
  body.innerHTML = "";
  const reviewCount = view.lines.filter((l) => l.needs_review).length;
  $("#counts").textContent = `${view.lines.length} lines, ${reviewCount} need review, ` +
    `${view.pending.length} edited since the last render`;
  for (const line of sortedLines()) body.append(row(line));
}

function row(line) {
  const tr = document.createElement("tr");
  tr.dataset.line = line.id;
  tr.className = `${line.needs_review ? "review" : ""} ${line.edited ? "edited" : ""}`;
  const speakers = view.speakers.map((s) =>
    `<option${s.id === line.speaker ? " selected" : ""}>${s.id}</option>`).join("");
  tr.innerHTML = `
    <td>${line.id}</td>
    <td class="num">${fmt(line.start)}\u2013${fmt(line.end)}
      <div class="nudge">start <button data-nudge="start" data-by="-1">\u2212</button><button data-nudge="start" data-by="1">+</button>
      end <button data-nudge="end" data-by="-1">\u2212</button><button data-nudge="end" data-by="1">+</button></div></td>
    <td><select class="speaker">${speakers}</select></td>
    <td class="text source-text"></td>
    <td class="text"><textarea class="target" lang="${view.target_language}"></textarea></td>
    <td class="num">${num(line.dub_duration)} / ${num(line.slot)} s</td>
    <td class="num">${num(line.tempo)}</td>
    <td class="num">${num(line.similarity)}</td>
    <td class="reasons"></td>
    <td><input type="checkbox" class="approved"${line.approved ? " checked" : ""}></td>
    <td><button class="play-source">\u25B6 source</button><button class="play-dub"${line.audio ? "" : " disabled"}>\u25B6 dub</button></td>`;
  tr.querySelector(".source-text").textContent = line.source_text;
  tr.querySelector(".target").value = line.target_text;
  tr.querySelector(".reasons").textContent = line.reasons.join("; ");
  tr.querySelector(".target").addEventListener("change", (e) =>
    edit(line.id, {target_text: e.target.value}));
  tr.querySelector(".speaker").addEventListener("change", (e) =>
    edit(line.id, {speaker: e.target.value}));
  tr.querySelector(".approved").addEventListener("change", (e) =>
    edit(line.id, {approved: e.target.checked}));
  tr.querySelectorAll("[data-nudge]").forEach((button) => button.addEventListener("click", () => {
    const field = button.dataset.nudge;
    const value = Math.round((line[field] + Number(button.dataset.by) * NUDGE) * 1000) / 1000;
    edit(line.id, {[field]: value});
  }));
  tr.querySelector(".play-source").addEventListener("click", () => playSource(line));
  tr.querySelector(".play-dub").addEventListener("click", () => playDub(line));
  return tr;
}

async function edit(id, changes) {
  try {
    view = await api("PATCH", `/api/lines/${encodeURIComponent(id)}`,
                     {...changes, revision: view.revision});
    say("");
    drawTimeline(); drawTable(); showRender(view.render);
  } catch (error) {
    say(error.message, true);
    if (error.status !== 409) await load(); // put the page back as the file is
  }
}

let clip = null; // what is playing for one line, stopped by the next one
function stopClip() {
  if (clip) { clip.pause(); clip = null; }
}

function playSource(line) {
  stopClip();
  dubEl.pause();
  const el = new Audio(url("/media/source"));
  el.addEventListener("loadedmetadata", () => {
    el.currentTime = line.start;
    el.play().catch((error) => say(`cannot play the original: ${error.message}`, true));
  });
  el.addEventListener("playing", () => { document.body.dataset.playing = `source:${line.id}`; });
  el.addEventListener("timeupdate", () => { if (el.currentTime >= line.end) el.pause(); });
  clip = el;
}

function playDub(line) {
  stopClip();
  dubEl.pause();
  const el = new Audio(url(`/media/line/${encodeURIComponent(line.id)}`, {v: view.revision}));
  el.addEventListener("playing", () => { document.body.dataset.playing = `dub:${line.id}`; });
  el.play().catch((error) => say(`cannot play ${line.id}: ${error.message}`, true));
  clip = el;
}

function showRender(state) {
  const button = $("#render");
  const running = state && state.state === "running";
  button.disabled = running || view.pending.length === 0;
  button.textContent = running
    ? `Rendering\u2026 ${state.stage} ${state.done}/${state.total ?? "?"}`
    : `Render${view.pending.length ? ` (${view.pending.length})` : ""}`;
  document.body.dataset.render = state ? state.state : "idle";
}

async function render() {
  try {
    showRender(await api("POST", "/api/render"));
  } catch (error) { say(error.message, true); return; }
  for (;;) {
    await new Promise((r) => setTimeout(r, 400));
    const state = await api("GET", "/api/render");
    showRender(state);
    if (state.state === "failed") { say(`render failed: ${state.error}`, true); break; }
    if (state.state === "done") {
      mediaVersion += 1; // reload the dub and its subtitles
      await load();
      say(`rendered ${state.lines.length} line(s)`);
      break;
    }
  }
}

async function importSrt(file) {
  try {
    view = await api("PUT", "/api/lines.srt", await file.text(), {revision: view.revision});
    say(`imported ${file.name}`);
    drawTimeline(); drawTable(); showRender(view.render);
  } catch (error) { say(error.message, true); }
}

$("#render").addEventListener("click", render);
$("#import").addEventListener("change", (e) => e.target.files[0] && importSrt(e.target.files[0]));
$("#needs-review").addEventListener("change", drawTable);
$("#sort").addEventListener("change", drawTable);
document.querySelectorAll("input[name=track]").forEach((r) => r.addEventListener("change", chooseTrack));
$("#timeline").addEventListener("click", (e) => {
  const box = e.currentTarget.getBoundingClientRect();
  dubEl.currentTime = duration() * (e.clientX - box.left) / box.width;
});
load().catch((error) => say(error.message, true));
