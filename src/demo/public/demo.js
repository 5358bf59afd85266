'use strict';

// The Reelrank demo page: plain JS over the public API (GET /v1/feed, POST /v1/events,
// GET /v1/me/features) and the demo-only endpoints under /v1/demo.

const PAGE_SIZE = 8;
const CATEGORY_HUES = {
  comedy: 45, dance: 320, cooking: 20, sports: 130, gaming: 270, music: 290,
  pets: 35, travel: 190, fashion: 340, tech: 210, education: 95, diy: 160,
};
const COUNT_TYPES = ['impression', 'view', 'complete', 'like', 'share', 'skip'];

const state = {
  user: null,
  token: null,
  cursor: null,
  page: 0,
  feedLatencies: [],
  /** Events the worker will have applied for this user once it has caught up with what this page posted. */
  appliedTarget: 0,
};

const $ = (id) => document.getElementById(id);

function showError(message) {
  const el = $('error');
  el.textContent = message;
  el.hidden = !message;
}

function uuid() {
  // crypto.randomUUID needs a secure context; the demo may be opened over plain http on a LAN address.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

async function api(method, path, body, { auth = true } = {}) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (auth && state.token) headers.authorization = `Bearer ${state.token}`;
  const started = performance.now();
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const ms = performance.now() - started;
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) {
    const detail = data && data.message ? (Array.isArray(data.message) ? data.message.join('; ') : data.message) : res.statusText;
    throw new Error(`${method} ${path.split('?')[0]}: ${res.status} ${detail}`);
  }
  return { data, ms };
}

// ---------- users ----------

async function loadUsers(selectId) {
  const { data } = await api('GET', '/v1/demo/users?limit=60', undefined, { auth: false });
  const select = $('user-select');
  select.replaceChildren();
  for (const u of data.users) {
    const opt = document.createElement('option');
    opt.value = u.id;
    opt.textContent = u.simulated ? `${u.displayName} — likes ${u.tastes.join(', ') || 'a bit of everything'}` : `${u.displayName} (new)`;
    opt.dataset.user = JSON.stringify(u);
    select.append(opt);
  }
  if (selectId) select.value = selectId;
}

async function openFeedFor(user) {
  showError('');
  const { data } = await api('POST', '/v1/demo/token', { userId: user.id }, { auth: false });
  state.user = user;
  state.token = data.token;
  // Clear the previous user's cards in the same tick as the new name appears, so nothing
  // on screen pairs one user's name with another user's feed.
  $('feed').replaceChildren();
  renderUser();
  const features = await refreshPanel();
  state.appliedTarget = features.eventsApplied;
  await restartSession();
}

function renderUser() {
  const u = state.user;
  const info = $('user-info');
  info.replaceChildren();
  const name = document.createElement('div');
  name.className = 'user-name';
  name.textContent = `${u.displayName} · ${u.id}`;
  const taste = document.createElement('div');
  taste.className = 'muted';
  taste.textContent = u.simulated
    ? `Hidden taste (the recommender never sees it): ${u.tastes.join(', ')}`
    : 'New user: no history, the feed starts from the popularity order.';
  info.append(name, taste);
}

// ---------- feed ----------

async function restartSession() {
  state.cursor = null;
  state.page = 0;
  $('feed').replaceChildren();
  await loadNextPage();
}

async function loadNextPage() {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (state.cursor) params.set('cursor', state.cursor);
  if ($('explain-toggle').checked) params.set('explain', 'true');
  const { data, ms } = await api('GET', `/v1/feed?${params}`);
  recordFeedLatency(ms);
  state.cursor = data.nextCursor || null;
  state.page += 1;
  renderPage(data);
  $('next-page').disabled = false;
  $('restart').disabled = false;
  $('feed-empty').hidden = true;
  if (data.items.length > 0) {
    postEvents(data.items.map((it) => ({ type: 'impression', videoId: it.videoId, requestId: data.requestId })))
      .then(refreshPanelUntilCaughtUp)
      .catch((err) => showError(err.message));
  }
}

function renderPage(data) {
  const feed = $('feed');
  const divider = document.createElement('div');
  divider.className = 'page-divider';
  divider.dataset.testid = 'page-divider';
  divider.textContent = `Page ${state.page} · ${data.items.length} videos · request ${data.requestId.slice(0, 8)}`;
  feed.append(divider);
  if (data.explain) feed.append(pageExplanation(data.explain));
  if (data.items.length === 0) {
    const empty = document.createElement('div');
    empty.className = 'empty';
    empty.textContent = 'Nothing left to serve in this session. Start a new session.';
    feed.append(empty);
  }
  const template = $('card-template');
  for (const item of data.items) {
    const card = template.content.firstElementChild.cloneNode(true);
    card.dataset.videoId = item.videoId;
    card.dataset.category = item.category;
    card.dataset.page = String(state.page);
    card.dataset.user = state.user.id;
    card.querySelector('.thumb').append(thumbnail(item));
    card.querySelector('.title').textContent = item.title;
    card.querySelector('.creator').textContent = `@${item.creatorId}`;
    const cat = card.querySelector('.category');
    cat.textContent = item.category;
    cat.style.setProperty('--hue', String(hueOf(item.category)));
    card.querySelector('.duration').textContent = `${Math.round(item.durationMs / 1000)} s`;
    card.querySelector('.source').textContent = item.source;
    card.querySelector('.score').textContent = typeof item.score === 'number' ? `score ${item.score.toFixed(3)}` : '';
    if (data.explain) showWhy(card.querySelector('.explain'), data.explain.items.find((e) => e.videoId === item.videoId));
    for (const button of card.querySelectorAll('button[data-action]')) {
      button.addEventListener('click', () => void act(card, item, data.requestId, button.dataset.action));
    }
    feed.append(card);
  }
  divider.scrollIntoView({ behavior: 'smooth', block: 'start' });
}

// ---------- explain (GET /v1/feed?explain=true, allowed in demo mode) ----------

function textEl(tag, text, className) {
  const el = document.createElement(tag);
  el.textContent = text;
  if (className) el.className = className;
  return el;
}

function table(rows) {
  const t = document.createElement('table');
  for (const [k, v] of rows) {
    const tr = document.createElement('tr');
    tr.append(textEl('th', k), textEl('td', v));
    t.append(tr);
  }
  return t;
}

const fmt = (x) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(3));

/** One card's explanation: sources, rerank decision, heads and features. */
function showWhy(details, why) {
  if (!why) return;
  details.hidden = false;
  const body = details.querySelector('.explain-body');
  body.append(
    table([
      ['found by', why.foundBy.join(', ')],
      ['rerank', `${why.rerank.decision.replaceAll('_', ' ')} (score rank ${why.rerank.scoreRank + 1})`],
      ['score', fmt(why.score)],
      ...Object.entries(why.heads).map(([head, h]) => [`p(${head})`, `${fmt(h.score)} × ${h.weight}`]),
    ]),
  );
  const features = Object.entries(why.features);
  if (features.length > 0) {
    body.append(textEl('div', 'features', 'explain-head'), table(features.map(([name, v]) => [name, fmt(v)])));
  }
}

/** The page's explanation: model, sources and their shares, what was dropped and why. */
function pageExplanation(explain) {
  const details = document.createElement('details');
  details.className = 'explain page-why';
  details.dataset.testid = 'page-why';
  details.append(textEl('summary', `why this page? model ${explain.modelVersion}, ${explain.dropped.length} candidates dropped`));
  const counts = Object.entries(explain.droppedCounts).sort((a, b) => b[1] - a[1]);
  details.append(
    table([
      ['model', explain.modelVersion],
      ['fallbacks', explain.fallbacks.join(', ') || 'none'],
      ['sources', explain.sources.map((s) => `${s.name} ${(s.share * 100).toFixed(0)}% (${s.returned})`).join(', ')],
      ['weights', Object.entries(explain.rankWeights).map(([h, w]) => `${h}=${w}`).join(', ')],
      ...counts.map(([reason, n]) => [`dropped: ${reason.replaceAll('_', ' ')}`, String(n)]),
    ]),
  );
  return details;
}

function hueOf(category) {
  if (category in CATEGORY_HUES) return CATEGORY_HUES[category];
  let h = 0;
  for (const ch of category) h = (h * 31 + ch.charCodeAt(0)) % 360;
  return h;
}

function hash(s) {
  let h = 2166136261;
  for (const ch of s) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
  return h >>> 0;
}

/** A generated thumbnail: a gradient in the category's hue, shapes placed from the video id. */
function thumbnail(item) {
  const ns = 'http://www.w3.org/2000/svg';
  const h = hash(item.videoId);
  const hue = hueOf(item.category);
  const hue2 = (hue + 30 + (h % 60)) % 360;
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 160 90');
  svg.setAttribute('preserveAspectRatio', 'xMidYMid slice');
  const gid = `g-${item.videoId}-${state.page}`;
  const defs = document.createElementNS(ns, 'defs');
  const grad = document.createElementNS(ns, 'linearGradient');
  grad.id = gid;
  grad.setAttribute('x1', '0');
  grad.setAttribute('y1', '0');
  grad.setAttribute('x2', '1');
  grad.setAttribute('y2', '1');
  for (const [offset, color] of [['0', `hsl(${hue} 75% 55%)`], ['1', `hsl(${hue2} 70% 28%)`]]) {
    const stop = document.createElementNS(ns, 'stop');
    stop.setAttribute('offset', offset);
    stop.setAttribute('stop-color', color);
    grad.append(stop);
  }
  defs.append(grad);
  svg.append(defs);
  const bg = document.createElementNS(ns, 'rect');
  bg.setAttribute('width', '160');
  bg.setAttribute('height', '90');
  bg.setAttribute('fill', `url(#${gid})`);
  svg.append(bg);
  for (let i = 0; i < 4; i++) {
    const c = document.createElementNS(ns, 'circle');
    const r = (h >>> (i * 3)) & 0xff;
    c.setAttribute('cx', String(((r * 7 + i * 41) % 160)));
    c.setAttribute('cy', String(((r * 3 + i * 23) % 90)));
    c.setAttribute('r', String(8 + (r % 28)));
    c.setAttribute('fill', `hsl(${(hue + i * 25) % 360} 90% 85% / 0.18)`);
    svg.append(c);
  }
  const play = document.createElementNS(ns, 'path');
  play.setAttribute('d', 'M72 33 L92 45 L72 57 Z');
  play.setAttribute('fill', 'rgba(255,255,255,0.85)');
  svg.append(play);
  const label = document.createElementNS(ns, 'text');
  label.setAttribute('x', '6');
  label.setAttribute('y', '84');
  label.setAttribute('class', 'thumb-label');
  label.textContent = item.category.toUpperCase();
  svg.append(label);
  return svg;
}

// ---------- events ----------

function eventsFor(action, item, requestId) {
  const base = { videoId: item.videoId, requestId };
  switch (action) {
    case 'watch':
      return [
        { ...base, type: 'view', watchMs: item.durationMs },
        { ...base, type: 'complete', watchMs: item.durationMs },
      ];
    case 'like':
      return [{ ...base, type: 'like' }];
    case 'share':
      return [{ ...base, type: 'share' }];
    case 'skip':
      return [{ ...base, type: 'skip', watchMs: Math.min(1500, item.durationMs) }];
    default:
      throw new Error(`unknown action ${action}`);
  }
}

async function postEvents(events) {
  const now = new Date().toISOString();
  const { data, ms } = await api('POST', '/v1/events', {
    events: events.map((e) => ({ eventId: uuid(), occurredAt: now, ...e })),
  });
  $('latency-events').textContent = `${ms.toFixed(1)} ms (${data.accepted} accepted)`;
  state.appliedTarget += data.accepted;
  return data;
}

async function act(card, item, requestId, action) {
  try {
    const button = card.querySelector(`button[data-action="${action}"]`);
    button.disabled = true;
    await postEvents(eventsFor(action, item, requestId));
    card.classList.add(`did-${action}`);
    button.classList.add('done');
    await refreshPanelUntilCaughtUp();
  } catch (err) {
    showError(err.message);
  }
}

// ---------- side panel ----------

function recordFeedLatency(ms) {
  state.feedLatencies.push(ms);
  if (state.feedLatencies.length > 30) state.feedLatencies.shift();
  const sorted = [...state.feedLatencies].sort((a, b) => a - b);
  const p50 = sorted[Math.floor((sorted.length - 1) / 2)];
  $('latency-last').textContent = `${ms.toFixed(1)} ms`;
  $('latency-summary').textContent = `${p50.toFixed(1)} / ${sorted[sorted.length - 1].toFixed(1)} ms over ${sorted.length}`;
  const spark = $('latency-spark');
  const max = Math.max(...state.feedLatencies, 1);
  const n = state.feedLatencies.length;
  const pts = state.feedLatencies.map((v, i) => `${n === 1 ? 0 : (i / (n - 1)) * 200},${34 - (v / max) * 32}`);
  if (n === 1) pts.push(`200,${34 - (state.feedLatencies[0] / max) * 32}`);
  spark.innerHTML = `<polyline points="${pts.join(' ')}" fill="none" stroke="currentColor" stroke-width="1.5" vector-effect="non-scaling-stroke"/>`;
}

/** Renders GET /v1/me/features: counts, decayed affinities, freshness. */
function renderFeatures(s) {
  $('features-version').textContent = `${s.eventsApplied} events applied`;
  const lag = s.freshness && s.freshness.lagMs;
  $('freshness').textContent = lag == null ? '–' : `${lag} ms`;
  const counts = $('counts');
  counts.replaceChildren();
  for (const type of COUNT_TYPES) {
    const cell = document.createElement('div');
    cell.className = 'count';
    cell.dataset.type = type;
    const n = document.createElement('b');
    n.textContent = String((s.counts && s.counts[type]) || 0);
    const label = document.createElement('span');
    label.textContent = `${type}s`;
    cell.append(n, label);
    counts.append(cell);
  }
  renderBars($('affinity'), Object.entries(s.categoryAffinity || {}).map(([k, v]) => [k, v]), 'no signal yet', (v) => v.toFixed(2));
  const creators = $('creators');
  creators.replaceChildren();
  const top = Object.entries(s.creatorAffinity || {}).sort((a, b) => b[1] - a[1]).slice(0, 6);
  if (top.length === 0) creators.innerHTML = '<span class="muted">–</span>';
  for (const [id, v] of top) {
    const chip = document.createElement('span');
    chip.className = `chip ${v < 0 ? 'neg' : ''}`;
    chip.textContent = `@${id} ${v.toFixed(1)}`;
    creators.append(chip);
  }
}

function renderBars(container, entries, emptyText, fmt) {
  container.replaceChildren();
  const sorted = entries.filter(([, v]) => Math.abs(v) > 1e-6).sort((a, b) => b[1] - a[1]).slice(0, 8);
  if (sorted.length === 0) {
    const span = document.createElement('span');
    span.className = 'muted';
    span.textContent = emptyText;
    container.append(span);
    return;
  }
  const max = Math.max(...sorted.map(([, v]) => Math.abs(v)));
  for (const [label, v] of sorted) {
    const row = document.createElement('div');
    row.className = 'bar-row';
    row.dataset.label = label;
    const name = document.createElement('span');
    name.className = 'bar-label';
    name.textContent = label;
    const track = document.createElement('span');
    track.className = 'bar-track';
    const bar = document.createElement('span');
    bar.className = `bar ${v < 0 ? 'neg' : ''}`;
    bar.style.width = `${Math.max(2, (Math.abs(v) / max) * 100)}%`;
    bar.style.setProperty('--hue', String(hueOf(label)));
    track.append(bar);
    const value = document.createElement('span');
    value.className = 'bar-value';
    value.textContent = fmt(v);
    row.append(name, track, value);
    container.append(row);
  }
}

function renderNeighbours(n) {
  if (!n.hasEmbedding) return;
  renderBars($('neighbour-categories'), n.categories.slice(0, 5).map((c) => [c.category, c.similarity]), '', (v) => v.toFixed(2));
  const list = $('neighbour-videos');
  list.replaceChildren();
  for (const v of n.videos) {
    const li = document.createElement('li');
    li.dataset.videoId = v.videoId;
    li.textContent = `${v.title} · ${v.category} · ${v.similarity.toFixed(2)}`;
    list.append(li);
  }
}

async function refreshStatus() {
  const { data } = await api('GET', '/v1/demo/status', undefined, { auth: false });
  const m = data.activeModel;
  $('model-version').textContent = m ? `${m.id}${m.activatedAt ? ` (since ${new Date(m.activatedAt).toLocaleTimeString()})` : ''}` : 'none: fallback ranking';
}

async function refreshPanel() {
  if (!state.token) return null;
  const [features, neighbours] = await Promise.all([
    api('GET', '/v1/me/features'),
    api('GET', '/v1/demo/me/neighbours?k=6'),
    refreshStatus(),
  ]);
  renderFeatures(features.data);
  renderNeighbours(neighbours.data);
  return features.data;
}

/** After posting events, polls until the worker has applied everything this page posted (up to ~10 s). */
async function refreshPanelUntilCaughtUp() {
  for (let i = 0; i < 50; i++) {
    const s = await refreshPanel();
    if (!s || s.eventsApplied >= state.appliedTarget) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

// ---------- wiring ----------

function selectedUser() {
  const opt = $('user-select').selectedOptions[0];
  return opt ? JSON.parse(opt.dataset.user) : null;
}

function guard(fn) {
  return (event) => {
    if (event) event.preventDefault();
    Promise.resolve()
      .then(fn)
      .catch((err) => showError(err.message));
  };
}

$('user-form').addEventListener('submit', guard(async () => {
  const user = selectedUser();
  if (user) await openFeedFor(user);
}));

$('create-user').addEventListener('click', guard(async () => {
  const displayName = $('new-user-name').value.trim();
  if (!displayName) throw new Error('Type a name for the new user first.');
  const { data } = await api('POST', '/v1/demo/users', { displayName }, { auth: false });
  $('new-user-name').value = '';
  await loadUsers(data.id);
  await openFeedFor(data);
}));

$('next-page').addEventListener('click', guard(loadNextPage));
$('restart').addEventListener('click', guard(restartSession));

guard(async () => {
  await Promise.all([loadUsers(), refreshStatus()]);
  setInterval(() => void (state.token ? refreshPanel() : refreshStatus()).catch(() => undefined), 5000);
})();
