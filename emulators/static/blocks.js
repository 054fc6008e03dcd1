// Block Kit and mrkdwn as Slack shows them, shared by messages, modals and the Home tab.
//
// renderBlocks(blocks, ctx) returns the blocks as DOM nodes. ctx carries what a surface knows:
//   users, channels   maps id -> {id, name, ...} for mentions and the select menus
//   act(el, value)    called when a person uses a button or menu (null value: a button's own)
//   onInput(entry)    input blocks (modals) register {block, el, read, error} here
"use strict";
window.Blocks = (() => {
  const ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"};
  const IMAGE_TYPES = new Set(["png", "jpg", "jpeg", "gif", "webp", "bmp", "svg"]);
  // chat.getPermalink's links into the emulated workspace open the message on this page.
  const PERMALINK = /^https:\/\/emulated\.slack\.com\/archives\/([A-Z0-9]+)\/p(\d{10})(\d{6})$/;

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, c => ENTITIES[c]);
  }

  // Slack sends &, < and > escaped inside text; they are shown as the characters.
  function unescapeSlack(text) {
    return String(text).replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  }

  // :name: and :name::skin-tone-N: to the emoji, in already-escaped HTML text.
  function emojify(html) {
    return html.replace(/:([a-z0-9_+'-]+):(?::(skin-tone-[2-6]):)?/g, (whole, name, tone) => {
      const glyph = (window.SLACK_EMOJI || {})[name];
      if (!glyph) return whole;
      const toned = glyph + (tone ? (window.SLACK_SKIN_TONES || {})[tone] || "" : "");
      return `<span class="emoji" title=":${escapeHtml(name)}:">${toned}</span>`;
    });
  }

  function plainText(obj) {
    if (!obj) return "";
    const html = escapeHtml(obj.text || "");
    return obj.emoji === false ? html : emojify(html);
  }

  function nameOf(map, id) {
    return ((map || {})[id] || {}).name || id;
  }

  // One <...> control sequence: a link, a mention, a channel, a special mention or a date.
  function control(inner, ctx) {
    const bar = inner.indexOf("|");
    const target = bar < 0 ? inner : inner.slice(0, bar);
    const label = bar < 0 ? "" : unescapeSlack(inner.slice(bar + 1));
    const permalink = unescapeSlack(target).match(PERMALINK);
    if (permalink) {
      const ts = `${permalink[2]}.${permalink[3]}`;
      const shown = emojify(escapeHtml(label || unescapeSlack(target)));
      return `<a class="permalink" href="/?channel=${permalink[1]}&amp;ts=${ts}" data-channel-id="${permalink[1]}" data-ts="${ts}">${shown}</a>`;
    }
    if (/^(https?:\/\/|mailto:)/.test(target)) {
      const shown = emojify(escapeHtml(label || unescapeSlack(target)));
      return `<a href="${escapeHtml(unescapeSlack(target))}" target="_blank" rel="noopener">${shown}</a>`;
    }
    if (/^@[UW][A-Z0-9]+$/.test(target)) {
      const name = label || nameOf(ctx.users, target.slice(1));
      return `<span class="mention" data-user="${escapeHtml(target.slice(1))}">@${escapeHtml(name)}</span>`;
    }
    if (/^#[CDG][A-Z0-9]+$/.test(target)) {
      const name = label || nameOf(ctx.channels, target.slice(1));
      return `<span class="mention">#${escapeHtml(name)}</span>`;
    }
    if (/^!(here|channel|everyone)$/.test(target)) {
      return `<span class="mention">@${target.slice(1)}</span>`;
    }
    if (/^!subteam\^/.test(target)) {
      return `<span class="mention">${escapeHtml(label || "@" + target.split("^")[1])}</span>`;
    }
    if (/^!date\^/.test(target)) return escapeHtml(label || target);
    return escapeHtml(`<${unescapeSlack(inner)}>`);
  }

  // Slack's mrkdwn: *bold*, _italic_, ~strike~, `code`, ```blocks```, > quotes, links,
  // mentions and emoji. Code and controls are set aside first so nothing formats inside them.
  function mrkdwn(text, ctx = {}) {
    const kept = [];
    const keep = html => `\u0000${kept.push(html) - 1}\u0000`;
    let s = String(text);
    s = s.replace(/```([\s\S]*?)```/g, (_, code) =>
      keep(`<pre>${escapeHtml(unescapeSlack(code.replace(/^\n/, "")))}</pre>`));
    s = s.replace(/`([^`\n]+)`/g, (_, code) => keep(`<code>${escapeHtml(unescapeSlack(code))}</code>`));
    s = s.replace(/<([^<>\n]*)>/g, (_, inner) => keep(control(inner, ctx)));
    s = s.replace(/^>/gm, "\u0001");  // a quote is a real > at a line's start, not an escaped one
    s = escapeHtml(unescapeSlack(s));
    s = s.replace(/(^|[^\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])/g, "$1<b>$2</b>");
    s = s.replace(/(^|[^\w_])_(?=\S)([^_\n]*?\S)_(?![\w_])/g, "$1<i>$2</i>");
    s = s.replace(/(^|[^\w~])~(?=\S)([^~\n]*?\S)~(?![\w~])/g, "$1<s>$2</s>");
    s = emojify(s);
    const lines = s.split("\n");
    const out = [];
    let quote = [];
    const flush = () => {
      if (quote.length) out.push(`<blockquote>${quote.join("<br>")}</blockquote>`);
      quote = [];
    };
    for (const line of lines) {
      const quoted = line.match(/^\u0001 ?(.*)$/);
      if (quoted) {
        quote.push(quoted[1]);
      } else {
        flush();
        out.push(line + "\n");
      }
    }
    flush();
    s = out.join("").replace(/\n$/, "").replace(/\n/g, "<br>");
    return s.replace(/\u0000(\d+)\u0000/g, (_, i) => kept[Number(i)]);
  }

  function textObject(obj, ctx) {
    if (!obj) return "";
    return obj.type === "mrkdwn" ? mrkdwn(obj.text, ctx) : plainText(obj);
  }

  function node(tag, className, html) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    if (html !== undefined) el.innerHTML = html;
    return el;
  }

  function image(url, alt, className) {
    const img = node("img", className);
    img.src = url;
    img.alt = alt || "";
    return img;
  }

  function optionText(o) {
    return ((o || {}).text || {}).text || "";
  }

  // A <select> that sends the chosen value; the placeholder stays until something is chosen.
  function selectMenu(el, choices, initial, ctx) {
    const s = node("select", "menu");
    s.dataset.actionId = el.action_id || "";
    s.dataset.type = el.type;
    const placeholder = new Option(optionText({text: el.placeholder}) || "Select an item", "");
    placeholder.disabled = true;
    s.add(placeholder);
    for (const group of choices) {
      const parent = group.label ? node("optgroup") : s;
      if (group.label) {
        parent.label = group.label;
        s.appendChild(parent);
      }
      for (const [value, label] of group.options) parent.appendChild(new Option(label, value));
    }
    s.value = initial || "";
    if (!initial) s.selectedIndex = 0;
    if (ctx.act) s.onchange = () => s.value && ctx.act(el, s.value);
    return s;
  }

  function staticChoices(el) {
    const groups = (el.option_groups || []).map(g => ({
      label: optionText({text: g.label}),
      options: (g.options || []).map(o => [o.value, optionText(o)]),
    }));
    return [{options: (el.options || []).map(o => [o.value, optionText(o)])}, ...groups];
  }

  function userChoices(ctx) {
    const people = Object.values(ctx.users || {});
    const label = u => (u.is_bot ? `${u.name} (app)` : u.name);
    return [{options: people.map(u => [u.id, label(u)])}];
  }

  function conversationChoices(ctx, channelsOnly) {
    const all = Object.values(ctx.channels || {}).filter(c => !c.is_archived);
    const listed = all.filter(c => !(channelsOnly && c.is_im));
    return [{options: listed.map(c => [c.id, c.is_im ? `@${nameOf(ctx.users, c.name)}` : `#${c.name}`])}];
  }

  function choiceList(el, ctx, kind) {
    const wrap = node("div", "choices");
    wrap.dataset.actionId = el.action_id || "";
    const name = `${el.action_id || "choice"}-${Math.random().toString(36).slice(2)}`;
    const initial = new Set((el.initial_options || [el.initial_option]).filter(Boolean).map(o => o.value));
    for (const o of el.options || []) {
      const label = node("label");
      const input = node("input");
      input.type = kind;
      input.name = name;
      input.value = o.value;
      input.checked = initial.has(o.value);
      if (ctx.act) input.onchange = () => ctx.act(el, o.value);
      label.append(input, " ");
      label.insertAdjacentHTML("beforeend", textObject(o.text, ctx));
      wrap.appendChild(label);
    }
    return wrap;
  }

  // One interactive or image element; returns {node, read} (read gives an input's value).
  function element(el, ctx) {
    switch (el.type) {
      case "button": {
        const b = node("button", el.style || "", plainText(el.text));
        b.dataset.actionId = el.action_id || "";
        b.onclick = () => {
          if (el.url) window.open(el.url, "_blank", "noopener");
          if (ctx.act) ctx.act(el, null);
        };
        return {node: b};
      }
      case "static_select":
      case "external_select": {
        const s = selectMenu(el, staticChoices(el), (el.initial_option || {}).value, ctx);
        return {node: s, read: () => s.value || null};
      }
      case "overflow": {
        const s = selectMenu({...el, placeholder: {text: "⋯"}}, staticChoices(el), "", ctx);
        return {node: s, read: () => s.value || null};
      }
      case "users_select": {
        const s = selectMenu(el, userChoices(ctx), el.initial_user, ctx);
        return {node: s, read: () => s.value || null};
      }
      case "conversations_select":
      case "channels_select": {
        const initial = el.initial_conversation || el.initial_channel;
        const s = selectMenu(el, conversationChoices(ctx, el.type === "channels_select"), initial, ctx);
        return {node: s, read: () => s.value || null};
      }
      case "radio_buttons": {
        const w = choiceList(el, ctx, "radio");
        return {node: w, read: () => (w.querySelector("input:checked") || {}).value || null};
      }
      case "checkboxes": {
        const w = choiceList(el, ctx, "checkbox");
        return {node: w, read: () => [...w.querySelectorAll("input:checked")].map(i => i.value)};
      }
      case "datepicker": {
        const d = node("input");
        d.type = "date";
        d.value = el.initial_date || "";
        if (ctx.act) d.onchange = () => d.value && ctx.act(el, d.value);
        return {node: d, read: () => d.value || null};
      }
      case "plain_text_input": {
        const t = node(el.multiline ? "textarea" : "input");
        t.value = el.initial_value || "";
        if (el.placeholder) t.placeholder = el.placeholder.text || "";
        t.dataset.actionId = el.action_id || "";
        return {node: t, read: () => t.value};
      }
      case "image":
        return {node: image(el.image_url, el.alt_text, "inline-image")};
      default:
        return {node: node("span", "context", escapeHtml(`[${el.type}]`))};
    }
  }

  function richTextElements(items, ctx) {
    return (items || []).map(item => {
      if (item.type === "text") {
        let html = emojify(escapeHtml(item.text || "")).replace(/\n/g, "<br>");
        const style = item.style || {};
        if (style.code) html = `<code>${html}</code>`;
        if (style.bold) html = `<b>${html}</b>`;
        if (style.italic) html = `<i>${html}</i>`;
        if (style.strike) html = `<s>${html}</s>`;
        return html;
      }
      if (item.type === "link") return control(`${item.url}|${item.text || ""}`, ctx);
      if (item.type === "user") return control(`@${item.user_id}`, ctx);
      if (item.type === "channel") return control(`#${item.channel_id}`, ctx);
      if (item.type === "emoji") return emojify(`:${escapeHtml(item.name)}:`);
      if (item.type === "broadcast") return control(`!${item.range}`, ctx);
      return "";
    }).join("");
  }

  function richText(block, ctx) {
    return (block.elements || []).map(part => {
      if (part.type === "rich_text_list") {
        const tag = part.style === "ordered" ? "ol" : "ul";
        const items = (part.elements || []).map(i => `<li>${richTextElements(i.elements, ctx)}</li>`);
        return `<${tag}>${items.join("")}</${tag}>`;
      }
      const inner = richTextElements(part.elements, ctx);
      if (part.type === "rich_text_preformatted") return `<pre>${inner}</pre>`;
      if (part.type === "rich_text_quote") return `<blockquote>${inner}</blockquote>`;
      return `<div>${inner}</div>`;
    }).join("");
  }

  function inputBlock(block, ctx) {
    const div = node("div", "block input");
    const optional = block.optional ? ' <span class="context">(optional)</span>' : "";
    div.appendChild(node("label", "label", `<b>${plainText(block.label)}</b>${optional}`));
    const made = element(block.element || {type: "plain_text_input"}, {...ctx, act: null});
    div.appendChild(made.node);
    if (block.hint) div.appendChild(node("div", "context", plainText(block.hint)));
    const error = node("div", "error");
    div.appendChild(error);
    if (ctx.onInput) ctx.onInput({block, el: block.element || {}, read: made.read || (() => null), error});
    return div;
  }

  function renderBlock(block, ctx) {
    const div = node("div", `block ${block.type}`);
    if (block.block_id) div.dataset.blockId = block.block_id;
    switch (block.type) {
      case "header":
        div.appendChild(node("h3", "", plainText(block.text)));
        break;
      case "divider":
        div.appendChild(node("hr"));
        break;
      case "section": {
        const body = node("div", "section-body");
        if (block.text) body.appendChild(node("div", "section-text", textObject(block.text, ctx)));
        if (block.fields) {
          const grid = node("div", "fields");
          for (const f of block.fields) grid.appendChild(node("div", "", textObject(f, ctx)));
          body.appendChild(grid);
        }
        div.appendChild(body);
        if (block.accessory) {
          const side = node("div", "accessory");
          const made = block.accessory.type === "image"
            ? {node: image(block.accessory.image_url, block.accessory.alt_text, "thumb")}
            : element(block.accessory, ctx);
          side.appendChild(made.node);
          div.appendChild(side);
        }
        break;
      }
      case "context":
        for (const e of block.elements || []) {
          if (e.type === "image") div.appendChild(image(e.image_url, e.alt_text, "context-image"));
          else div.appendChild(node("span", "", textObject(e, ctx)));
        }
        break;
      case "actions":
        for (const el of block.elements || []) div.appendChild(element(el, ctx).node);
        break;
      case "image": {
        const figure = node("figure");
        if (block.title) figure.appendChild(node("figcaption", "", plainText(block.title)));
        const url = block.image_url || ((block.slack_file || {}).url) || "";
        figure.appendChild(image(url, block.alt_text, "block-image"));
        div.appendChild(figure);
        break;
      }
      case "input":
        return inputBlock(block, ctx);
      case "rich_text":
        div.innerHTML = richText(block, ctx);
        break;
      case "markdown":
        div.innerHTML = mrkdwn(block.text || "", ctx);
        break;
      default:
        div.className += " context";
        div.textContent = `[${block.type} block]`;
    }
    return div;
  }

  function renderBlocks(blocks, ctx) {
    const fragment = document.createDocumentFragment();
    for (const block of blocks || []) fragment.appendChild(renderBlock(block, ctx));
    return fragment;
  }

  // A shared file: images inline (served by the emulator), anything else as a download link.
  function renderFile(file) {
    const url = `/_admin/files/${encodeURIComponent(file.id)}`;
    const type = String(file.filetype || file.name.split(".").pop() || "").toLowerCase();
    const isImage = String(file.mimetype || "").startsWith("image/") || IMAGE_TYPES.has(type);
    const div = node("div", "file");
    div.dataset.fileId = file.id;
    if (isImage) {
      const figure = node("figure");
      figure.appendChild(node("figcaption", "context", escapeHtml(file.title || file.name)));
      const link = node("a");
      link.href = url;
      link.target = "_blank";
      link.appendChild(image(url, file.title || file.name, "file-image"));
      figure.appendChild(link);
      div.appendChild(figure);
    } else {
      div.innerHTML = `<a href="${url}" download="${escapeHtml(file.name)}">📎 ${escapeHtml(file.title || file.name)}</a>`;
    }
    return div;
  }

  return {escapeHtml, emojify, mrkdwn, plainText, textObject, renderBlocks, renderBlock, renderFile};
})();
