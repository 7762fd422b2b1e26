'use strict';
// azemu's Resource Explorer. Data comes from /_dashboard/api, ARM JSON from
// the ARM API itself, and changes from the live feed (server-sent events),
// which the page applies in place: no reloads, no polling.
(() => {
const $ = s => document.querySelector(s);
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = v;
    else if (v != null && v !== false) e.setAttribute(k, v);
  }
  for (const k of kids.flat()) if (k != null && k !== false) e.append(k);
  return e;
}
function svg(tag, attrs, ...kids) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const k of kids) e.append(k);
  return e;
}

// The open mode takes any token. The strict mode takes a token azemu issued
// (?token= once, kept for the tab), or a sign-in with a principal: then the
// session cookie (HttpOnly, SameSite=Strict) carries the dashboard's calls,
// its CSRF token goes with every action, and a token minted for the
// principal carries the ARM calls, which take no cookies.
const given = new URLSearchParams(location.search).get('token');
if (given) sessionStorage.setItem('azemu.token', given);
const token = sessionStorage.getItem('azemu.token') || 'dashboard';
const headers = { Authorization: 'Bearer ' + token };
const armHeaders = { ...headers };
let csrf = '';

function useSession(s) {
  csrf = s.csrf || '';
  if (s.token) armHeaders.Authorization = 'Bearer ' + s.token;
  delete headers.Authorization; // the cookie speaks for the page
  $('#signout').hidden = false;
}
// signIn resolves once the page may load: at once in the open mode or with
// a given token; after a sign-in otherwise.
async function signIn() {
  if (given || sessionStorage.getItem('azemu.token')) return;
  const r = await fetch('/_dashboard/api/session');
  const s = await r.json().catch(() => ({}));
  if (r.ok) { if (s.mode === 'strict') useSession(s); return; }
  const dlg = $('#signin');
  dlg.showModal();
  await new Promise(done => {
    $('#signin-form').onsubmit = async e => {
      e.preventDefault();
      const r = await fetch('/_dashboard/api/session', { method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ clientId: $('#signin-id').value, clientSecret: $('#signin-secret').value }) });
      const s = await r.json().catch(() => ({}));
      if (!r.ok) { $('#signin-error').textContent = (s.error && s.error.message) || r.statusText; return; }
      $('#signin-secret').value = '';
      dlg.close(); useSession(s); done();
    };
  });
}
$('#signout').onclick = async () => {
  await fetch('/_dashboard/api/session', { method: 'DELETE', headers: { 'X-CSRF-Token': csrf } });
  location.reload();
};

async function get(url) {
  const r = await fetch(url, { headers });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error((body.error && body.error.message) || r.status + ' ' + r.statusText);
  return body;
}
const api = (p, q) => get('/_dashboard/api/' + p + (q ? '?' + new URLSearchParams(q) : ''));

const S = {
  clock: null, clockAt: 0,
  filter: { power: '', billedStopped: false, sub: '', rg: '', scaleSet: '', q: '' },
  offset: 0, limit: 100, total: 0, counts: null,
  rows: new Map(),   // key -> row: the page on show
  known: new Set(),  // VM keys seen: a new one changes the tree's counts
  leaves: new Map(), // key -> tree label
  open: null,        // tree nodes expanded
  sel: null,         // {kind, node, ...}: what the detail panel shows
  vm: null,          // the selected VM's detail
  window: 'life',
  ops: [],           // this page's actions, newest first
};

// The emulator's time: a real clock runs on between messages; a manual one moves only when advanced.
function now() {
  if (!S.clock) return Date.now();
  const t = Date.parse(S.clock.now);
  return S.clock.mode === 'real' ? t + (performance.now() - S.clockAt) : t;
}
function setClock(c) {
  if (S.clock && S.clock.mode === c.mode && Date.parse(c.now) < Date.parse(S.clock.now)) return;
  S.clock = c; S.clockAt = performance.now();
}

const money = (x, ccy) => (!ccy || ccy === 'USD' ? '$' : ccy + ' ') + (Math.abs(x) < 10 ? x.toFixed(4) : x.toFixed(2));
const fmtTime = t => new Date(t).toISOString().slice(0, 19).replace('T', ' ') + ' UTC';
function dur(s) {
  s = Math.round(s);
  if (s < 60) return s + 's';
  if (s < 3600) return Math.floor(s / 60) + 'm ' + s % 60 + 's';
  if (s < 86400) return Math.floor(s / 3600) + 'h ' + Math.floor(s % 3600 / 60) + 'm';
  return Math.floor(s / 86400) + 'd ' + Math.floor(s % 86400 / 3600) + 'h';
}
const power = p => p || 'none';
const pill = p => el('span', { class: 'pill p-' + power(p) }, power(p));
const unpriced = on => on ? el('span', { class: 'unpriced', title: 'No row of the price sheet prices part of this: the figure leaves it out (unpriced, not free).' }, ' +unpriced') : '';
// At most one call per ms: bursts of changes cost one request.
function later(fn, ms) {
  let t = 0;
  return () => { if (!t) t = setTimeout(() => { t = 0; fn(); }, ms); };
}

// Fleet table.
const POWERS = ['running', 'starting', 'stopping', 'stopped', 'deallocating', 'deallocated', 'none'];
function fillRow(tr, r) {
  tr.dataset.power = power(r.powerState);
  tr.replaceChildren(
    el('td', {}, el('b', {}, r.name), r.operation ? el('span', { class: 'op' }, r.operation.kind + ' ' + r.operation.step + '/' + r.operation.steps) : ''),
    el('td', {}, r.resourceGroup), el('td', {}, r.size), el('td', {}, r.location),
    el('td', { class: 'prov-' + r.provisioningState, title: r.provisioningCode }, r.provisioningState),
    el('td', { class: 'power' }, pill(r.powerState)),
    el('td', { class: r.billed ? 'billed' : 'unbilled' }, r.billed ? 'billed' : 'not billed'),
    el('td', { class: 'num cost' }), el('td', { class: 'num rate' }));
  tr.classList.toggle('sel', !!S.sel && S.sel.key === r.key);
  fillCost(tr, r);
}
function fillCost(tr, r) {
  tr.querySelector('.cost').replaceChildren(money(r.cost, r.currency), unpriced(r.costUnpriced));
  tr.querySelector('.rate').replaceChildren(money(r.perHour, r.currency), unpriced(r.perHourUnpriced));
  tr.querySelector('.rate').title = 'compute ' + money(r.computePerHour, r.currency) + ' + disks ' + money(r.disksPerHour, r.currency) + ' + public IPs ' + money(r.publicIPsPerHour, r.currency);
}

let pageSeq = 0;
async function loadPage() {
  const seq = ++pageSeq, f = S.filter, q = { offset: S.offset, limit: S.limit };
  if (f.power) q.power = f.power;
  if (f.billedStopped) q.billedStopped = 1;
  if (f.sub) q.subscription = f.sub;
  if (f.rg) q.resourceGroup = f.rg;
  if (f.scaleSet) q.scaleSet = f.scaleSet;
  if (f.q) q.q = f.q;
  const d = await api('vms', q);
  if (seq !== pageSeq) return; // a newer request is on its way
  setClock(d.clock);
  S.total = d.total; S.counts = d.counts;
  S.rows = new Map(d.rows.map(r => [r.key, r]));
  for (const k of S.rows.keys()) S.known.add(k);
  const rows = d.rows.map(r => { const tr = el('tr', { 'data-key': r.key, onclick: () => selectVM(r) }); fillRow(tr, r); return tr; });
  if (!rows.length) rows.push(el('tr', {}, el('td', { colspan: 9, class: 'muted' }, d.counts.all || filtered() ? 'No virtual machines match.' :
    'No virtual machines yet. Create one with the ARM API (PUT .../virtualMachines/NAME), an Azure SDK or az vm create: see the README.')));
  $('#fleet tbody').replaceChildren(...rows);
  if (S.offset > 0 && S.offset >= S.total) { S.offset = 0; return loadPage(); }
  renderCounts();
}
const refreshPage = later(loadPage, 700);

function renderCounts() {
  const c = S.counts, f = S.filter;
  const chip = (p, label) => el('button', { class: f.power === p ? 'on' : '', 'data-power': p, onclick: () => setFilter({ power: f.power === p ? '' : p }) }, label);
  $('#powers').replaceChildren(chip('', 'all ' + c.all), ...POWERS.filter(p => c.byPower[p] || f.power === p).map(p => chip(p, p + ' ' + (c.byPower[p] || 0))));
  $('#billed-stopped-n').textContent = c.billedStopped;
  $('#summary').replaceChildren(
    el('span', {}, el('b', {}, c.all), ' VMs'), el('span', {}, el('b', {}, c.billed), ' billed'),
    el('span', {}, el('b', {}, c.billedStopped), ' billed but stopped'),
    el('span', {}, el('b', {}, money(c.perHour, c.currency)), unpriced(c.perHourUnpriced), ' per hour now'));
  $('#page').textContent = S.total ? (S.offset + 1) + '–' + Math.min(S.offset + S.limit, S.total) + ' of ' + S.total : '';
  $('#prev').disabled = S.offset === 0;
  $('#next').disabled = S.offset + S.limit >= S.total;
}
function filtered() { const f = S.filter; return !!(f.power || f.billedStopped || f.sub || f.rg || f.scaleSet || f.q); }
function setFilter(patch) { Object.assign(S.filter, patch); S.offset = 0; loadPage(); }

// Tree: subscriptions, groups, VMs and scale sets with their instances.
function node(key, label, onSelect, children) {
  const ul = el('ul'), tw = el('span', { class: 'tw' });
  const lab = el('span', { 'data-node': key, class: S.sel && S.sel.node === key ? 'sel' : '', onclick: onSelect }, ...label);
  const show = async () => { tw.textContent = '▾'; ul.replaceChildren(...await children()); };
  if (children) {
    tw.textContent = '▸';
    tw.onclick = () => {
      if (!S.open.has(key)) { S.open.add(key); show(); return; }
      S.open.delete(key); tw.textContent = '▸'; ul.replaceChildren();
    };
    if (S.open.has(key)) show();
  }
  return el('li', {}, tw, lab, ul);
}
async function vmLeaves(q) {
  const d = await api('vms', Object.assign({ limit: 500 }, q));
  const out = d.rows.map(r => {
    const li = node('vm:' + r.key, [el('i', { class: 'dot p-' + power(r.powerState) }), r.name], () => selectVM(r));
    S.leaves.set(r.key, li.children[1]); S.known.add(r.key);
    return li;
  });
  if (d.total > d.rows.length) out.push(el('li', { class: 'muted' }, '… ' + (d.total - d.rows.length) + ' more: see the table'));
  return out;
}
async function loadTree() {
  const d = await api('tree');
  setClock(d.clock);
  const first = !S.open;
  if (first) S.open = new Set();
  S.leaves = new Map();
  const groups = d.subscriptions.flatMap(s => s.groups.map(g => ({ s, g })));
  const sel = $('#group'), cur = sel.value;
  sel.replaceChildren(el('option', { value: '' }, 'all resource groups'), ...groups.map(({ s, g }) => el('option', { value: s.id + '|' + g.name }, g.name + (d.subscriptions.length > 1 ? ' (' + s.id.slice(0, 8) + ')' : ''))));
  sel.value = cur;
  $('#tree').replaceChildren(...d.subscriptions.map(s => {
    if (first) S.open.add('sub:' + s.id);
    return node('sub:' + s.id, [el('span', { title: s.id }, 'Subscription ' + s.id)], () => select({ kind: 'sub', node: 'sub:' + s.id, sub: s.id }, { sub: s.id, rg: '', scaleSet: '' }), async () => s.groups.map(g => {
      const key = 'rg:' + s.id + '/' + g.name.toLowerCase();
      if (first && groups.length <= 6 && g.vms <= 20) S.open.add(key);
      // VMs of the group's own, and the instances or members of its scale sets.
      const vms = g.scaleSets.reduce((n, ss) => n + ss.instances, g.vms);
      return node(key, [g.name, el('span', { class: 'kind' }, ' ' + g.location + ' · ' + vms + (vms === 1 ? ' VM' : ' VMs') +
        (g.scaleSets.length ? ' (' + g.scaleSets.length + (g.scaleSets.length === 1 ? ' scale set)' : ' scale sets)') : ''))],
        () => select({ kind: 'group', node: key, sub: s.id, rg: g.name }, { sub: s.id, rg: g.name, scaleSet: '' }),
        async () => [...await vmLeaves({ subscription: s.id, resourceGroup: g.name, scaleSet: 'none' }),
          ...g.scaleSets.map(ss => node('ss:' + ss.id.toLowerCase(), [ss.name, el('span', { class: 'kind' }, ' scale set · ' + ss.instances)],
            () => select({ kind: 'scaleSet', node: 'ss:' + ss.id.toLowerCase(), id: ss.id, name: ss.name }, { sub: '', rg: '', scaleSet: ss.id }),
            () => vmLeaves({ scaleSet: ss.id })))]);
    }));
  }));
}
const refreshTree = later(loadTree, 1500);

function select(sel, filter) {
  S.sel = sel; S.vm = null;
  document.querySelectorAll('.tree .sel, #fleet tr.sel').forEach(e => e.classList.remove('sel'));
  const n = document.querySelector('[data-node="' + CSS.escape(sel.node) + '"]');
  if (n) n.classList.add('sel');
  if (filter) { $('#group').value = filter.rg ? filter.sub + '|' + filter.rg : ''; setFilter(filter); }
  renderDetail();
}
function selectVM(r) {
  select({ kind: 'vm', node: 'vm:' + r.key, key: r.key, id: r.id, name: r.name, sub: r.subscriptionId });
  const tr = document.querySelector('#fleet tr[data-key="' + CSS.escape(r.key) + '"]');
  if (tr) tr.classList.add('sel');
}

// Detail panel.
const ARM_VERSION = '2025-04-01';
async function armJSON(path, target) {
  try {
    let r = await fetch(path + (path.includes('?') ? '&' : '?') + 'api-version=' + ARM_VERSION, { headers: armHeaders });
    if (r.status === 401 && csrf) { // the minted token expired (a manual clock moved past it): mint another
      const s = await fetch('/_dashboard/api/session').then(x => x.ok ? x.json() : null).catch(() => null);
      if (s) { useSession(s); r = await fetch(path + (path.includes('?') ? '&' : '?') + 'api-version=' + ARM_VERSION, { headers: armHeaders }); }
    }
    const text = await r.text();
    try { target.textContent = JSON.stringify(JSON.parse(text), null, 2); } catch { target.textContent = text; }
  } catch (e) { target.textContent = String(e); }
}
function renderDetail() {
  const s = S.sel, box = $('#detail');
  box.hidden = false;
  if (s.kind === 'vm') {
    box.replaceChildren(el('div', { id: 'vm-head', class: 'head' }, el('h2', {}, s.name)),
      el('div', { class: 'actions' }, ...ACTIONS.map(([a, label]) => el('button', { 'data-action': a, class: a === 'delete' ? 'danger' : '', onclick: () => confirmAction(a) }, label))),
      el('ul', { id: 'ops', class: 'ops' }),
      el('div', { class: 'charts' },
        el('div', { class: 'chart' }, el('h3', {}, 'Timeline ', el('span', { class: 'windows' }, ...['life', '1h', '24h', '7d', '30d'].map(w =>
          el('button', { class: S.window === w ? 'on' : '', onclick: () => { S.window = w; renderDetail(); } }, w)))), el('div', { id: 'timeline' })),
        el('div', { class: 'chart' }, el('h3', {}, 'Subscription cost per day'), el('div', { id: 'daily' }))),
      el('div', { class: 'nics' }, el('h3', {}, 'Network interfaces'), el('div', { id: 'vm-nics' })),
      el('div', { class: 'cols' },
        el('div', {}, el('h3', {}, 'History'), el('div', { class: 'hist' }, el('table', {}, el('thead', {}, el('tr', {}, ...['time (UTC)', 'provisioning', 'power', 'operation'].map(h => el('th', {}, h)))), el('tbody', { id: 'vm-hist' })))),
        el('div', {}, el('h3', {}, 'ARM JSON (GET with $expand=instanceView)'), el('pre', { id: 'vm-json', class: 'json' }, '…'))));
    renderOps();
    loadVM();
    drawDaily(s.sub, $('#daily'));
  } else if (s.kind === 'sub') {
    box.replaceChildren(el('div', { class: 'head' }, el('h2', {}, 'Subscription ' + s.sub)), el('h3', {}, 'Cost per day'), el('div', { id: 'daily', class: 'chart' }));
    drawDaily(s.sub, $('#daily'));
  } else if (s.kind === 'group') {
    const pre = el('pre', { class: 'json' }, '…');
    box.replaceChildren(el('div', { class: 'head' }, el('h2', {}, 'Resource group ' + s.rg)), el('h3', {}, 'ARM JSON'), pre);
    armJSON('/subscriptions/' + s.sub + '/resourcegroups/' + encodeURIComponent(s.rg), pre);
  } else {
    const pre = el('pre', { class: 'json' }, '…');
    box.replaceChildren(el('div', { class: 'head' }, el('h2', {}, 'Scale set ' + s.name)),
      el('p', { class: 'muted' }, 'Its instances are listed in the table.'), el('h3', {}, 'ARM JSON'), pre);
    armJSON(s.id, pre);
  }
}

let vmSeq = 0;
async function loadVM() {
  const s = S.sel, seq = ++vmSeq;
  let d;
  try { d = await api('vm', { id: s.id, window: S.window }); } catch (e) { $('#vm-head').replaceChildren(el('h2', {}, s.name), el('span', { class: 'unpriced' }, e.message)); return; }
  if (seq !== vmSeq || S.sel !== s) return;
  setClock(d.clock);
  S.vm = d;
  drawHead();
  drawNICs();
  drawTimeline();
  $('#vm-hist').replaceChildren(...d.history.slice().reverse().map(e => el('tr', {},
    el('td', {}, fmtTime(Date.parse(e.time)).slice(5, 19)), el('td', { class: 'code prov-' + e.provisioningState }, (e.code || e.provisioningState).replace('ProvisioningState/', '')),
    el('td', {}, e.powerState ? pill(e.powerState) : ''), el('td', { class: 'muted' }, e.operation || ''))));
  if (d.vm) armJSON(d.vm.id + '?$expand=instanceView', $('#vm-json'));
  else $('#vm-json').textContent = 'The VM is deleted: GET answers 404 ResourceNotFound.';
}
const refreshVM = later(() => S.sel && S.sel.kind === 'vm' && loadVM(), 300);

function drawHead() {
  const v = S.vm.vm, head = $('#vm-head');
  if (!v) { head.replaceChildren(el('h2', {}, S.sel.name), el('span', { class: 'muted' }, 'deleted')); return; }
  head.replaceChildren(el('h2', {}, v.name), el('span', { class: 'prov-' + v.provisioningState, title: v.provisioningCode }, v.provisioningState), pill(v.powerState),
    el('span', { class: v.billed ? 'billed' : 'unbilled' }, v.billed ? 'compute billed' : 'compute not billed'),
    el('span', { class: 'muted' }, v.size + ' · ' + v.location + ' · ' + (v.osType || '') + ' · ' + S.vm.disks.length + ' disk(s) · ' + (S.vm.publicIPs || []).length + ' public IP(s)'),
    el('span', { class: 'cost' }, 'cost so far ', el('b', {}, money(v.cost, v.currency)), unpriced(v.costUnpriced),
      ' · now ', el('b', {}, money(v.perHour, v.currency) + '/h'), unpriced(v.perHourUnpriced),
      el('span', { class: 'muted' }, ' (compute ' + money(v.computePerHour, v.currency) + ' + disks ' + money(v.disksPerHour, v.currency) +
        ' + public IPs ' + money(v.publicIPsPerHour, v.currency) + ')')));
}

// The VM's interfaces: a row per IP configuration, its private address and
// subnet, and the public IP it holds with what that has cost and costs now
// (a public IP bills whatever the VM's power state).
function drawNICs() {
  const nics = S.vm.nics || [], box = $('#vm-nics'), ccy = S.vm.vm ? S.vm.vm.currency : '';
  if (!nics.length) { box.replaceChildren(el('p', { class: 'muted' }, 'No network interface azemu serves.')); return; }
  const rows = [];
  for (const n of nics) for (const c of n.ipConfigurations) {
    const p = c.publicIPAddress;
    rows.push(el('tr', { 'data-nic': n.name, 'data-config': c.name },
      el('td', {}, n.name, n.primary ? el('span', { class: 'muted' }, ' primary') : ''),
      el('td', { class: 'private-ip' }, c.privateIPAddress), el('td', { class: 'muted' }, c.subnet + ' · ' + c.privateIPAllocationMethod),
      el('td', { class: 'public-ip' }, p ? (p.ipAddress || 'none (released)') : '—'),
      el('td', { class: 'muted' }, p ? p.name + ' · ' + p.sku + ' ' + p.allocationMethod : ''),
      el('td', { class: 'ip-cost' }, p ? [money(p.cost, ccy) + ' so far · ' + money(p.perHour, ccy) + '/h', unpriced(p.unpriced)] : '')));
  }
  box.replaceChildren(el('table', {}, el('thead', {}, el('tr', {}, ...['interface', 'private IP', 'subnet', 'public IP', '', 'public IP cost'].map(h => el('th', {}, h)))),
    el('tbody', {}, ...rows)));
}

// The timeline: the VM's states over the window, billed or not, and the compute they cost.
const BILLED = '#e8590c', UNBILLED = '#adb5bd', DISK = '#4263eb', NET = '#2f9e44';
const WINDOW_MS = { '1h': 3600e3, '24h': 86400e3, '7d': 7 * 86400e3, '30d': 30 * 86400e3 };
function drawTimeline() {
  const tl = S.vm.timeline, box = $('#timeline');
  const from = Date.parse(tl.from), to = Date.parse(tl.to);
  const W = 760, L = 8, R = W - 8, y0 = 22, bh = 30, cy0 = 64, ch = 44;
  const x = v => L + (R - L) * (Math.min(Math.max(v, from), to) - from) / Math.max(1, to - from);
  const g = svg('svg', { viewBox: `0 0 ${W} 140`, role: 'img', 'aria-label': 'timeline' });
  const total = tl.cost, anyUnpriced = tl.unpriced, billed = tl.billedSeconds, unbilled = tl.unbilledSeconds;
  const pts = [[x(from), 0]];
  for (const s of tl.spans) {
    const a = Date.parse(s.from), b = Date.parse(s.to), secs = (b - a) / 1000;
    pts.push([x(b), s.accrued]);
    const w = Math.max(1, x(b) - x(a));
    const r = svg('rect', { x: x(a), y: y0, width: w, height: bh, fill: s.billed ? BILLED : UNBILLED, class: 'span ' + (s.billed ? 'billed' : 'unbilled'), 'data-power': power(s.powerState) },
      svg('title', {}, `${power(s.powerState)} · ${s.provisioningState} · ${s.billed ? 'billed' : 'not billed'} · ${dur(secs)}${s.billed ? ' · ' + money(s.cost, tl.currency) : ''}`));
    if (['starting', 'stopping', 'deallocating'].includes(s.powerState)) r.setAttribute('opacity', '0.7');
    g.append(r);
    if (w > 70) g.append(svg('text', { x: x(a) + 4, y: y0 + 19, class: 'in' }, power(s.powerState)));
  }
  const top = Math.max(total, 1e-9), cy = v => cy0 + ch - ch * v / top;
  g.append(svg('polyline', { points: pts.map(([px, v]) => px + ',' + cy(v)).join(' '), fill: 'none', stroke: BILLED, 'stroke-width': 2, class: 'accrued' }));
  g.append(svg('text', { x: L, y: 14 }, fmtTime(from)), svg('text', { x: R, y: 14, 'text-anchor': 'end' }, fmtTime(to)),
    svg('text', { x: L, y: cy0 + 10 }, 'compute accrued ' + money(total, tl.currency) + (anyUnpriced ? ' +unpriced' : '')),
    svg('line', { x1: L, x2: R, y1: cy0 + ch, y2: cy0 + ch, stroke: '#d8dee4' }),
    svg('text', { x: L, y: 134 }, 'billed ' + dur(billed)), svg('text', { x: R, y: 134, 'text-anchor': 'end' }, 'not billed ' + dur(unbilled)));
  box.replaceChildren(g, el('div', { class: 'legend' },
    el('span', {}, el('i', { class: 'sw-billed' }), 'billed (starting, running, stopping, stopped)'),
    el('span', {}, el('i', { class: 'sw-unbilled' }), 'not billed (allocating, deallocating, deallocated)'),
    el('span', {}, el('i', { class: 'sw-line' }), 'compute cost accrued')));
}

// A subscription's cost per day, compute, disks and public IPs stacked.
async function drawDaily(sub, box) {
  let d;
  try { d = await api('costs/daily', { subscription: sub, days: 14 }); } catch (e) { box.textContent = e.message; return; }
  const W = 380, H = 170, base = 140, n = d.days.length, bw = Math.min(40, (W - 20) / n - 6);
  const top = Math.max(...d.days.map(x => x.total), 1e-9);
  const g = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'daily cost' });
  d.days.forEach((day, i) => {
    const x = 10 + i * (W - 20) / n + ((W - 20) / n - bw) / 2, hc = (base - 20) * day.compute / top, hd = (base - 20) * day.disks / top,
      hn = (base - 20) * (day.publicIPs || 0) / top;
    g.append(svg('rect', { x, y: base - hc, width: bw, height: hc, fill: BILLED }, svg('title', {}, 'compute ' + money(day.compute, d.currency))),
      svg('rect', { x, y: base - hc - hd, width: bw, height: hd, fill: DISK }, svg('title', {}, 'disks ' + money(day.disks, d.currency))),
      svg('rect', { x, y: base - hc - hd - hn, width: bw, height: hn, fill: NET, class: 'net' }, svg('title', {}, 'public IPs ' + money(day.publicIPs, d.currency))),
      svg('text', { x: x + bw / 2, y: base - hc - hd - hn - 4, 'text-anchor': 'middle' }, money(day.total, d.currency) + (day.unpriced ? '+' : '')),
      svg('text', { x: x + bw / 2, y: base + 14, 'text-anchor': 'middle' }, day.date.slice(5)));
  });
  box.replaceChildren(g, el('div', { class: 'legend' }, el('span', {}, el('i', { class: 'sw-billed' }), 'compute'), el('span', {}, el('i', { class: 'sw-disk' }), 'disks'),
    el('span', {}, el('i', { class: 'sw-net' }), 'public IPs'),
    el('span', {}, 'total ' + money(d.total, d.currency) + ' (UTC days' + (d.days.some(x => x.unpriced) ? '; + marks unpriced items' : '') + ')')));
}

// Actions: the engine's own path, as the ARM API's POST actions take.
const ACTIONS = [['start', 'Start'], ['powerOff', 'Power off'], ['deallocate', 'Deallocate'], ['restart', 'Restart'], ['guestShutdown', 'Guest shutdown'], ['delete', 'Delete']];
const WHY = {
  start: n => `Start ${n}? Compute billing starts with Starting.`,
  powerOff: n => `Power off ${n}? It stays allocated: a Stopped VM is still billed for compute.`,
  deallocate: n => `Deallocate ${n}? Compute billing stops once it is deallocating; its disks and public IPs keep billing.`,
  restart: n => `Restart ${n}?`,
  guestShutdown: n => `Shut ${n} down from inside the guest (for testing)? It ends Stopped, and still billed.`,
  delete: n => `Delete ${n}? This cannot be undone. Disks whose deleteOption is Detach stay, and keep billing.`,
};
function confirmAction(action) {
  const s = S.sel, dlg = $('#confirm');
  $('#confirm-text').textContent = WHY[action](s.name);
  dlg.returnValue = '';
  dlg.onclose = () => { if (dlg.returnValue === 'ok') act(action, s); };
  dlg.showModal();
}
async function act(action, s) {
  const op = { action, name: s.name, key: s.key, status: 'Sending' };
  S.ops.unshift(op); S.ops.length = Math.min(S.ops.length, 6);
  renderOps();
  try {
    const r = await fetch('/_dashboard/api/actions', { method: 'POST', headers: { ...headers, 'Content-Type': 'application/json', 'X-CSRF-Token': csrf }, body: JSON.stringify({ id: s.id, action }) });
    const body = await r.json();
    if (!r.ok) Object.assign(op, { status: 'Refused', message: body.error.message });
    else {
      Object.assign(op, { id: body.operation.id, status: body.operation.status });
      const row = S.rows.get(op.key);
      if (op.status === 'InProgress' && row && row.operation && row.operation.id === op.id) Object.assign(op, row.operation);
      else if (op.status === 'InProgress' && row && (!row.operation || row.operation.id !== op.id)) settle(op); // ended before we heard
    }
  } catch (e) { Object.assign(op, { status: 'Refused', message: e.message }); }
  renderOps();
}
async function settle(op) {
  op.status = 'Finishing';
  try { Object.assign(op, (await api('operations/' + encodeURIComponent(op.id))).operation); } catch (e) { op.message = e.message; }
  if (op.error) op.message = op.error.message;
  renderOps();
}
function track(rows, gone) {
  for (const op of S.ops) {
    if (op.status !== 'InProgress') continue;
    const r = rows.get(op.key);
    if (r) r.operation && r.operation.id === op.id ? Object.assign(op, { step: r.operation.step, steps: r.operation.steps, progress: r.operation.progress }) : settle(op);
    else if (gone.includes(op.key)) settle(op);
  }
  renderOps();
}
function renderOps() {
  const ul = $('#ops');
  if (!ul) return;
  ul.replaceChildren(...S.ops.map(op => el('li', { class: op.status, 'data-op': op.id || '' },
    el('b', {}, op.action), ' ' + op.name + ': ', op.status,
    op.status === 'InProgress' && op.steps ? [el('span', { class: 'progress' }, bar(op.progress)), 'step ' + op.step + ' of ' + op.steps] : '',
    op.message ? ' — ' + op.message : '')));
}
// Styles are set through the CSSOM: the page's CSP refuses style attributes.
function bar(f) { const i = el('i'); i.style.width = Math.round(100 * f) + '%'; return i; }

// Live feed.
function onBatch(b) {
  setClock(b.clock);
  const changed = new Map();
  for (const r of b.vms) {
    changed.set(r.key, r);
    const tr = S.rows.has(r.key) && document.querySelector('#fleet tr[data-key="' + CSS.escape(r.key) + '"]');
    if (tr) { S.rows.set(r.key, r); fillRow(tr, r); }
    const leaf = S.leaves.get(r.key);
    if (leaf) leaf.firstChild.className = 'dot p-' + power(r.powerState);
    if (S.sel && S.sel.key === r.key) refreshVM();
    if (!S.known.has(r.key)) { S.known.add(r.key); refreshTree(); } // a new VM: the tree's counts changed
  }
  if (b.gone.length) { refreshTree(); if (S.sel && b.gone.includes(S.sel.key)) refreshVM(); }
  if (b.vms.length || b.gone.length) refreshPage();
  track(changed, b.gone);
  tick();
}
// The server computes every figure: under a real clock, costs grow between
// changes, so the page asks again every few seconds.
let ticks = 0;
function tick() {
  if (S.clock) $('#clock').textContent = fmtTime(now()) + ' · ' + S.clock.mode + ' clock' + (S.clock.speed !== 1 ? ' ×' + S.clock.speed : '');
  if (S.clock && S.clock.mode === 'real' && ++ticks % 5 === 0) { refreshPage(); refreshVM(); }
}
let connected = false;
function connect() {
  const es = new EventSource('/_dashboard/api/events' + (given || sessionStorage.getItem('azemu.token') ? '?access_token=' + encodeURIComponent(token) : ''));
  const live = on => { $('#live').className = on ? '' : 'off'; $('#live').textContent = on ? 'live' : 'reconnecting'; };
  es.addEventListener('hello', e => {
    live(true); setClock(JSON.parse(e.data));
    if (connected) { loadPage(); loadTree(); if (S.sel) renderDetail(); } // changes may have been missed while away
    connected = true;
  });
  es.addEventListener('batch', e => onBatch(JSON.parse(e.data)));
  es.onerror = () => live(false);
}

$('#billed-stopped').onchange = e => setFilter({ billedStopped: e.target.checked });
$('#group').onchange = e => { const [sub, rg] = e.target.value.split('|'); setFilter({ sub: sub || '', rg: rg || '', scaleSet: '' }); };
$('#search').oninput = (() => { let t; return e => { clearTimeout(t); t = setTimeout(() => setFilter({ q: e.target.value }), 250); }; })();
$('#prev').onclick = () => { S.offset = Math.max(0, S.offset - S.limit); loadPage(); };
$('#next').onclick = () => { S.offset += S.limit; loadPage(); };
signIn().then(() => { loadPage(); loadTree(); connect(); setInterval(tick, 1000); });
window.azemuLoadedAt = Date.now(); // lets a test tell a reload from a live update
})();
