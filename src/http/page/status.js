// Keeps the status page live: every unit event (SSE) refreshes its row and
// the timeline; the buttons POST with the page's CSRF token.
"use strict";
(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const rows = document.getElementById("units");
  const live = document.getElementById("live");
  const error = document.getElementById("error");
  const timeline = document.getElementById("timeline");

  function text(value) { return value === null || value === undefined ? "" : String(value); }

  function uptime(startedAt) {
    if (!startedAt) return "";
    let s = Math.max(0, Math.floor((Date.now() - Date.parse(startedAt)) / 1000));
    const d = Math.floor(s / 86400); s -= d * 86400;
    const h = Math.floor(s / 3600); s -= h * 3600;
    const m = Math.floor(s / 60); s -= m * 60;
    if (d) return d + "d " + h + "h";
    if (h) return h + "h " + m + "m";
    if (m) return m + "m " + s + "s";
    return s + "s";
  }

  function cell(row, key, value, cls) {
    const td = row.querySelector('[data-key="' + key + '"]');
    td.textContent = value;
    if (cls !== undefined) td.className = cls;
  }

  function render(unit) {
    let row = rows.querySelector('tr[data-unit="' + CSS.escape(unit.name) + '"]');
    if (!row) {
      row = document.createElement("tr");
      row.dataset.unit = unit.name;
      for (const key of ["name", "phase", "health", "restarts", "uptime", "exit", "reason"]) {
        const td = document.createElement("td");
        td.dataset.key = key;
        row.appendChild(td);
      }
      const actions = document.createElement("td");
      for (const action of ["start", "stop", "restart"]) {
        const button = document.createElement("button");
        button.type = "button";
        button.dataset.action = action;
        button.textContent = action;
        actions.appendChild(button);
      }
      row.appendChild(actions);
      rows.appendChild(row);
    }
    cell(row, "name", unit.name);
    cell(row, "phase", unit.phase, "phase-" + unit.phase);
    cell(row, "health", text(unit.health), unit.health ? "health-" + unit.health : "");
    cell(row, "restarts", unit.restart_count + (unit.last_restart_reason ? " (" + unit.last_restart_reason + ")" : ""), "num");
    row.dataset.startedAt = text(unit.started_at);
    cell(row, "uptime", uptime(unit.started_at), "num");
    cell(row, "exit", text(unit.last_exit_code), "num");
    cell(row, "reason", text(unit.reason));
  }

  async function refresh(name) {
    const response = await fetch("/v1/units/" + encodeURIComponent(name), { credentials: "same-origin" });
    if (response.status === 404) {
      const row = rows.querySelector('tr[data-unit="' + CSS.escape(name) + '"]');
      if (row) row.remove();
      return;
    }
    if (response.ok) render(await response.json());
  }

  async function refreshAll() {
    const response = await fetch("/v1/units", { credentials: "same-origin" });
    if (!response.ok) return;
    const units = await response.json();
    const names = new Set(units.map((u) => u.name));
    for (const row of rows.querySelectorAll("tr[data-unit]")) {
      if (!names.has(row.dataset.unit)) row.remove();
    }
    units.forEach(render);
  }

  function restarted(event) {
    const entry = document.createElement("li");
    entry.textContent = event.at + " " + event.unit + " restarting" + (event.reason ? ": " + event.reason : "");
    timeline.appendChild(entry);
    while (timeline.children.length > 50) timeline.firstElementChild.remove();
  }

  const source = new EventSource("/v1/events");
  source.onopen = () => { live.textContent = "live"; live.className = "on"; };
  source.onerror = () => { live.textContent = "reconnecting"; live.className = "off"; };
  source.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.state === "backing-off" || (event.state === "stopping" && event.reason)) restarted(event);
    refresh(event.unit);
  };
  source.addEventListener("reset", refreshAll);

  rows.addEventListener("click", async (click) => {
    const button = click.target.closest("button[data-action]");
    if (!button) return;
    const name = button.closest("tr").dataset.unit;
    const action = button.dataset.action;
    button.disabled = true;
    error.textContent = "";
    try {
      const response = await fetch("/v1/units/" + encodeURIComponent(name) + "/" + action, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf },
      });
      const body = await response.json();
      if (response.ok) render(body);
      else error.textContent = name + ": " + body.message;
    } catch (failure) {
      error.textContent = name + ": " + failure;
    } finally {
      button.disabled = false;
    }
  });

  setInterval(() => {
    for (const row of rows.querySelectorAll("tr[data-unit]")) {
      row.querySelector('[data-key="uptime"]').textContent = uptime(row.dataset.startedAt);
    }
  }, 1000);
})();
