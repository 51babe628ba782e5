/*
 * The preview page's static parts. The page holds no data: the script fetches the workspace as HTML
 * rendered (and escaped) by the server, and follows changes over server-sent events.
 */

export const PREVIEW_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>falco-chatops preview</title>
<link rel="stylesheet" href="/preview/app.css">
<script src="/preview/app.js" defer></script>
</head>
<body>
<header class="top">
  <h1>falco-chatops <span>local preview</span></h1>
  <p>Messages as Slack would show them. The buttons and the <code>/falco</code> command run the app's real Slack handlers.</p>
  <div class="tools">
    <button type="button" id="demo" class="btn btn-primary">Send sample alerts</button>
    <form id="command-form"><label>/falco <input id="command" name="command" placeholder="recent" autocomplete="off"></label> <button type="submit" class="btn">Send</button></form>
    <span id="status" role="status"></span>
  </div>
</header>
<main id="workspace"><p class="empty">Loading…</p></main>
<div id="modal"></div>
</body>
</html>
`;

export const PREVIEW_PAGE_SCRIPT = `"use strict";
(function () {
  var token = new URLSearchParams(location.search).get("token");
  var query = token ? "?token=" + encodeURIComponent(token) : "";
  var statusLine = document.getElementById("status");
  var shown = -1;

  function status(text) { statusLine.textContent = text; }

  function post(path, body) {
    return fetch(path + query, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body || {})
    }).then(function (res) {
      return res.json().then(function (json) {
        if (!res.ok) throw new Error(json.error || ("HTTP " + res.status));
        return json;
      });
    });
  }

  // Replaced only when it changed (errors shown, another view), keeping what was typed and chosen.
  var shownModal = "";
  function showModal(html) {
    if (html === shownModal) return;
    shownModal = html;
    var box = document.getElementById("modal");
    var kept = {};
    box.querySelectorAll("input, textarea, select").forEach(function (el) {
      kept[el.name + "\u0000" + el.value] = el.checked;
      if (el.type !== "radio" && el.type !== "checkbox") kept[el.name] = el.value;
    });
    box.innerHTML = html;
    box.querySelectorAll("input, textarea, select").forEach(function (el) {
      if (el.type === "radio" || el.type === "checkbox") el.checked = kept[el.name + "\u0000" + el.value] === true;
      else if (el.name in kept) el.value = kept[el.name];
    });
  }

  function load() {
    return fetch("/preview/state" + query).then(function (res) {
      if (!res.ok) throw new Error("HTTP " + res.status);
      return res.json();
    }).then(function (state) {
      if (state.version === shown) return;
      shown = state.version;
      document.getElementById("workspace").innerHTML = state.html;
      showModal(state.modal || "");
      document.body.setAttribute("data-version", String(state.version));
    }).catch(function (error) { status("Could not load the messages: " + error.message); });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-action-id]");
    if (!button) return;
    button.disabled = true;
    status("Sending the click to the app…");
    post("/preview/click", {
      channel: button.getAttribute("data-channel"),
      ts: button.getAttribute("data-ts"),
      actionId: button.getAttribute("data-action-id"),
      value: button.getAttribute("data-value")
    }).then(function () { status(""); })
      .catch(function (error) { status("The click failed: " + error.message); button.disabled = false; });
  });

  // The open modal: its inputs as Slack's state.values, sent as a view_submission.
  document.addEventListener("submit", function (event) {
    var form = event.target.closest("#modal-form");
    if (!form) return;
    event.preventDefault();
    var inputs = [];
    form.querySelectorAll("[data-kind]").forEach(function (el) {
      var kind = el.getAttribute("data-kind");
      var value = "";
      if (kind === "radio_buttons") {
        var chosen = el.querySelector("input:checked");
        value = chosen ? chosen.value : "";
      } else if (kind === "checkboxes") {
        value = Array.prototype.map.call(el.querySelectorAll("input:checked"), function (c) { return c.value; });
      } else value = el.value;
      inputs.push({ block: el.getAttribute("data-block"), action: el.getAttribute("data-action"), kind: kind, value: value });
    });
    status("Sending the form to the app…");
    post("/preview/submit", { inputs: inputs }).then(function (answer) {
      status(answer.action === "errors" ? "The app found problems in the form." : "");
    }).catch(function (error) { status("The form failed: " + error.message); });
  });

  document.addEventListener("click", function (event) {
    if (!event.target.closest("[data-modal-close]")) return;
    post("/preview/close").catch(function (error) { status("Closing failed: " + error.message); });
  });

  document.getElementById("demo").addEventListener("click", function () {
    status("Sending the sample alerts…");
    post("/preview/demo").then(function (answer) { status(answer.sent.join(" · ")); })
      .catch(function (error) { status("The demo failed: " + error.message); });
  });

  document.getElementById("command-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var input = document.getElementById("command");
    post("/preview/command", { text: input.value }).then(function () { status(""); input.value = ""; })
      .catch(function (error) { status("The command failed: " + error.message); });
  });

  var events = new EventSource("/preview/events" + query);
  events.onmessage = function () { load(); };
  load();
})();
`;

export const PREVIEW_PAGE_CSS = `
:root { --text: #1d1c1d; --muted: #616061; --line: #e2e2e2; --green: #007a5a; --red: #e01e5a; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.46 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--text); background: #f8f8f8; }
.top { background: #3f0e40; color: #fff; padding: 12px 20px; }
.top h1 { margin: 0; font-size: 18px; }
.top h1 span { font-weight: 400; opacity: .8; }
.top p { margin: 4px 0 8px; opacity: .85; font-size: 13px; }
.tools { display: flex; gap: 12px; align-items: center; flex-wrap: wrap; }
.tools input { font: inherit; padding: 3px 6px; border-radius: 4px; border: 1px solid #ccc; width: 22em; }
#status { font-size: 13px; }
main { max-width: 920px; margin: 0 auto; padding: 12px 20px 40px; }
.channel { background: #fff; border: 1px solid var(--line); border-radius: 8px; margin: 16px 0; padding: 8px 16px 16px; }
.channel h2 { font-size: 16px; margin: 6px 0 10px; }
.msg { border-top: 1px solid var(--line); padding: 10px 0; }
.msg.reply { border-top: 1px dashed var(--line); margin-left: 12px; }
.meta { font-size: 13px; color: var(--muted); }
.meta b { color: var(--text); }
.app { font-size: 10px; background: #e8e8e8; border-radius: 2px; padding: 0 3px; }
.edited { font-size: 12px; }
.bk-header { font-size: 18px; margin: 6px 0; }
.bk-section { margin: 6px 0; }
.bk-fields { display: grid; grid-template-columns: 1fr 1fr; gap: 6px 16px; margin-top: 6px; }
.bk-context { font-size: 12px; color: var(--muted); margin: 6px 0; display: flex; gap: 10px; flex-wrap: wrap; }
.bk-actions { display: flex; gap: 8px; flex-wrap: wrap; margin: 8px 0; }
.bk-divider { border: 0; border-top: 1px solid var(--line); }
code { background: #f3f3f3; border: 1px solid #e4e4e4; border-radius: 3px; padding: 0 3px; color: #c01343; font-size: 12px; word-break: break-all; }
pre { background: #f8f8f8; border: 1px solid #e4e4e4; border-radius: 4px; padding: 8px; white-space: pre-wrap; word-break: break-all; font-size: 12px; }
.btn { font: inherit; font-size: 14px; font-weight: 700; padding: 4px 12px; border-radius: 4px; border: 1px solid #bbb; background: #fff; color: var(--text); cursor: pointer; }
.btn-primary { background: var(--green); border-color: var(--green); color: #fff; }
.btn-danger { background: #fff; border-color: var(--red); color: var(--red); }
.btn:disabled { opacity: .5; cursor: default; }
.ephemeral { background: #f4f9ff; border-left: 3px solid #1264a3; padding: 6px 10px; margin-top: 8px; font-size: 14px; }
.only-you { display: block; font-size: 12px; color: var(--muted); }
.mention { background: #e8f5fa; color: #1264a3; border-radius: 3px; padding: 0 2px; }
.thread summary { cursor: pointer; color: #1264a3; font-size: 13px; }
.empty { color: var(--muted); }
.modal-backdrop { position: fixed; inset: 0; background: rgba(0,0,0,.45); display: flex; align-items: flex-start; justify-content: center; padding-top: 8vh; overflow-y: auto; }
.modal { background: #fff; border-radius: 8px; width: min(520px, 94vw); padding: 16px 20px; box-shadow: 0 8px 30px rgba(0,0,0,.3); }
.modal h2 { font-size: 20px; margin: 0 0 10px; }
.bk-inputblock { margin: 12px 0; }
.bk-label { font-weight: 700; margin-bottom: 4px; }
.bk-label small, .bk-choice small { font-weight: 400; color: var(--muted); }
.bk-input { font: inherit; width: 100%; padding: 6px 8px; border: 1px solid #bbb; border-radius: 4px; }
.bk-choice { display: block; margin: 3px 0; }
.bk-hint { font-size: 12px; color: var(--muted); margin-top: 4px; }
.bk-error { font-size: 13px; color: var(--red); margin-top: 4px; }
.modal-buttons { display: flex; justify-content: flex-end; gap: 8px; margin-top: 16px; }
a { color: #1264a3; }
`;
