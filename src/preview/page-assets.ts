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
  <p>Messages, modals and the Home tab as Slack would show them. The buttons, forms and the <code>/falco</code> command run the app's real Slack handlers.</p>
  <div class="tools">
    <button type="button" id="demo" class="btn btn-primary">Send sample alerts</button>
    <form id="command-form"><label>/falco <input id="command" name="command" placeholder="recent" autocomplete="off"></label> <button type="submit" class="btn">Send</button></form>
    <span id="status" role="status"></span>
  </div>
</header>
<nav class="tabs" role="tablist" aria-label="Where to look">
  <button type="button" role="tab" class="tab" id="tab-channels" aria-selected="true" aria-controls="workspace">Channels</button>
  <button type="button" role="tab" class="tab" id="tab-home" aria-selected="false" aria-controls="home">Home</button>
</nav>
<main id="workspace" role="tabpanel" aria-labelledby="tab-channels"><p class="empty">Loading…</p></main>
<main id="home" role="tabpanel" aria-labelledby="tab-home" hidden><p class="empty">Loading…</p></main>
<div id="modal-root"></div>
</body>
</html>
`;

export const PREVIEW_PAGE_SCRIPT = `"use strict";
(function () {
  var token = new URLSearchParams(location.search).get("token");
  var query = token ? "?token=" + encodeURIComponent(token) : "";
  var statusLine = document.getElementById("status");
  var shown = -1;
  var shownHome = null;
  var shownModal = null;

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

  /**
   * The same view with the app's errors (Slack keeps the view and what was entered, and shows each
   * error under its input), or another view, which replaces it.
   */
  function showModal(html) {
    var root = document.getElementById("modal-root");
    var current = root.querySelector(".modal");
    var next = document.createElement("template");
    next.innerHTML = html;
    var incoming = next.content.querySelector(".modal");
    var same = current && incoming &&
      current.getAttribute("data-view-id") === incoming.getAttribute("data-view-id") &&
      current.getAttribute("data-view-hash") === incoming.getAttribute("data-view-hash");
    if (!same) {
      root.innerHTML = html;
      var first = root.querySelector("#modal-form .bk-control, #modal-form input");
      if (first) first.focus();
      return;
    }
    Array.prototype.forEach.call(incoming.querySelectorAll(".bk-input"), function (input) {
      var blockId = input.getAttribute("data-block-id");
      var here = Array.prototype.find.call(current.querySelectorAll(".bk-input"), function (el) {
        return el.getAttribute("data-block-id") === blockId;
      });
      if (!here) return;
      var message = input.querySelector(".bk-error").textContent;
      here.querySelector(".bk-error").textContent = message;
      here.classList.toggle("has-error", message !== "");
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
      if (state.home !== shownHome) {
        shownHome = state.home;
        document.getElementById("home").innerHTML = state.home;
      }
      // Replaced only when the app changed it, so that a message arriving keeps what is being typed.
      if (state.modal !== shownModal) {
        shownModal = state.modal;
        showModal(state.modal || "");
      }
      document.body.setAttribute("data-version", String(state.version));
    }).catch(function (error) { status("Could not load the messages: " + error.message); });
  }

  function showTab(home) {
    document.getElementById("tab-home").setAttribute("aria-selected", home ? "true" : "false");
    document.getElementById("tab-channels").setAttribute("aria-selected", home ? "false" : "true");
    document.getElementById("home").hidden = !home;
    document.getElementById("workspace").hidden = home;
  }

  document.getElementById("tab-channels").addEventListener("click", function () { showTab(false); });
  document.getElementById("tab-home").addEventListener("click", function () {
    showTab(true);
    status("Opening the Home tab…");
    post("/preview/home").then(function () { status(""); })
      .catch(function (error) { status("Opening the Home tab failed: " + error.message); });
  });

  /** What one input block holds, as the page sends it: a string, a list (checkboxes) or null. */
  function inputValue(input) {
    var type = input.getAttribute("data-type");
    if (type === "checkboxes") {
      return Array.prototype.map.call(input.querySelectorAll("input:checked"), function (c) { return c.value; });
    }
    if (type === "radio_buttons") {
      var checked = input.querySelector("input:checked");
      return checked ? checked.value : null;
    }
    var control = input.querySelector(".bk-control");
    return control && control.value !== "" ? control.value : null;
  }

  document.addEventListener("submit", function (event) {
    if (event.target.id !== "modal-form") return;
    event.preventDefault();
    var modal = event.target.closest("[data-view-id]");
    var values = {};
    var missing = false;
    Array.prototype.forEach.call(event.target.querySelectorAll(".bk-input"), function (input) {
      var value = inputValue(input);
      var empty = value === null || (Array.isArray(value) && value.length === 0);
      var error = input.querySelector(".bk-error");
      error.textContent = "";
      input.classList.remove("has-error");
      // Slack's client refuses an empty required input itself, before the app hears of it.
      if (empty && input.getAttribute("data-required") === "true") {
        missing = true;
        input.classList.add("has-error");
        error.textContent = "Please complete this required field.";
      }
      var blockId = input.getAttribute("data-block-id");
      values[blockId] = values[blockId] || {};
      values[blockId][input.getAttribute("data-action-id")] = value;
    });
    if (missing) return;
    status("Sending the form to the app…");
    post("/preview/submit", { viewId: modal.getAttribute("data-view-id"), values: values })
      .then(function (answer) { status(answer.action === "errors" ? "The app asked for changes." : ""); })
      .catch(function (error) { status("The form failed: " + error.message); });
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-modal-close]")) {
      post("/preview/close-modal").catch(function (error) { status("Closing failed: " + error.message); });
      return;
    }
    var button = event.target.closest("button[data-action-id]");
    if (!button) return;
    button.disabled = true;
    status("Sending the click to the app…");
    if (button.hasAttribute("data-view-id")) {
      post("/preview/view-click", {
        viewId: button.getAttribute("data-view-id"),
        actionId: button.getAttribute("data-action-id"),
        value: button.getAttribute("data-value")
      }).then(function () { status(""); })
        .catch(function (error) { status("The click failed: " + error.message); button.disabled = false; });
      return;
    }
    post("/preview/click", {
      channel: button.getAttribute("data-channel"),
      ts: button.getAttribute("data-ts"),
      actionId: button.getAttribute("data-action-id"),
      value: button.getAttribute("data-value")
    }).then(function () { status(""); })
      .catch(function (error) { status("The click failed: " + error.message); button.disabled = false; });
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
a { color: #1264a3; }
.tabs { max-width: 920px; margin: 12px auto 0; padding: 0 20px; display: flex; gap: 4px; }
.tab { font: inherit; font-size: 14px; padding: 6px 14px; border: 1px solid var(--line); border-bottom: 0; border-radius: 6px 6px 0 0; background: #eee; cursor: pointer; }
.tab[aria-selected="true"] { background: #fff; font-weight: 700; }
.home { background: #fff; border: 1px solid var(--line); border-radius: 8px; margin: 16px 0; padding: 8px 16px 16px; }
.modal-backdrop { position: fixed; inset: 0; background: rgba(0, 0, 0, .45); display: flex; align-items: flex-start; justify-content: center; padding-top: 8vh; z-index: 10; }
.modal { background: #fff; border-radius: 8px; width: min(520px, 94vw); max-height: 84vh; display: flex; flex-direction: column; box-shadow: 0 18px 48px rgba(0, 0, 0, .35); }
.modal-head { padding: 14px 20px; border-bottom: 1px solid var(--line); }
.modal-head h2 { margin: 0; font-size: 20px; }
.modal-body { padding: 12px 20px; overflow: auto; }
.modal-foot { padding: 12px 20px; border-top: 1px solid var(--line); display: flex; gap: 8px; justify-content: flex-end; }
.bk-input { margin: 12px 0; }
.bk-label { display: block; font-weight: 700; margin-bottom: 4px; }
.bk-optional { font-weight: 400; color: var(--muted); }
.bk-control { font: inherit; width: 100%; padding: 6px 8px; border: 1px solid #bbb; border-radius: 4px; }
.bk-choice { display: block; }
.bk-hint { font-size: 13px; color: var(--muted); margin: 4px 0 0; }
.bk-error { font-size: 13px; color: var(--red); margin: 4px 0 0; }
.bk-error:empty { display: none; }
.has-error .bk-control { border-color: var(--red); }
`;
