// Genre Studio timeline: a wavesurfer.js waveform with a playhead, segment regions coloured
// by one model's top genre, and one lane per model whose current segment and probabilities
// follow playback. A click on the waveform, a region or a lane seeks the audio.
// Speaks Streamlit's component protocol (postMessage) directly: it is four messages, so no
// bundler and no React are needed. Audio arrives as a data: URL; nothing is fetched from
// the internet.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  let ws = null, regions = null, audioId = null, args = null, duration = 0;

  function send(type, data) {
    window.parent.postMessage(Object.assign({ isStreamlitMessage: true, type: type }, data || {}), "*");
  }
  function setHeight() { send("streamlit:setFrameHeight", { height: document.body.scrollHeight + 4 }); }

  function fmt(t) { return t.toFixed(1) + " s"; }
  function alpha(hex, a) {
    const n = parseInt(hex.slice(1), 16);
    return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${a})`;
  }
  function top(probs, labels, k) {
    return probs.map((p, i) => [labels[i], p]).sort((a, b) => b[1] - a[1]).slice(0, k);
  }
  function segmentAt(lane, t) {
    for (let i = 0; i < lane.starts.length; i++) {
      if (t >= lane.starts[i] && t < lane.ends[i]) return i;
    }
    return -1;
  }
  function seekFraction(frac) {
    if (!ws || !duration) return;
    ws.setTime(Math.max(0, Math.min(1, frac)) * duration);
  }

  function drawLanes() {
    const box = $("lanes");
    box.querySelectorAll(".lane").forEach((el) => el.remove());
    const dur = duration || args.duration;
    args.lanes.forEach((lane, li) => {
      const row = document.createElement("div");
      row.className = "lane";
      row.dataset.lane = String(li);
      const name = document.createElement("span");
      name.className = "lane-name";
      name.textContent = lane.name;
      const cells = document.createElement("div");
      cells.className = "cells";
      lane.starts.forEach((s, i) => {
        const [genre, p] = top(lane.probs[i], args.labels, 1)[0];
        const cell = document.createElement("div");
        cell.className = "cell";
        cell.style.left = (100 * s / dur) + "%";
        cell.style.width = (100 * (Math.min(lane.ends[i], dur) - s) / dur) + "%";
        cell.style.background = alpha(args.colours[genre] || "#888888", 0.35 + 0.65 * p);
        cell.textContent = `${genre} ${Math.round(100 * p)}%`;
        cell.title = `${lane.name}, ${s.toFixed(0)}–${lane.ends[i].toFixed(0)} s: ${genre} ${Math.round(100 * p)}%`;
        cells.appendChild(cell);
      });
      cells.addEventListener("click", (e) => {
        const r = cells.getBoundingClientRect();
        seekFraction((e.clientX - r.left) / r.width);
      });
      row.appendChild(name);
      row.appendChild(cells);
      box.appendChild(row);
    });
  }

  function update(t) {
    const dur = duration || args.duration;
    const frac = dur ? Math.min(1, t / dur) : 0;
    const head = $("lanes-playhead");
    head.style.left = (100 * frac) + "%";
    head.dataset.time = t.toFixed(3);
    const clock = $("tl-time");
    clock.textContent = fmt(t);
    clock.dataset.time = t.toFixed(3);
    const now = $("now");
    now.innerHTML = "";
    args.lanes.forEach((lane, li) => {
      const k = segmentAt(lane, t);
      document.querySelectorAll(`.lane[data-lane="${li}"] .cell`).forEach((c, i) =>
        c.classList.toggle("current", i === k));
      const box = document.createElement("div");
      box.className = "now-model";
      const title = document.createElement("b");
      title.textContent = k < 0 ? `${lane.name}: (no segment here)` :
        `${lane.name}, ${lane.starts[k].toFixed(0)}–${lane.ends[k].toFixed(0)} s`;
      box.appendChild(title);
      if (k >= 0) {
        top(lane.probs[k], args.labels, 3).forEach(([g, p]) => {
          const r = document.createElement("div");
          r.className = "bar-row";
          const l = document.createElement("span"); l.className = "bar-label"; l.textContent = g;
          const b = document.createElement("span"); b.className = "bar";
          b.style.width = Math.round(120 * p) + "px";
          b.style.background = args.colours[g] || "#888";
          const v = document.createElement("span"); v.className = "bar-value";
          v.textContent = Math.round(100 * p) + "%";
          r.append(l, b, v);
          box.appendChild(r);
        });
      }
      now.appendChild(box);
    });
  }

  function addRegions() {
    if (!regions || !duration) return;
    regions.clearRegions();
    const lane = args.lanes[args.regions_lane || 0];
    if (!lane || lane.starts.length < 2) return;
    lane.starts.forEach((s, i) => {
      const [genre] = top(lane.probs[i], args.labels, 1)[0];
      regions.addRegion({ start: s, end: Math.min(lane.ends[i], duration), drag: false,
                          resize: false, color: alpha(args.colours[genre] || "#888888", 0.18),
                          content: genre });
    });
  }

  function build() {
    if (ws) { ws.destroy(); ws = null; }
    duration = 0;
    const W = window.WaveSurfer;
    regions = W.Regions.create();
    ws = W.create({
      container: "#waveform", height: args.height || 90, url: args.audio,
      waveColor: "#9bb7d4", progressColor: "#4C78A8", cursorColor: "#111", cursorWidth: 2,
      normalize: true, interact: true, dragToSeek: false,
      plugins: [regions, W.Timeline.create({ container: "#ruler", height: 18,
                                            style: { fontSize: "12px", color: "#555" } })],
    });
    ws.on("ready", (d) => { duration = d; drawLanes(); addRegions(); update(0); setHeight(); });
    ws.on("timeupdate", (t) => update(t));
    ws.on("play", () => { $("tl-play").textContent = "❚❚ Pause"; });
    ws.on("pause", () => { $("tl-play").textContent = "▶ Play"; });
    ws.on("finish", () => { $("tl-play").textContent = "▶ Play"; });
    regions.on("region-clicked", (region, e) => {
      e.stopPropagation();
      const r = $("waveform").getBoundingClientRect();
      seekFraction((e.clientX - r.left) / r.width);
    });
  }

  function render(newArgs) {
    args = newArgs;
    document.body.classList.toggle("large", !!args.large);
    if (args.audio_id !== audioId) {   // a new clip: a new player; a rerun keeps it playing
      audioId = args.audio_id;
      build();
    } else {
      addRegions();
    }
    drawLanes();
    update(ws ? ws.getCurrentTime() : 0);
    setHeight();
  }

  $("tl-play").addEventListener("click", () => { if (ws) ws.playPause(); });
  window.addEventListener("message", (ev) => {
    if (ev.data && ev.data.type === "streamlit:render") render(ev.data.args);
  });
  new ResizeObserver(setHeight).observe(document.body);
  send("streamlit:componentReady", { apiVersion: 1 });
})();
