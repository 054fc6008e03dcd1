// The emulated Slack client: channels, messages, modals and the app's Home tab, drawn with
// the shared block renderer (blocks.js). Every click goes through the emulator's admin API,
// which sends the app what Slack would (block_actions, view_submission, app_home_opened).
"use strict";
const HOME = "home";
const state = {current: null, users: {}, channels: {}, shown: "", homeShown: "", actors: "", dismissedView: null,
               highlight: new URLSearchParams(location.search).get("ts"), scrollPending: true};
const $ = id => document.getElementById(id);

function actor() {
  return $("actor").value;
}

async function getJson(path) {
  return (await fetch(path)).json();
}

async function post(path, body) {
  const answer = await fetch(path, {method: "POST", body: JSON.stringify(body)});
  return {status: answer.status, body: await answer.json().catch(() => ({}))};
}

function report(answer) {
  $("status").textContent = answer.error ? `Error: ${answer.error}`
    : answer.acked ? "The app acknowledged the action."
    : "No app acknowledged the action (is it connected?).";
}

function afterAction() {
  setTimeout(refresh, 300);
  setTimeout(showModal, 600);
}

function surface(extra) {
  return {users: state.users, channels: state.channels, ...extra};
}

// A button or menu on a message: the emulator sends block_actions with a message container.
async function actOnMessage(msg, el, value) {
  const body = {user_id: actor(), channel: msg.channel, message_ts: msg.ts, action_id: el.action_id};
  if (value !== null) body.value = value;
  report((await post("/_admin/actions", body)).body);
  afterAction();
}

// A button or menu inside a modal or the Home tab: block_actions with a view container.
async function actOnView(view, el, value) {
  const body = {user_id: actor(), view_id: view.id, action_id: el.action_id};
  if (value !== null) body.value = value;
  report((await post("/_admin/view_actions", body)).body);
  afterAction();
}

function fillActors(people) {
  const humans = people.filter(u => !u.is_bot);
  const signature = JSON.stringify(humans);
  if (signature === state.actors) return;
  state.actors = signature;
  const select = $("actor");
  const chosen = select.value || new URLSearchParams(location.search).get("as");
  select.innerHTML = "";
  for (const u of humans) select.add(new Option(`${u.name} (${u.id})`, u.id));
  if (chosen && humans.some(u => u.id === chosen)) select.value = chosen;
}

function renderNav(channels) {
  const nav = $("channels");
  nav.innerHTML = "";
  for (const c of channels) {
    const a = document.createElement("a");
    a.textContent = c.is_im ? `@ ${(state.users[c.name] || {}).name || c.name}` : `# ${c.name}`;
    a.className = c.id === state.current ? "active" : "";
    a.dataset.channel = c.name;
    a.onclick = () => {
      state.current = c.id;
      state.shown = "";
      refresh();
    };
    nav.appendChild(a);
  }
  $("home-tab").className = "tab" + (state.current === HOME ? " active" : "");
}

function renderMessage(m) {
  const div = document.createElement("div");
  div.className = "msg" + (m.thread_ts && m.thread_ts !== m.ts ? " thread" : "") + (m.ephemeral_to ? " ephemeral" : "");
  div.dataset.ts = m.ts;
  const who = (state.users[m.user] || {}).name || m.user;
  const edited = m.history.length > 1 ? " (edited)" : "";
  const only = m.ephemeral_to
    ? ` · only visible to ${Blocks.escapeHtml((state.users[m.ephemeral_to] || {}).name || m.ephemeral_to)}` : "";
  const when = new Date(parseFloat(m.ts) * 1000).toLocaleTimeString();
  div.innerHTML = `<div class="meta"><b>${Blocks.escapeHtml(who)}</b> ${when}${edited}${only}</div>`;
  const context = surface({act: (el, value) => actOnMessage(m, el, value)});
  if (m.blocks && m.blocks.length) {
    div.appendChild(Blocks.renderBlocks(m.blocks, context));
  } else if (m.text) {
    div.insertAdjacentHTML("beforeend", `<div class="block">${Blocks.mrkdwn(m.text, context)}</div>`);
  }
  for (const f of m.files || []) div.appendChild(Blocks.renderFile(f));
  return div;
}

async function renderMessages() {
  const {messages} = await getJson("/_admin/messages");
  const here = messages.filter(m => m.channel === state.current && !m.deleted);
  const signature = JSON.stringify([state.current, here, state.users, state.channels]);
  if (signature === state.shown) return;  // redrawing would close a menu someone has open
  state.shown = signature;
  const channel = state.channels[state.current] || {};
  $("title").textContent = channel.is_im ? `@ ${(state.users[channel.name] || {}).name || channel.name}` : `# ${channel.name || ""}`;
  $("home").hidden = true;
  const list = $("messages");
  list.hidden = false;
  list.innerHTML = "";
  for (const m of here) list.appendChild(renderMessage(m));
  const marked = here.some(m => m.ts === state.highlight)
    ? list.querySelector(`.msg[data-ts="${state.highlight}"]`) : null;
  if (marked) {
    marked.classList.add("highlight");
    if (state.scrollPending) marked.scrollIntoView({block: "center"});
    state.scrollPending = false;
  }
}

// A permalink (a case card's link in an alert or on the Home tab) opens its message here.
function openPermalink(link) {
  state.current = link.dataset.channelId;
  state.highlight = link.dataset.ts;
  state.scrollPending = true;
  state.shown = "";
  $("modal").hidden = true;
  history.replaceState(null, "", `/?channel=${state.current}&ts=${state.highlight}&as=${actor()}`);
  refresh();
}

function homeUrl() {
  return `/_admin/views/home?user=${encodeURIComponent(actor())}`;
}

function showHome(content) {
  $("messages").hidden = true;
  const home = $("home");
  home.hidden = false;
  home.innerHTML = "";
  home.appendChild(content);
}

function homeNote(text) {
  const div = document.createElement("div");
  div.className = "empty";
  div.textContent = text;
  return div;
}

// Opening the Home tab: Slack sends the app app_home_opened (with the view it shows, if any),
// and the app usually answers with views.publish; the tab shows the latest published view.
async function openHome() {
  state.current = HOME;
  state.homeShown = "";
  state.shown = "";
  $("title").textContent = "Home";
  renderNav(Object.values(state.channels));
  const first = await fetch(homeUrl());
  if (first.status === 404) {
    showHome(homeNote("App Home not available"));
    return;
  }
  // The emulator adds what Slack would: the app's DM channel and the view last published.
  const event = {type: "app_home_opened", user: actor(), tab: "home"};
  const {body: answer} = await post("/_admin/events", {event});
  $("status").textContent = answer.delivered ? "Sent app_home_opened to the app."
    : "No app is connected to receive app_home_opened.";
  await renderHome();
}

async function renderHome() {
  const answer = await fetch(homeUrl());
  if (answer.status === 404) {
    showHome(homeNote("App Home not available"));
    return;
  }
  const {view} = await answer.json();
  const signature = JSON.stringify([actor(), view, state.users, state.channels]);
  if (signature === state.homeShown) return;
  state.homeShown = signature;
  if (!view) {
    showHome(homeNote("The app has not published a Home tab for you yet."));
    return;
  }
  showHome(Blocks.renderBlocks(view.blocks, surface({act: (el, value) => actOnView(view, el, value)})));
}

// The newest open modal the app opened for the acting person, with its inputs and errors.
async function showModal() {
  const box = $("modal");
  const {views} = await getJson("/_admin/views");
  const open = views.filter(v => v.open && v.type === "modal" && v.user === actor() && v.id !== state.dismissedView);
  const view = open[open.length - 1];
  if (!view) {
    box.hidden = true;
    return;
  }
  if (!box.hidden && box.dataset.viewId === view.id && box.dataset.hash === view.hash) return;
  box.dataset.viewId = view.id;
  box.dataset.hash = view.hash;
  const inner = box.querySelector(".box");
  inner.innerHTML = `<h3>${Blocks.plainText(view.title)}</h3>`;
  const inputs = [];
  const context = surface({act: (el, value) => actOnView(view, el, value), onInput: i => inputs.push(i)});
  inner.appendChild(Blocks.renderBlocks(view.blocks, context));
  const buttons = document.createElement("div");
  buttons.className = "buttons";
  const cancel = document.createElement("button");
  cancel.innerHTML = Blocks.plainText(view.close) || "Cancel";
  cancel.onclick = () => {
    state.dismissedView = view.id;
    box.hidden = true;
  };
  buttons.append(cancel, " ");
  if (view.submit) {
    const submit = document.createElement("button");
    submit.className = "primary";
    submit.innerHTML = Blocks.plainText(view.submit);
    submit.onclick = () => submitModal(view, inputs);
    buttons.appendChild(submit);
  }
  inner.appendChild(buttons);
  box.hidden = false;
}

async function submitModal(view, inputs) {
  const values = {};
  for (const i of inputs) values[i.block.block_id] = {[i.el.action_id]: i.read()};
  const {body: answer} = await post("/_admin/view_submission", {user_id: actor(), view_id: view.id, values});
  const reply = answer.ack_payload || {};
  if (reply.response_action === "errors") {
    for (const i of inputs) i.error.textContent = (reply.errors || {})[i.block.block_id] || "";
    return;
  }
  $("modal").hidden = true;
  setTimeout(refresh, 300);
}

let refreshing = false;
async function refresh() {
  if (refreshing) return;
  refreshing = true;
  try {
    const [channels, people] = await Promise.all(["/_admin/channels", "/_admin/users"].map(getJson));
    state.users = Object.fromEntries(people.users.map(u => [u.id, u]));
    state.channels = Object.fromEntries(channels.channels.map(c => [c.id, c]));
    fillActors(people.users);
    const query = new URLSearchParams(location.search);
    if (!state.current && query.get("tab") === HOME) {
      refreshing = false;
      return openHome();
    }
    if (!state.current && channels.channels.length) {
      const wanted = (query.get("channel") || "").replace(/^#/, "");
      const match = channels.channels.find(c => c.id === wanted || c.name === wanted);
      state.current = (match || channels.channels[0]).id;
    }
    renderNav(channels.channels);
    if (state.current === HOME) await renderHome();
    else await renderMessages();
    await showModal();
  } finally {
    refreshing = false;
  }
}

$("home-tab").onclick = () => openHome();
document.addEventListener("click", event => {
  const link = event.target.closest("a.permalink");
  if (!link) return;
  event.preventDefault();
  openPermalink(link);
});
$("actor").onchange = () => (state.current === HOME ? openHome() : showModal());
refresh();
setInterval(refresh, 2000);
