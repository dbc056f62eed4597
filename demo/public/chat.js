// The WebIM page. It uses the package the way a page without a bundler does: the UMD bundle from a
// plain <script> tag, global `CometKit`. Every piece of user text reaches the page through
// textContent, never as HTML. Channels and the server's side are described in demo/chat.mjs.
(() => {
  'use strict';
  const { CometClient } = window.CometKit;
  const NICK_FORM = /^[A-Za-z0-9_-]{1,24}$/;
  const ROOM_FORM = /^[a-z0-9-]{1,24}$/;
  const STORE_KEY = 'cometkit-demo';
  const $ = (id) => document.getElementById(id);

  // Per tab (sessionStorage): a reload keeps the nickname and rooms; another tab may be someone else.
  // The tabs of this origin share one connection and one server session (unless a transport is
  // forced), so the server tells tabs apart by this id, drawn at each load: each tab has its own
  // member channel (its history comes there) and every publish names its nickname.
  const TAB = Array.from(crypto.getRandomValues(new Uint8Array(8)), (byte) => byte.toString(16).padStart(2, '0')).join('');
  const saved = { nick: '', rooms: [], current: '', transport: '', ...readStore() };
  /** room -> { events: Map<id, event>, members: string[], unread: number } */
  const rooms = new Map();
  const stats = { reconnects: 0, lastSeq: 0, lost: 0, received: 0 };
  let client;
  /** room -> the room's two subscriptions */
  const subscriptions = new Map();

  function readStore() {
    try {
      return JSON.parse(sessionStorage.getItem(STORE_KEY) ?? '{}');
    } catch {
      return {};
    }
  }
  function store() {
    sessionStorage.setItem(STORE_KEY, JSON.stringify(saved));
  }
  function announce(text) {
    $('announce').textContent = text;
  }
  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  const clock = (ts) => new Date(ts).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

  // ---- connection ----------------------------------------------------------------------------

  function connect() {
    client?.close();
    subscriptions.clear();
    stats.lastSeq = 0; // the seq of the session this client joins (shared, or a new one of its own)
    // A forced transport needs a connection of this tab's own: the leading tab's options configure
    // the shared one.
    client = new CometClient('/comet', saved.transport ? { transports: [saved.transport], shareAcrossTabs: false } : {});
    renderTab();
    client.on('leader', renderTab);
    client.on('statechange', ({ state, reason }) => {
      if (state === 'reconnecting') stats.reconnects += 1;
      $('st-state').dataset.state = state;
      $('st-state').textContent = state === 'open' ? 'open' : `${state} (${reason})`;
      if (state !== 'open') announce(`Connection ${state}: ${reason}`);
      // A tab that follows may hear the shared connection's state before its transport.
      else announce(client.transport ? `Connected with ${client.transport}` : 'Connected');
      renderStats();
    });
    client.on('transport', ({ name, reason }) => {
      $('st-transport').textContent = reason === 'preferred' ? name : `${name} (${reason})`;
      if (client.state === 'open' && $('announce').textContent === 'Connected') announce(`Connected with ${name}`);
    });
    client.on('gap', (gap) => {
      if ('from' in gap) stats.lost += gap.to - gap.from + 1;
      else announce('The server forgot this session; the history was sent again.');
      renderStats();
    });
    client.on('error', (error) => {
      if (!error.willRetry) announce(`Error: ${error.type}${error.code ? ` (${error.code})` : ''}`);
    });
    for (const room of saved.rooms) subscribeRoom(room);
  }

  function subscribeRoom(room) {
    const onMessage = (data, { seq }) => {
      stats.lastSeq = seq;
      stats.received += 1;
      receive(room, data);
      renderStats();
    };
    // The room channel first, then the membership: the server's history answer comes after both.
    subscriptions.set(room, [
      client.subscribe(`room/${room}`, onMessage),
      client.subscribe(`member/${room}/${saved.nick}/${TAB}`, onMessage),
    ]);
  }

  function joinRoom(room) {
    if (!rooms.has(room)) rooms.set(room, { events: new Map(), members: [], unread: 0 });
    if (!saved.rooms.includes(room)) {
      saved.rooms.push(room);
      subscribeRoom(room);
    }
    showRoom(room);
  }

  function leaveRoom(room) {
    // Said before leaving, so the server starts this nickname's history afresh next time.
    client.publish(`room/${room}`, { nick: saved.nick, leave: true }).catch(() => undefined);
    for (const subscription of subscriptions.get(room) ?? []) subscription.unsubscribe();
    subscriptions.delete(room);
    rooms.delete(room);
    saved.rooms = saved.rooms.filter((name) => name !== room);
    if (saved.current === room) saved.current = saved.rooms[0] ?? '';
    store();
    render();
    announce(`You left #${room}`);
  }

  // ---- incoming ------------------------------------------------------------------------------

  function receive(room, data) {
    const state = rooms.get(room);
    if (!state || typeof data !== 'object' || data === null) return;
    if (data.kind === 'history') {
      state.members = data.members;
      for (const event of data.events) state.events.set(event.id, event);
      if (room === saved.current) renderLog();
    } else if (data.kind === 'presence') {
      state.members = data.members;
    } else if (!state.events.has(data.id)) {
      state.events.set(data.id, data);
      if (room === saved.current) appendEvent(data);
      else if (data.kind === 'msg') state.unread += 1;
    }
    if (room === saved.current) renderMembers();
    renderRooms();
  }

  // ---- rendering -----------------------------------------------------------------------------

  function renderStats() {
    $('st-reconnects').textContent = String(stats.reconnects);
    $('st-seq').textContent = String(stats.lastSeq);
    $('st-lost').textContent = String(stats.lost);
    $('st-lost').dataset.lost = String(stats.lost);
  }

  function renderTab() {
    const tab = saved.transport ? 'own connection' : client.leader ? 'leads the shared connection' : 'follows';
    $('st-tab').textContent = tab;
    $('st-tab').dataset.tab = saved.transport ? 'own' : client.leader ? 'leads' : 'follows';
  }

  function eventItem(event) {
    if (event.kind === 'msg') {
      const item = element('li', event.nick === saved.nick ? 'msg mine' : 'msg');
      const meta = element('p', 'meta');
      meta.append(element('span', 'nick', event.nick), ' ', element('time', '', clock(event.ts)));
      meta.lastChild.dateTime = new Date(event.ts).toISOString();
      item.append(meta, element('p', 'text', event.text));
      return item;
    }
    const verb = event.kind === 'join' ? 'joined' : 'left';
    return element('li', 'notice', `${event.nick} ${verb} · ${clock(event.ts)}`);
  }

  function renderLog() {
    const log = $('log');
    const events = [...(rooms.get(saved.current)?.events.values() ?? [])].sort((a, b) => a.id - b.id);
    // Replacing the whole list is not news: keep screen readers from reading it all out.
    log.setAttribute('aria-busy', 'true');
    log.replaceChildren(...events.map(eventItem));
    log.dataset.lastId = String(events.at(-1)?.id ?? 0);
    log.setAttribute('aria-busy', 'false');
    log.scrollTop = log.scrollHeight;
  }

  function appendEvent(event) {
    const log = $('log');
    if (event.id < Number(log.dataset.lastId ?? 0)) return renderLog();
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    log.append(eventItem(event));
    log.dataset.lastId = String(event.id);
    if (atBottom) log.scrollTop = log.scrollHeight;
  }

  function renderMembers() {
    const members = rooms.get(saved.current)?.members ?? [];
    $('members-title').textContent = `Here now (${members.length})`;
    $('members').replaceChildren(...members.map((nick) => element('li', nick === saved.nick ? 'self' : '', nick)));
  }

  function renderRooms() {
    $('rooms').replaceChildren(...saved.rooms.map((room) => {
      const state = rooms.get(room);
      const item = element('li', 'room-item');
      const open = element('button', 'room-button', `#${room}`);
      open.type = 'button';
      if (room === saved.current) open.setAttribute('aria-current', 'true');
      if (state?.unread) open.append(element('span', 'badge', String(state.unread)));
      open.setAttribute('aria-label', `#${room}${state?.unread ? `, ${state.unread} unread` : ''}`);
      open.addEventListener('click', () => showRoom(room));
      const leave = element('button', 'link', 'Leave');
      leave.type = 'button';
      leave.setAttribute('aria-label', `Leave #${room}`);
      leave.addEventListener('click', () => leaveRoom(room));
      item.append(open, leave);
      return item;
    }));
  }

  function showRoom(room) {
    saved.current = room;
    const state = rooms.get(room);
    if (state) state.unread = 0;
    store();
    render();
  }

  function render() {
    const room = saved.current;
    $('room-title').textContent = room ? `#${room}` : 'No room';
    $('text').placeholder = room ? `Message #${room}` : 'Join a room first';
    $('text').disabled = !room;
    $('me').textContent = saved.nick;
    renderRooms();
    renderMembers();
    renderLog();
  }

  // ---- controls ------------------------------------------------------------------------------

  function start() {
    $('login').hidden = true;
    $('chat').hidden = false;
    $('transport').value = saved.transport;
    for (const room of saved.rooms) rooms.set(room, { events: new Map(), members: [], unread: 0 });
    connect();
    render();
  }

  $('login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const nick = $('nick').value.trim();
    const room = $('first-room').value.trim();
    if (!NICK_FORM.test(nick)) return showLoginError('nick', 'A nickname is 1 to 24 letters, digits, _ or -.');
    if (!ROOM_FORM.test(room)) return showLoginError('first-room', 'A room name is lower-case letters, digits or -.');
    Object.assign(saved, { nick, rooms: [room], current: room });
    store();
    start();
    $('text').focus();
  });
  function showLoginError(field, message) {
    $('nick-error').textContent = message;
    $(field).setAttribute('aria-invalid', 'true');
    $(field).focus();
  }

  $('join-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const room = $('join-room').value.trim().toLowerCase();
    if (!ROOM_FORM.test(room)) {
      $('join-room').setAttribute('aria-invalid', 'true');
      return announce('A room name is 1 to 24 lower-case letters, digits or -.');
    }
    $('join-room').removeAttribute('aria-invalid');
    $('join-room').value = '';
    joinRoom(room);
    $('text').focus();
  });

  $('send-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const text = $('text').value.trim();
    if (!text || !saved.current) return;
    $('text').value = '';
    client.publish(`room/${saved.current}`, { nick: saved.nick, text }).catch((error) => {
      $('text').value = text;
      announce(`Not sent: ${error.code ?? error.type}`);
    });
  });

  $('transport').addEventListener('change', () => {
    saved.transport = $('transport').value;
    store();
    announce(saved.transport
      ? `Reconnecting with ${saved.transport}, on a connection of this tab's own`
      : 'Reconnecting with the best transport that works, shared with your other tabs');
    connect();
  });

  $('cut').addEventListener('click', () => {
    fetch(`/demo/cut?nick=${encodeURIComponent(saved.nick)}`, { method: 'POST' })
      .then((response) => response.json())
      .then(({ cut }) => announce(`Cut ${cut} connection${cut === 1 ? '' : 's'} on the server; watch the client resume.`))
      .catch(() => announce('The cut request failed.'));
  });

  $('logout').addEventListener('click', () => {
    client?.close();
    sessionStorage.removeItem(STORE_KEY);
    location.reload();
  });

  // For automation (the demo's screenshots and tests): read-only views of the page's state.
  window.cometkitDemo = {
    stats,
    transport: () => client?.transport ?? null,
    state: () => client?.state ?? null,
    leader: () => client?.leader ?? null,
    tab: TAB,
    events: (room) => [...(rooms.get(room)?.events.values() ?? [])],
    members: (room) => rooms.get(room)?.members ?? [],
  };

  if (NICK_FORM.test(saved.nick) && saved.rooms.every((room) => ROOM_FORM.test(room)) && saved.rooms.length > 0) start();
  else $('nick').focus();
})();
