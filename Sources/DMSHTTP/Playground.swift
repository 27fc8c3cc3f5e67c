/// The browser playground served at `GET /`: one self-contained page (HTML, CSS and script
/// inline, nothing fetched from elsewhere) that lists the models from `GET /openapi.json` (its
/// `x-dms-model` summaries) and lets a person try each one: pick or drop images and see the
/// top-k as bars beside the image, edit a JSON tensor prefilled with a valid example of the
/// right shape and see the output tensors, see image outputs as images, copy the equivalent
/// curl command. Errors show the server's own message.
///
/// The page lives in the binary as a string so the server needs no files beside it (a pip
/// wheel, a container image); it is plain HTML and script with no build step.
enum Playground {
    static let page = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Deep Model Server playground</title>
<style>
  :root { --ink: #1d2430; --muted: #5b6676; --line: #d5dbe3; --accent: #1f6feb; --bad: #b42318; --card: #ffffff; --page: #f4f6f9; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--page); }
  header { padding: 1rem 1.25rem; background: #0f1b2d; color: #fff; }
  header h1 { margin: 0; font-size: 1.3rem; }
  header p { margin: .25rem 0 0; color: #c9d4e3; font-size: .9rem; }
  header a { color: #9cc3ff; }
  main { max-width: 70rem; margin: 0 auto; padding: 1rem; display: grid; gap: 1rem; }
  .model { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 1rem 1.1rem; min-width: 0; }
  .model h2 { margin: 0 0 .25rem; font-size: 1.15rem; word-break: break-all; }
  .meta { color: var(--muted); font-size: .88rem; margin: 0 0 .6rem; }
  table.sig { border-collapse: collapse; font-size: .85rem; margin-bottom: .8rem; max-width: 100%; display: block; overflow-x: auto; }
  table.sig th, table.sig td { border-bottom: 1px solid var(--line); padding: .2rem .6rem .2rem 0; text-align: left; white-space: nowrap; }
  label { display: block; font-weight: 600; margin: .5rem 0 .2rem; }
  input[type=file] { max-width: 100%; }
  .drop { border: 2px dashed var(--line); border-radius: 8px; padding: .6rem; }
  .drop.over { border-color: var(--accent); background: #eef4ff; }
  textarea { width: 100%; min-height: 6rem; font: .85rem/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; padding: .5rem; border: 1px solid var(--line); border-radius: 6px; }
  button { font: inherit; padding: .45rem 1rem; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; margin: .6rem .5rem 0 0; }
  button.secondary { background: #fff; color: var(--accent); }
  button:disabled { opacity: .6; cursor: progress; }
  :focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
  .result { display: flex; flex-wrap: wrap; gap: 1rem; margin-top: .8rem; align-items: flex-start; }
  .result img.preview { width: 128px; height: 128px; object-fit: contain; image-rendering: pixelated; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
  .bars { flex: 1 1 16rem; min-width: 0; }
  .bar { display: grid; grid-template-columns: minmax(3rem, 9rem) 1fr 4.5rem; gap: .5rem; align-items: center; font-size: .9rem; margin: .15rem 0; }
  .bar .label { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .bar .track { background: #e8edf3; border-radius: 4px; height: .9rem; overflow: hidden; }
  .bar .fill { background: var(--accent); height: 100%; }
  .bar .value { text-align: right; font-variant-numeric: tabular-nums; }
  .tensor { flex: 1 1 100%; min-width: 0; }
  .tensor h3 { font-size: .95rem; margin: .2rem 0; }
  pre { background: #f0f3f7; border-radius: 6px; padding: .5rem; overflow-x: auto; font-size: .8rem; margin: .3rem 0; white-space: pre-wrap; word-break: break-all; }
  .error { color: var(--bad); border: 1px solid #f3b8b2; background: #fff4f2; border-radius: 6px; padding: .5rem .7rem; margin-top: .8rem; }
  .curl { margin-top: .6rem; }
  .curl summary { cursor: pointer; color: var(--accent); }
  .notready { color: var(--bad); }
  @media (max-width: 40rem) { main { padding: .5rem; } .model { padding: .8rem; } .bar { grid-template-columns: minmax(2.5rem, 6rem) 1fr 4rem; } }
</style>
</head>
<body>
<header>
  <h1>Deep Model Server playground</h1>
  <p>Try the served models. The API: <a href="/openapi.json">OpenAPI 3.1</a> · <a href="/api-description">Swagger 2.0</a> · <a href="/statistics">statistics</a> · <a href="/ping">ping</a></p>
</header>
<main id="models" aria-live="polite"><p>Loading the models…</p></main>
<script>
"use strict";
const origin = window.location.origin;

function element(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}

// A valid example for a JSON input: zeros (false for BOOL) shaped as the signature, with
// every dynamic dimension (0 or -1) as 1.
function example(shape, datatype) {
  const zero = datatype === "BOOL" ? false : 0;
  const build = (dims) => dims.length === 0 ? zero : Array.from({ length: dims[0] > 0 ? dims[0] : 1 }, () => build(dims.slice(1)));
  return build(shape);
}

function shellQuote(text) { return "'" + text.replace(/'/g, "'\\''") + "'"; }

function curlCommand(name, model, form) {
  const url = `${origin}/${encodeURIComponent(name)}/predict`;
  if (model.input_type === "image/jpeg") {
    const fields = model.inputs.map((input) => {
      const file = form.querySelector(`input[name="${input.field}"]`).files[0];
      return `-F ${shellQuote(`${input.field}=@${file ? file.name : "image.jpg"}`)}`;
    });
    return `curl -X POST ${shellQuote(url)} ${fields.join(" ")}`;
  }
  const body = {};
  for (const input of model.inputs) {
    const text = form.querySelector(`textarea[name="${input.field}"]`).value;
    try { body[input.field] = JSON.parse(text); } catch { body[input.field] = text; }
  }
  return `curl -X POST ${shellQuote(url)} -H 'Content-Type: application/json' -d ${shellQuote(JSON.stringify(body))}`;
}

function showError(place, text) {
  place.append(element("div", { class: "error", role: "alert", text }));
}

function renderClassification(place, answer, images) {
  answer.prediction.forEach((top, index) => {
    const row = element("div", { class: "result" });
    if (images[index]) row.append(element("img", { class: "preview", src: images[index], alt: `input image ${index + 1}` }));
    const bars = element("div", { class: "bars", role: "list", "aria-label": "top classes" });
    for (const entry of top) {
      const percent = entry.probability == null ? 0 : Math.max(0, Math.min(1, entry.probability)) * 100;
      const bar = element("div", { class: "bar", role: "listitem" },
        element("span", { class: "label prediction-class", text: entry.class, title: entry.class }),
        element("span", { class: "track" }, element("span", { class: "fill", style: `width:${percent.toFixed(2)}%;display:block` })),
        element("span", { class: "value", text: entry.probability == null ? "NaN" : `${percent.toFixed(2)} %` }));
      bars.append(bar);
    }
    row.append(bars);
    place.append(row);
  });
}

function renderTensors(place, answer) {
  const row = element("div", { class: "result" });
  for (const output of answer.prediction) {
    const box = element("div", { class: "tensor" }, element("h3", { text: `${output.name} ${output.datatype || output.content_type} [${output.shape.join(", ")}]` }));
    if (output.content_type === "image/jpeg") {
      output.data.forEach((base64, index) => box.append(element("img", { class: "preview", src: `data:image/jpeg;base64,${base64}`, alt: `${output.name} image ${index + 1}` })));
    } else {
      box.append(element("pre", { class: "tensor-data", text: JSON.stringify(output.data) }));
    }
    row.append(box);
  }
  place.append(row);
}

// The object URLs of the images shown with the last answer of each model, freed when replaced.
const shownImages = new Map();

async function predict(name, model, form, place, button) {
  place.replaceChildren();
  for (const url of shownImages.get(name) || []) URL.revokeObjectURL(url);
  const images = [];
  shownImages.set(name, images);
  let request;
  if (model.input_type === "image/jpeg") {
    const data = new FormData();
    for (const input of model.inputs) {
      const file = form.querySelector(`input[name="${input.field}"]`).files[0];
      if (!file) { showError(place, `Choose an image for ${input.field} ('${input.name}') first.`); return; }
      data.append(input.field, file, file.name);
    }
    for (const input of model.inputs) {
      images.push(URL.createObjectURL(form.querySelector(`input[name="${input.field}"]`).files[0]));
    }
    request = { method: "POST", body: data };
  } else {
    const body = {};
    for (const input of model.inputs) {
      const text = form.querySelector(`textarea[name="${input.field}"]`).value;
      try { body[input.field] = JSON.parse(text); } catch (error) { showError(place, `${input.field} ('${input.name}') is not valid JSON: ${error.message}`); return; }
    }
    request = { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  }
  button.disabled = true;
  try {
    const response = await fetch(`/${encodeURIComponent(name)}/predict`, request);
    const text = await response.text();
    let answer;
    try { answer = JSON.parse(text); } catch { answer = null; }
    if (!response.ok) {
      showError(place, answer && answer.message ? `${response.status} ${answer.type}: ${answer.message}` : `${response.status}: ${text || response.statusText}`);
      return;
    }
    if (model.answer === "classification") renderClassification(place, answer, images);
    else if (model.answer === "tensors" || model.answer === "images") renderTensors(place, answer);
    else place.append(element("pre", { class: "tensor-data", text: JSON.stringify(answer, null, 2) }));
  } catch (error) {
    showError(place, `The request failed: ${error.message}`);
  } finally {
    button.disabled = false;
  }
}

function modelCard(name, model) {
  const card = element("section", { class: "model", id: `model-${name}`, "aria-labelledby": `title-${name}` });
  card.append(element("h2", { id: `title-${name}`, text: name }));
  if (model.state !== "ready") {
    card.append(element("p", { class: "notready", text: `Not ready: ${model.state}` }));
    return card;
  }
  const kind = model.input_type === "image/jpeg" ? "images" : "JSON tensors";
  const answer = { classification: `top ${model.top_k} classes`, tensors: "output tensors", images: "output images", json: "the service's JSON" }[model.answer];
  card.append(element("p", { class: "meta", text: `Takes ${kind}; answers ${answer}.` }));
  const table = element("table", { class: "sig" },
    element("thead", {}, element("tr", {}, ...["", "field", "name", "shape", "type"].map((heading) => element("th", { text: heading })))));
  const body = element("tbody");
  for (const [role, list] of [["input", model.inputs], ["output", model.outputs]]) {
    for (const tensor of list) body.append(element("tr", {}, ...[role, tensor.field || "", tensor.name, `[${tensor.shape.join(", ")}]`, tensor.datatype].map((cell) => element("td", { text: cell }))));
  }
  table.append(body);
  card.append(table);

  const form = element("form", { novalidate: "" });
  for (const input of model.inputs) {
    const id = `${name}-${input.field}`;
    form.append(element("label", { for: id, text: `${input.field} ('${input.name}')` }));
    if (model.input_type === "image/jpeg") {
      const picker = element("input", { type: "file", id, name: input.field, accept: "image/jpeg,image/png" });
      const zone = element("div", { class: "drop" }, picker, element("span", { class: "meta", text: " or drop a JPEG or PNG here" }));
      zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
      zone.addEventListener("dragleave", () => zone.classList.remove("over"));
      zone.addEventListener("drop", (event) => {
        event.preventDefault();
        zone.classList.remove("over");
        if (event.dataTransfer.files.length) { picker.files = event.dataTransfer.files; picker.dispatchEvent(new Event("change")); }
      });
      form.append(zone);
    } else {
      const area = element("textarea", { id, name: input.field, spellcheck: "false", "aria-describedby": `${id}-hint` });
      area.value = JSON.stringify(example(input.shape, input.datatype));
      form.append(area, element("div", { class: "meta", id: `${id}-hint`, text: `${input.datatype} values shaped [${input.shape.join(", ")}] (0 or -1: any size)` }));
    }
  }
  const run = element("button", { type: "submit", text: "Predict" });
  const copy = element("button", { type: "button", class: "secondary", text: "Copy curl command" });
  form.append(run, copy);
  const curl = element("details", { class: "curl" }, element("summary", { text: "Equivalent curl command" }), element("pre", { class: "curl-command" }));
  const place = element("div", { class: "answer", "aria-live": "polite" });
  const refreshCurl = () => { curl.querySelector("pre").textContent = curlCommand(name, model, form); };
  form.addEventListener("input", refreshCurl);
  form.addEventListener("change", refreshCurl);
  form.addEventListener("submit", (event) => { event.preventDefault(); predict(name, model, form, place, run); });
  copy.addEventListener("click", async () => {
    refreshCurl();
    const text = curl.querySelector("pre").textContent;
    curl.open = true;
    try { await navigator.clipboard.writeText(text); copy.textContent = "Copied"; }
    catch { window.getSelection().selectAllChildren(curl.querySelector("pre")); copy.textContent = "Selected: press Ctrl+C"; }
    setTimeout(() => { copy.textContent = "Copy curl command"; }, 2000);
  });
  card.append(form, curl, place);
  refreshCurl();
  return card;
}

async function start() {
  const list = document.getElementById("models");
  try {
    const response = await fetch("/openapi.json");
    const document_ = await response.json();
    const cards = [];
    for (const [path, item] of Object.entries(document_.paths)) {
      const operation = item.post;
      if (!operation || !operation["x-dms-model"]) continue;
      cards.push(modelCard(path.slice(1, -"/predict".length), operation["x-dms-model"]));
    }
    list.replaceChildren(...(cards.length ? cards : [element("p", { text: "This server serves no models." })]));
  } catch (error) {
    list.replaceChildren();
    showError(list, `Could not read the models from /openapi.json: ${error.message}`);
  }
}
start();
</script>
</body>
</html>
"""#
}
