// SalesPulse dashboard: sign-in, inbox with the live change feed, today,
// team board, funnel, deal view. Hash routes: #/inbox #/today #/team
// #/funnel #/deal?deal=D&customer=C.
import { api, enc, token, setToken, setUnauthorizedHandler, ApiError } from './api.js';
import { t, lang, setLang, pick } from './i18n.js';

const $ = (sel, root = document) => root.querySelector(sel);
const view = $('#view');
const state = { me: null, role: null, team: null, since: null, feedAbort: null, fresh: new Set(), timer: null, charts: [] };

function esc(s) { return String(s ?? '').replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c])); }
function h(html) { const d = document.createElement('div'); d.innerHTML = html.trim(); return d.firstElementChild; }
function toast(msg) { const el = $('#toast'); el.textContent = msg; el.style.display = 'block'; clearTimeout(el._t); el._t = setTimeout(() => { el.style.display = 'none'; }, 2500); }
function pct(x) { return x === null || x === undefined ? '—' : Math.round(x * 100) + '%'; }
function fmtTime(s) { if (!s) return '—'; const d = new Date(s); return isNaN(d) ? s : d.toLocaleString(lang === 'en' ? 'en-GB' : 'zh-CN', { hour12: false }); }
function status(s) { return `<span class="badge status" data-testid="status">${esc(t('s_' + s))}</span>`; }
function emptyState(msg) { return `<div class="empty" data-testid="empty">${esc(msg)}</div>`; }
function errText(e) {
  if (e instanceof ApiError) {
    const code = e.body && e.body.error && e.body.error.code;
    if (e.status === 404) return code === 'not_available' ? t('not_available') : code === 'not_scored' ? t('not_scored') : t('not_found');
    if (e.status === 403) return t('forbidden');
    if (e.status === 409) return (e.body && e.body.error) || t('failed');
  }
  return t('failed') + ': ' + e.message;
}
// SLA countdown text for a due time, refreshed every 30 s by tick().
function sla(due) {
  if (!due) return '';
  const ms = new Date(due) - Date.now(), a = Math.abs(ms), hh = Math.floor(a / 3600e3), mm = Math.floor(a % 3600e3 / 60e3);
  const d = hh >= 48 ? Math.floor(hh / 24) + (lang === 'en' ? 'd' : '天') : hh + 'h' + String(mm).padStart(2, '0') + 'm';
  return ms < 0 ? `<span class="overdue">${t('overdue')} ${d}</span>` : `${t('due_in')} ${d}`;
}
function disposeCharts() { state.charts.forEach(c => c.dispose()); state.charts = []; }
function chart(el) { if (!window.echarts) { el.outerHTML = emptyState('ECharts not loaded (run deploy/local/web-deps.sh)'); return null; } const c = window.echarts.init(el); state.charts.push(c); return c; }
window.addEventListener('resize', () => state.charts.forEach(c => c.resize()));

// ---- sign in / out ------------------------------------------------------
function signOut() {
  setToken(null);
  if (state.feedAbort) state.feedAbort.abort();
  state.feedAbort = null; state.me = state.role = state.team = state.since = null;
  location.hash = '';
  render();
}
setUnauthorizedHandler(() => { if (token()) { setToken(null); signOut(); } });

function signInView() {
  $('#top').hidden = true;
  view.innerHTML = `<form class="card signin" data-testid="signin">
    <h2>SalesPulse · ${t('signin')}</h2><p class="mute">${t('signin_hint')}</p>
    <input name="token" type="password" autocomplete="off" placeholder="${t('token')}" data-testid="token">
    <div class="row"><button class="primary" type="submit">${t('signin')}</button>
    <button type="button" id="lang2">${t('lang')}</button></div><p class="err" id="sierr"></p></form>`;
  $('#lang2').onclick = () => { setLang(lang === 'zh' ? 'en' : 'zh'); render(); };
  $('form', view).onsubmit = async ev => {
    ev.preventDefault();
    setToken($('input', view).value.trim());
    try { await whoami(); location.hash = '#/inbox'; render(); }
    catch (e) { setToken(null); $('#sierr').textContent = e.status === 401 ? t('bad_token') : errText(e); }
  };
}

// There is no /v1/me: the role shows in what the API allows (the funnel
// answers a supervisor's team or a director's region; a rep gets 403).
async function whoami() {
  const mine = await api('GET', '/v1/me/tasks?status=all&limit=1');
  if (mine.tasks.length) state.me = mine.tasks[0].assignee_id;
  try {
    const f = await api('GET', '/v1/funnel');
    state.team = f.team; state.role = f.team ? 'supervisor' : (f.region ? 'director' : 'admin');
  } catch (e) { if (e.status === 401) throw e; state.role = 'rep'; }
  sessionStorage.setItem('sp_who', JSON.stringify({ me: state.me, role: state.role, team: state.team }));
}

// ---- shell ---------------------------------------------------------------
const routes = { task: taskView, inbox: inboxView, today: todayView, team: teamView, funnel: funnelView, deal: dealView };
function nav(cur) {
  const items = ['inbox', 'today'].concat(state.role === 'rep' ? [] : ['team', 'funnel']).concat(['deal']);
  $('#nav').innerHTML = items.map(k => `<a href="#/${k}" data-testid="nav-${k}" class="${k === cur ? 'on' : ''}">${t(k)}</a>`).join('');
  $('#lang').textContent = t('lang');
  $('#signout').textContent = t('signout');
}
function params() { const q = location.hash.split('?')[1] || ''; return Object.fromEntries(new URLSearchParams(q)); }

async function render() {
  disposeCharts();
  if (!token()) return signInView();
  if (!state.role) {
    const w = JSON.parse(sessionStorage.getItem('sp_who') || 'null');
    if (w) Object.assign(state, w); else { try { await whoami(); } catch (_) { return signInView(); } }
  }
  $('#top').hidden = false;
  const name = (location.hash.match(/^#\/(\w+)/) || [])[1] || 'inbox';
  nav(name);
  document.body.dataset.view = name;
  await show(name, true);
  startFeed();
}
// Draws a view into a fresh element that replaces the previous one: a slow
// render that finishes after a newer one only writes into its detached root.
async function show(name, loading) {
  const root = document.createElement('div');
  if (loading) root.innerHTML = `<p class="mute">${t('loading')}</p>`;
  else root.style.minHeight = view.offsetHeight + 'px'; // keep the scroll position while redrawing
  view.replaceChildren(root);
  try { await (routes[name] || inboxView)(params(), root); } catch (e) { if (e.status !== 401) root.innerHTML = emptyState(errText(e)); }
  root.style.minHeight = '';
}
$('#lang').onclick = () => { setLang(lang === 'zh' ? 'en' : 'zh'); render(); };
$('#signout').onclick = signOut;
window.addEventListener('hashchange', render);

// ---- inbox -----------------------------------------------------------------
function taskCard(task, opts = {}) {
  const el = h(`<div class="card task ${state.fresh.has(task.key) ? 'new' : ''}" data-key="${esc(task.key)}" data-testid="task">
    <div class="row"><span class="badge L${task.level}">L${task.level}</span>
      <b>${esc(task.kind)}</b> ${status(task.status)}
      <span class="mute">${esc(task.subject_type)} ${esc(task.subject_id)}</span>
      ${opts.assignee ? `<span class="mute">${t('assignee')}: ${esc(task.assignee_id)}</span>` : ''}
      <span class="spacer"></span><span class="sla" data-due="${esc(task.due_at)}">${['open', 'acknowledged', 'in_progress'].includes(task.status) ? sla(task.due_at) : ''}</span></div>
    <p class="expl">${esc(pick(task, 'explanation'))}</p>
    <div class="detail"></div>
    <div class="row actions"></div><div class="form"></div></div>`);
  const acts = $('.actions', el), form = $('.form', el);
  const btn = (k, fn, cls = '') => { const b = h(`<button class="${cls}" data-testid="${k}">${t(k)}</button>`); b.onclick = fn; acts.appendChild(b); };
  const act = async (a, body) => {
    try { const r = await api('POST', `/v1/tasks/${enc(task.key)}/${a}`, body); toast(`${t('saved')}: ${t('s_' + r.status)}`); Object.assign(task, r); refreshCard(el, task, opts); }
    catch (e) { if (e.status !== 401) toast(errText(e)); }
    flushDeferred();
  };
  const active = ['open', 'acknowledged', 'in_progress'].includes(task.status);
  if (task.status === 'open') btn('ack', () => act('ack'), 'primary');
  if (task.status === 'open' || task.status === 'acknowledged') btn('start', () => act('start'));
  if (task.status === 'acknowledged' || task.status === 'in_progress') btn('complete', () => {
    form.innerHTML = `<div class="row"><select name="outcome" data-testid="outcome">${['advanced', 'no_change', 'won', 'lost'].map(o => `<option value="${o}">${t('o_' + o)}</option>`).join('')}</select>
      <input name="note" placeholder="${t('note')}" data-testid="note"><button class="primary" data-testid="submit">${t('submit')}</button></div>`;
    $('button', form).onclick = () => act('complete', { outcome: $('select', form).value, note: $('input', form).value || '-' });
  }, task.status === 'in_progress' ? 'primary' : '');
  if (active) btn('dismiss', () => {
    form.innerHTML = `<div class="row"><input name="reason" placeholder="${t('reason')}" data-testid="reason"><button data-testid="submit">${t('submit')}</button></div>`;
    $('button', form).onclick = () => { const r = $('input', form).value.trim(); if (r) act('dismiss', { reason: r }); };
  });
  if (opts.reassign && active) btn('reassign', () => {
    const reps = (opts.reps || []).map(r => `<option value="${esc(r.rep_id)}">${esc(r.name || r.rep_id)} (${esc(r.rep_id)})</option>`).join('');
    form.innerHTML = `<div class="row"><input name="to_id" list="reps-${esc(task.key)}" placeholder="${t('to_id')}" data-testid="to_id">
      <datalist id="reps-${esc(task.key)}">${reps}</datalist><button data-testid="submit">${t('submit')}</button></div>`;
    $('button', form).onclick = () => { const v = $('input', form).value.trim(); if (v) act('reassign', { to_id: v }); };
  });
  const more = h(`<button class="link2" data-testid="detail">${t('show_detail')}</button>`);
  more.onclick = () => toggleDetail(el, task, more);
  acts.appendChild(more);
  if (opts.open) toggleDetail(el, task, more);
  return el;
}
function refreshCard(el, task, opts) { const n = taskCard(task, Object.assign({}, opts, { open: !!$('.detail', el).innerHTML })); el.replaceWith(n); }

async function toggleDetail(el, task, b) {
  const box = $('.detail', el);
  if (box.innerHTML) { box.innerHTML = ''; b.textContent = t('show_detail'); return; }
  b.textContent = t('hide_detail');
  box.innerHTML = `<p class="mute">${t('loading')}</p>`;
  try {
    const d = await api('GET', `/v1/tasks/${enc(task.key)}`);
    const ev = d.evidence || {}, quotes = ev.quotes || [], ids = ev.interaction_ids || [], nums = ev.numbers || {};
    const pbs = Array.isArray(d.playbooks) ? d.playbooks : [];
    box.innerHTML = `
      ${quotes.length ? `<h3>${t('evidence')}</h3>` + quotes.map(q => `<blockquote data-testid="quote">${esc(typeof q === 'string' ? q : (q.text || q.quote || JSON.stringify(q)))}</blockquote>`).join('') : ''}
      ${Object.keys(nums).length ? `<p class="mute">${Object.entries(nums).map(([k, v]) => `${esc(k)}: <b>${esc(v)}</b>`).join(' · ')}</p>` : ''}
      ${ids.length ? `<h3>${t('interactions')}</h3><p class="mute">${ids.map(esc).join(', ')}</p>` : ''}
      ${pbs.length ? `<h3>${t('playbook')}</h3>${pbs.map(p => typeof p === 'string'
        ? `<details class="pb" data-testid="playbook" data-id="${esc(p)}"><summary>${esc(p)}</summary><div class="pb-body"></div></details>`
        : `<p>${esc(pick(p, 'title') || p.id || '')}</p>`).join('')}` : ''}
      ${pick(d, 'route_reason') ? `<h3>${t('route_reason')}</h3><p>${esc(pick(d, 'route_reason'))}</p>` : ''}
      ${d.deal_id ? `<p><a href="#/deal?deal=${enc(d.deal_id)}&customer=${enc(d.customer_id || '')}">${t('open_deal')} ${esc(d.deal_id)}</a></p>` : ''}
      <h3>${t('history')}</h3><ul class="mute">${(d.history || []).map(x => `<li>${fmtTime(x.at)} · ${esc(x.actor_id || '')} · ${esc(x.action)} ${esc(x.from_status || '')}→${esc(x.to_status || '')} ${esc(x.note || '')}</li>`).join('')}</ul>`;
    box.querySelectorAll('details.pb').forEach(el => el.addEventListener('toggle', () => {
      if (el.open && !el.dataset.loaded) { el.dataset.loaded = '1'; loadPlaybook(el, task.key); }
    }));
  } catch (e) { box.innerHTML = emptyState(errText(e)); }
}

// One line for an entry of a filled playbook slot (GET /v1/tasks/{key}/playbooks/{id}).
function pbEntry(e) {
  if (e.role) return `${esc(t(e.role))}: ${e.covered ? (e.contacts || []).map(c => esc(c.name + (c.title ? ' · ' + c.title : ''))).join('，') : `<b class="overdue">${esc(t('pb_uncovered'))}</b>`}`;
  if (e.event_id && e.channel) return `${fmtTime(e.at)} · ${esc(e.channel)} · ${esc(e.text || '')}${e.truncated ? '…' : ''}`;
  if (e.stage_path) return `${e.customer_name ? esc(e.customer_name) + ' · ' + esc(e.deal_name || e.deal_id) + ' · ' : ''}${esc(e.industry || '')} ${esc(e.product_line || '')} · ${e.stage_path.map(x => esc(t('st_' + x))).join(' → ')}${e.last_call ? `<br><span class="mute">${fmtTime(e.last_call.at)} · ${esc(e.last_call.text)}${e.last_call.truncated ? '…' : ''}</span>` : ''}`;
  if (e.title_zh) return esc(pick(e, 'title'));
  if (e.link) return `<a href="#/deal?customer=${enc(e.id)}">${esc(e.name || e.id)}</a> ${esc(e.industry || '')} ${esc(e.class || '')}`;
  const v = e.value === undefined ? (e.tag ? riskName(e.tag) : e.event_id || '') : (typeof e.value === 'object' ? Object.entries(e.value).map(([k, x]) => `${k}: ${x}`).join(', ') : e.value);
  return `${e.kind ? `<span class="mute">${esc(t('pb_' + e.kind))}</span> ` : ''}${esc(v)}${e.tag && e.value !== undefined ? ` <span class="mute">(${esc(riskName(e.tag))})</span>` : ''}`;
}

async function loadPlaybook(el, key) {
  const body = $('.pb-body', el);
  body.innerHTML = `<p class="mute">${t('loading')}</p>`;
  try {
    const pb = await api('GET', `/v1/tasks/${enc(key)}/playbooks/${enc(el.dataset.id)}`);
    $('summary', el).textContent = pick(pb, 'title') || pb.id;
    body.innerHTML = (pb.summary_zh ? `<p class="mute">${esc(pick(pb, 'summary'))}</p>` : '') + (pb.sections || []).map(s => `
      <div class="pb-section" data-testid="pb-section"${s.source ? ` data-source="${esc(s.source)}"` : ''}><h4>${esc(pick(s, 'title'))}</h4>
      ${s.items ? `<ul>${s.items.map(i => `<li>${esc(lang === 'en' ? i.en : i.zh)}</li>`).join('')}</ul>`
        : s.entries && s.entries.length ? `<ul>${s.entries.map(e => `<li data-testid="pb-entry">${pbEntry(e)}</li>`).join('')}</ul>`
        : `<p class="mute">${esc(t(s.unavailable ? 'pb_no_customer' : 'pb_nothing'))}</p>`}</div>`).join('');
  } catch (e) { body.innerHTML = emptyState(errText(e)); }
}

async function inboxView(p, root) {
  const r = await api('GET', '/v1/me/tasks?limit=100');
  root.innerHTML = `<div class="row"><h2>${t('inbox')}</h2><span class="mute" data-testid="live">● ${t('live')}</span></div><div id="list"></div>`;
  const list = $('#list', root);
  if (!r.tasks.length) { list.innerHTML = emptyState(t('no_tasks')); return; }
  let lvl = null;
  r.tasks.forEach((task, i) => {
    if (task.level !== lvl) { lvl = task.level; list.appendChild(h(`<h3>L${lvl}</h3>`)); }
    list.appendChild(taskCard(task, { open: i < 3 }));
  });
}

// One task by key (#/task?key=...): deep links from notifications.
async function taskView(p, root) {
  root.innerHTML = `<h2>${esc(p.key || '')}</h2><div id="one"></div>`;
  try { const d = await api('GET', `/v1/tasks/${enc(p.key || '')}`); $('#one', root).appendChild(taskCard(d, { open: true, assignee: true })); }
  catch (e) { if (e.status === 401) throw e; $('#one', root).innerHTML = emptyState(errText(e)); }
}

// ---- change feed: long-poll; any change re-renders the list views --------
async function startFeed() {
  if (state.feedAbort || !token()) return;
  const ctl = new AbortController(); state.feedAbort = ctl;
  try {
    if (state.since === null) { // catch up to now without showing history
      let since = 0;
      for (let i = 0; i < 500; i++) {
        const r = await api('GET', `/v1/tasks/changes?since=${since}&wait=0&limit=200`, undefined, { signal: ctl.signal });
        since = r.next_since; if (!r.tasks.length) break;
      }
      state.since = since;
    }
    while (!ctl.signal.aborted) {
      const r = await api('GET', `/v1/tasks/changes?since=${state.since}&wait=25&limit=200`, undefined, { signal: ctl.signal });
      state.since = r.next_since;
      if (r.tasks.length) {
        r.tasks.forEach(x => { if (x.status === 'open' && x.revision === undefined) state.fresh.add(x.key); });
        const name = document.body.dataset.view;
        if (name === 'inbox' || name === 'today' || name === 'team' || name === 'task') {
          toast(`${t('new_task')}: ${r.tasks.length}`);
          // never wipe a note or reason being typed: redraw once the form is done
          if (formOpen()) state.deferred = name;
          else await redraw(name);
        }
      }
    }
  } catch (e) {
    if (ctl.signal.aborted || e.status === 401) return;
    state.feedAbort = null; setTimeout(startFeed, 3000);
  }
}
/* An action form (complete / dismiss / reassign) is open in the view. */
function formOpen() { return !!document.querySelector('#view .form .row'); }
async function redraw(name) {
  const y = window.scrollY; disposeCharts();
  await show(name, false);
  window.scrollTo(0, y);
}
function flushDeferred() {
  const name = state.deferred;
  if (name && !formOpen() && document.body.dataset.view === name) { state.deferred = null; redraw(name); }
}
setInterval(() => document.querySelectorAll('.sla[data-due]').forEach(s => { if (s.innerHTML) s.innerHTML = sla(s.dataset.due); }), 30000);

// ---- today -------------------------------------------------------------------
async function todayView(p, root) {
  const r = await api('GET', '/v1/me/today');
  root.innerHTML = `<h2>${t('today')}</h2><div class="grid2"><div id="tl"></div><div><h3>${t('priority_customers')}</h3><div id="pc" class="scroll"></div></div></div>`;
  const tl = $('#tl', root);
  if (!(r.tasks || []).length) tl.innerHTML = emptyState(t('no_tasks'));
  (r.tasks || []).forEach(x => tl.appendChild(taskCard(x)));
  const pcs = r.priority_customers || [];
  $('#pc', root).innerHTML = pcs.length ? `<table data-testid="priority"><tr><th>${t('deal')}</th><th>${t('stage')}</th><th>${t('amount')}</th><th>${t('talking_point')}</th></tr>
    ${pcs.map(p => `<tr><td><a href="#/deal?deal=${enc(p.deal_id)}&customer=${enc(p.customer_id)}">${esc(p.deal_name || p.deal_id)}</a><div class="mute">${esc(p.customer_name || p.customer_id)}</div></td>
      <td>${esc(stageName(p.stage))}</td><td>${esc(Number(p.amount || 0).toLocaleString())}</td>
      <td>${esc(p.talking_point)}<div class="mute">${t('core_need')}: ${esc(p.core_need || '—')} · ${t('concern')}: ${esc(p.concern || '—')} · ${t('next_step')}: ${esc(p.next_step || '—')}</div></td></tr>`).join('')}</table>` : emptyState(t('empty'));
}

// ---- team board ------------------------------------------------------------
async function teamView(p, root) {
  const team = p.team || state.team || '';
  root.innerHTML = `<div class="row"><h2>${t('team')}</h2><form id="tf" class="row"><input name="team" value="${esc(team)}" placeholder="${t('team_id')}" data-testid="team-id"><button>${t('load')}</button></form></div><div id="tb"></div>`;
  $('#tf', root).onsubmit = ev => { ev.preventDefault(); location.hash = '#/team?team=' + enc($('input', ev.target).value.trim()); };
  if (!team) { $('#tb', root).innerHTML = emptyState(t('empty')); return; }
  const tb = $('#tb', root);
  let board;
  try { board = await api('GET', `/v1/teams/${enc(team)}/board`); } catch (e) { if (e.status === 401) throw e; tb.innerHTML = emptyState(errText(e)); return; }
  const reps = board.reps || [];
  const bar = x => `<div class="row"><div class="bar" style="flex:1"><i style="width:${x === null || x === undefined ? 0 : Math.round(x * 100)}%"></i></div><span>${pct(x)}</span></div>`;
  tb.innerHTML = `<div class="grid2"><div class="card scroll"><h3>${t('completion')} / ${t('quality')} <span class="mute">(${board.window_days}d)</span></h3>
    ${reps.length ? `<table data-testid="reps"><tr><th>${t('rep')}</th><th>${t('open_deals')}</th><th>${t('completion')}</th><th>${t('quality')}</th></tr>
    ${reps.map(r => `<tr><td>${esc(r.name || r.rep_id)}<div class="mute">${esc(r.rep_id)}</div></td><td>${r.open_deals} <span class="mute">(${r.deals_with_action})</span></td><td>${bar(r.action_completion_rate)}</td><td>${bar(r.quality_pass_rate)}<span class="mute">${r.activities_passed}/${r.activities_assessed}</span></td></tr>`).join('')}</table>` : emptyState(t('empty'))}</div>
    <div class="card"><h3>${t('heatmap')}</h3><div class="chart" id="heat" data-testid="heatmap"></div></div></div>
    <h3>${t('team_tasks')}</h3><div id="tt"></div>`;
  const hm = board.bottleneck_heatmap || { buckets_days: [], stages: [] };
  const c = chart($('#heat', root));
  if (c) {
    const data = []; let max = 1;
    hm.stages.forEach((s, y) => s.counts.forEach((n, x) => { data.push([x, y, n]); max = Math.max(max, n); }));
    c.setOption({ tooltip: { position: 'top' }, grid: { left: 90, right: 40, top: 10, bottom: 70 },
      xAxis: { type: 'category', data: hm.buckets_days, name: lang === 'en' ? 'days' : '天', splitArea: { show: true } },
      yAxis: { type: 'category', data: hm.stages.map(s => stageName(s.stage)), splitArea: { show: true } },
      visualMap: { min: 0, max, calculable: true, orient: 'horizontal', left: 'center', bottom: 0, inRange: { color: ['#f0f9ff', '#fde68a', '#dc2626'] } },
      series: [{ type: 'heatmap', data, label: { show: true }, animation: false }] });
  }
  const tt = $('#tt', root);
  try {
    const r = await api('GET', `/v1/teams/${enc(team)}/tasks?limit=50`);
    if (!r.tasks.length) tt.innerHTML = emptyState(t('no_tasks'));
    r.tasks.forEach(x => tt.appendChild(taskCard(x, { assignee: true, reassign: true, reps })));
  } catch (e) { if (e.status === 401) throw e; tt.innerHTML = emptyState(errText(e)); }
}

// ---- funnel ------------------------------------------------------------------
async function funnelView(p, root) {
  const q = p.team ? 'team=' + enc(p.team) : p.region ? 'region=' + enc(p.region) : '';
  const f = await api('GET', '/v1/funnel' + (q ? '?' + q : ''));
  const months = f.months || [];
  root.innerHTML = `<h2>${t('funnel')} <span class="mute">${esc(f.team || f.region || '')}</span></h2>
    <div class="card"><h3>${t('conversion')}</h3><div class="chart" id="conv" data-testid="funnel-chart"></div><p class="mute">--- ${t('baseline')}</p></div>
    <div class="card scroll"><h3>${t('entered')}</h3><div id="ft"></div></div>`;
  if (!months.length) { $('#conv', root).outerHTML = emptyState(t('empty')); $('#ft', root).innerHTML = ''; return; }
  const pairs = Object.keys(months[0].conversion || {}), stages = Object.keys(months[0].entered || {});
  const c = chart($('#conv', root));
  if (c) {
    c.setOption({ tooltip: { trigger: 'axis', valueFormatter: v => pct(v) }, legend: { type: 'scroll', top: 0 },
      grid: { left: 40, right: 20, top: 40, bottom: 30 }, xAxis: { type: 'category', data: months.map(m => m.month) },
      yAxis: { type: 'value', min: 0, max: 1, axisLabel: { formatter: v => Math.round(v * 100) + '%' } },
      series: pairs.map(k => ({ name: k.split('_to_').map(stageName).join(' → '), type: 'line', connectNulls: false, data: months.map(m => m.conversion[k]),
        markLine: { silent: true, symbol: 'none', lineStyle: { type: 'dashed' }, label: { show: false }, data: [{ type: 'average', name: t('baseline') }] } })) });
  }
  $('#ft', root).innerHTML = `<table data-testid="funnel-table"><tr><th>${t('month')}</th>${stages.map(s => `<th>${esc(stageName(s))}</th>`).join('')}</tr>
    ${months.map(m => `<tr><td>${esc(m.month)}</td>${stages.map(s => `<td>${m.entered[s] ?? 0}</td>`).join('')}</tr>`).join('')}</table>`;
}

// ---- deal view -------------------------------------------------------------
// key's UI name under prefix ('st_', 'risk_'); a key without one as it is
const named = (prefix, k) => (t(prefix + k) === prefix + k ? k : t(prefix + k));
const stageName = s => named('st_', s);
const riskName = r => named('risk_', r);
// A fact with its credibility level and source; a list shows its distinct
// values (newest first, as the API orders them), the rest folded away.
function fact(f) {
  if (!f) return '—';
  if (Array.isArray(f)) {
    if (!f.length) return '—';
    const seen = new Set(), first = f.filter(x => { const v = JSON.stringify(x.value ?? x.text ?? ''); if (seen.has(v)) return false; seen.add(v); return true; });
    const rest = f.length - first.length;
    return first.map(fact).join('<br>') + (rest ? `<div class="mute">+${rest} ${t('more')}</div>` : '');
  }
  const v = f.value ?? f.text ?? '';
  if (v === '' || v === null) return '—';
  return `<b>${esc(typeof v === 'object' ? JSON.stringify(v) : v)}</b>${f.tag ? ` <span class="mute">[${esc(f.tag)}]</span>` : ''}
    <span class="mute" data-testid="credibility">${t('credibility')} ${esc(f.level ?? '—')} · ${t('source')} ${esc(f.source || '—')}${f.source_channel ? ' / ' + esc(f.source_channel) : ''}${f.occurred_at || f.at ? ' · ' + fmtTime(f.occurred_at || f.at) : ''}</span>
    ${f.quote ? `<blockquote>${esc(f.quote)}</blockquote>` : ''}`;
}
async function dealView(p, root) {
  root.innerHTML = `<div class="row"><h2>${t('deal')}</h2><form id="df" class="row"><input name="deal" value="${esc(p.deal || '')}" placeholder="${t('deal_id')}" data-testid="deal-id">
    <input name="customer" value="${esc(p.customer || '')}" placeholder="${t('customer_id')}" data-testid="customer-id"><button>${t('load')}</button></form></div>
    <div class="grid2"><div class="card" id="hl"></div><div class="card" id="cc"></div></div>`;
  $('#df', root).onsubmit = ev => { ev.preventDefault(); const fd = new FormData(ev.target); location.hash = `#/deal?deal=${enc(fd.get('deal').trim())}&customer=${enc(fd.get('customer').trim())}`; };
  const hl = $('#hl', root), cc = $('#cc', root);
  hl.innerHTML = `<h3>${t('health')}</h3>`; cc.innerHTML = `<h3>${t('customer_card')}</h3>`;
  if (!p.deal) hl.insertAdjacentHTML('beforeend', emptyState(t('deal_id')));
  else try {
    const hd = await api('GET', `/v1/deals/${enc(p.deal)}/health`);
    const dims = Array.isArray(hd.dims) ? hd.dims : (hd.dims && hd.dims.dimensions) || [];
    const colour = hd.colour || (hd.dims && hd.dims.colour) || '';
    hl.insertAdjacentHTML('beforeend', `<p>${colour ? `<span class="dot ${esc(colour)}"></span>` : ''}${t('score')} <b data-testid="health-score">${esc(hd.score)}</b> <span class="mute">${t('updated')} ${fmtTime(hd.updated_at)}</span></p>
      <table data-testid="dims"><tr><th>${t('dimension')}</th><th>${t('score')}</th><th>${t('reason')}</th></tr>
      ${dims.map(d => `<tr><td><span class="dot ${esc(d.colour)}"></span>${esc(t('d_' + d.name) === 'd_' + d.name ? d.name : t('d_' + d.name))}</td><td>${esc(d.score)}</td><td>${esc(pick(d, 'reason'))}</td></tr>`).join('')}</table>`);
  } catch (e) { if (e.status === 401) throw e; hl.insertAdjacentHTML('beforeend', emptyState(errText(e))); }
  if (!p.customer) { cc.insertAdjacentHTML('beforeend', emptyState(t('customer_id'))); return; }
  try {
    const c = await api('GET', `/v1/customers/${enc(p.customer)}/card`);
    const g = c.golden_triangle || {}, cu = c.customer || {};
    const chain = c.decision_chain || {};
    const groups = Array.isArray(chain) ? { contacts: chain } : chain;
    cc.insertAdjacentHTML('beforeend', `<p><b>${esc(cu.name || p.customer)}</b> <span class="mute">${esc(cu.id || '')} ${esc(cu.industry || '')}</span></p>
      <h3>${t('golden')}</h3><table data-testid="golden"><tr><th>${t('stage')}</th><td>${esc(g.stage ? stageName(g.stage) : '—')} ${g.deal ? `<span class="mute">${esc(g.deal.name || g.deal.id || '')} ${esc(g.deal.amount ?? '')}</span>` : ''}</td></tr>
      <tr><th>${t('core_need')}</th><td>${fact(g.core_need)}</td></tr><tr><th>${t('concern')}</th><td>${fact(g.concern)}</td></tr></table>
      <table><tr><th>${t('products')}</th><td>${fact(c.products)}</td></tr><tr><th>${t('competitors')}</th><td>${fact(c.competitors)}</td></tr>
      <tr><th>${t('budget')}</th><td>${fact(c.budget)}</td></tr><tr><th>${t('delivery_by')}</th><td>${fact(c.delivery_by)}</td></tr></table>
      ${(c.conflicts || []).length ? `<h3>${t('conflicts')}</h3>${fact(c.conflicts)}` : ''}
      <h3>${t('decision_chain')}</h3><table data-testid="chain">${Object.entries(groups).map(([role, people]) => `<tr><th>${esc(t(role))}</th><td>${(people || []).map(x => `${esc(x.name || x.id)} <span class="mute">${esc(x.title || '')} · ${t('last_contact')} ${fmtTime(x.last_contact_at)}</span>`).join('<br>') || '—'}</td></tr>`).join('')}</table>`);
  } catch (e) { if (e.status === 401) throw e; cc.insertAdjacentHTML('beforeend', emptyState(errText(e))); }
}

setLang(lang);
render();
