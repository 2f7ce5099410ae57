'use strict';
// The dashboard's script: a file, so the page's Content-Security-Policy needs no inline script.
(() => {
  const $ = (id) => document.getElementById(id);
  const esc = (s) =>
    String(s ?? '').replace(
      /[&<>"']/g,
      (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
    );
  let token = sessionStorage.getItem('waggle-token') || '';
  const machines = new Map();

  async function api(method, path, body) {
    const res = await fetch(path, {
      method,
      headers: { authorization: 'Bearer ' + token, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw Object.assign(new Error(data.message || res.statusText), { status: res.status });
    return data;
  }
  const ago = (iso) => {
    if (!iso) return 'never';
    const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
    return s < 60 ? s + 's ago' : s < 3600 ? Math.round(s / 60) + 'm ago' : Math.round(s / 3600) + 'h ago';
  };

  // CPU busy %; an older agent sends only its load average, shown as such.
  const cpu = (x) =>
    !x ? '-' : x.cpuPercent != null ? Math.round(x.cpuPercent) + '%' : 'load ' + x.cpuLoad.toFixed(2);
  const gb = (mb) => (mb / 1024).toFixed(1);
  const gpus = (x) =>
    (x && x.gpus && x.gpus.length
      ? x.gpus.map(
          (g) =>
            (g.utilizationPercent != null ? Math.round(g.utilizationPercent) + '%' : esc(g.name)) +
            (g.memoryTotalMb
              ? ' · ' + (g.memoryUsedMb != null ? gb(g.memoryUsedMb) + '/' : '') + gb(g.memoryTotalMb) + ' GB'
              : ''),
        )
      : ['-']
    ).join('<br>');

  function renderMachines() {
    const rows = [...machines.values()].sort((a, b) => a.name.localeCompare(b.name));
    $('count').textContent = '(' + rows.filter((m) => m.status === 'online').length + ' online / ' + rows.length + ')';
    $('machines').innerHTML = rows
      .map(
        (m) =>
          '<tr data-machine="' +
          esc(m.name) +
          '"><td>' +
          esc(m.name) +
          '</td><td><span class="dot ' +
          esc(m.status) +
          '"></span>' +
          esc(m.status) +
          '</td><td>' +
          ago(m.lastSeenAt) +
          '</td><td>' +
          cpu(m.metrics) +
          '</td><td>' +
          (m.metrics ? Math.round((100 * m.metrics.memoryUsedMb) / m.metrics.memoryTotalMb) + '%' : '-') +
          '</td><td>' +
          gpus(m.metrics) +
          '</td><td class="tags">' +
          (m.capabilityTags || [])
            .filter((t) => !t.includes('os:') && !t.startsWith('arch:'))
            .map((t) => '<span>' + esc(t) + '</span>')
            .join('') +
          '</td></tr>',
      )
      .join('');
  }
  async function loadMachines() {
    let cursor;
    machines.clear();
    do {
      const page = await api('GET', '/api/machines?limit=500' + (cursor ? '&cursor=' + cursor : ''));
      page.items.forEach((m) => machines.set(m.id, m));
      cursor = page.nextCursor;
    } while (cursor);
    renderMachines();
  }
  async function loadMessages() {
    const page = await api('GET', '/api/messages?limit=20');
    $('messages').innerHTML = page.items
      .map(
        (m) =>
          '<div class="msg"><div class="meta">#' +
          esc(m.id) +
          ' ' +
          esc(m.from.name) +
          ' → ' +
          esc(m.to) +
          ' · ' +
          new Date(m.createdAt).toLocaleString() +
          ' · ' +
          m.recipients.map((r) => esc(r.name) + ': ' + esc(r.state)).join(', ') +
          '</div>' +
          esc(m.body) +
          '</div>',
      )
      .join('');
  }
  function feed(text) {
    const li = document.createElement('li');
    li.innerHTML = text;
    $('feed').prepend(li);
    while ($('feed').children.length > 200) $('feed').lastChild.remove();
  }
  function connect() {
    const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
    ws.onopen = () => ws.send(JSON.stringify({ type: 'auth', token }));
    ws.onmessage = (e) => {
      const msg = JSON.parse(e.data);
      if (msg.type === 'ready') {
        $('live').textContent = 'live';
        return;
      }
      if (msg.type !== 'event') return;
      const ev = msg.event,
        d = ev.data;
      if (ev.type === 'machine.heartbeat') {
        const m = machines.get(d.machineId);
        if (m) {
          m.metrics = d.metrics;
          m.lastSeenAt = ev.at;
          m.status = 'online';
          renderMachines();
        }
        return;
      }
      feed(
        '<b>' +
          esc(ev.type) +
          '</b> ' +
          esc(d.name || (machines.get(d.machineId) || {}).name || d.machineId || '') +
          (d.messageId ? ' #' + esc(d.messageId) : '') +
          ' <span>' +
          new Date(ev.at).toLocaleTimeString() +
          '</span>',
      );
      if (ev.type.startsWith('machine.')) loadMachines().catch(() => {});
      if (ev.type.startsWith('message.')) loadMessages().catch(() => {});
    };
    ws.onclose = () => {
      $('live').textContent = 'reconnecting…';
      setTimeout(connect, 2000);
    };
  }
  async function start() {
    try {
      const me = await api('GET', '/api/auth/whoami');
      $('who').textContent = me.kind + ': ' + me.name;
      $('login').classList.add('hidden');
      $('app').classList.remove('hidden');
      await Promise.all([loadMachines(), loadMessages()]);
      connect();
      setInterval(renderMachines, 5000);
    } catch (e) {
      $('app').classList.add('hidden');
      $('login').classList.remove('hidden');
      if (token) $('login-error').textContent = e.message;
    }
  }
  $('signin').onclick = () => {
    token = $('token').value.trim();
    sessionStorage.setItem('waggle-token', token);
    start();
  };
  $('send').onsubmit = async (e) => {
    e.preventDefault();
    $('send-error').textContent = '';
    try {
      await api('POST', '/api/messages', { to: $('to').value.trim(), body: $('body').value });
      $('body').value = '';
      await loadMessages();
    } catch (err) {
      $('send-error').textContent = err.message;
    }
  };
  start();
})();
