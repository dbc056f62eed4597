// The WebIM page. It uses the package the way a page without a bundler does: a UMD bundle from a
// script tag, global `CometKit` (the modern bundle where modules run, the legacy one elsewhere:
// see index.html). Written in ES5 with the DOM of 2016, so that QtWebKit 5.212 runs it as it is.
// Every piece of user text reaches the page through textContent, never as HTML. Channels and the
// server's side are described in demo/chat.mjs.
(function () {
  'use strict';
  var CometClient = window.CometKit.CometClient;
  var NICK_FORM = /^[A-Za-z0-9_-]{1,24}$/;
  var ROOM_FORM = /^[a-z0-9-]{1,24}$/;
  var STORE_KEY = 'cometkit-demo';
  var $ = function (id) { return document.getElementById(id); };

  // Per tab (sessionStorage): a reload keeps the nickname and rooms; another tab may be someone else.
  // The tabs of this origin share one connection and one server session (unless a transport is
  // forced), so the server tells tabs apart by this id, drawn at each load: each tab has its own
  // member channel (its history comes there) and every publish names its nickname.
  var TAB = Array.from(crypto.getRandomValues(new Uint8Array(8)), function (byte) { return ('0' + byte.toString(16)).slice(-2); }).join('');
  var saved = Object.assign({ nick: '', rooms: [], current: '', transport: '' }, readStore());
  /** room -> { events: Map<id, event>, members: string[], unread: number } */
  var rooms = new Map();
  var stats = { reconnects: 0, lastSeq: 0, lost: 0, received: 0 };
  var client;
  /** room -> the room's two subscriptions */
  var subscriptions = new Map();

  function readStore() {
    try {
      return JSON.parse(sessionStorage.getItem(STORE_KEY) || '{}');
    } catch (error) {
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
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  /** Replaces the children of `node` (Element.replaceChildren is from 2020). */
  function replaceChildren(node, children) {
    while (node.firstChild) node.removeChild(node.firstChild);
    children.forEach(function (child) { node.appendChild(child); });
  }
  /** The values of a Map, as an array (no spread in ES5). */
  function valuesOf(map) {
    var values = [];
    if (map) map.forEach(function (value) { values.push(value); });
    return values;
  }
  var clock = function (ts) { return new Date(ts).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }); };
  var eventsOf = function (room) { return rooms.has(room) ? valuesOf(rooms.get(room).events) : []; };
  var membersOf = function (room) { return rooms.has(room) ? rooms.get(room).members : []; };

  // ---- connection ----------------------------------------------------------------------------

  function connect() {
    if (client) client.close();
    subscriptions.clear();
    stats.lastSeq = 0; // the seq of the session this client joins (shared, or a new one of its own)
    // A forced transport needs a connection of this tab's own: the leading tab's options configure
    // the shared one.
    client = new CometClient('/comet', saved.transport ? { transports: [saved.transport], shareAcrossTabs: false } : {});
    renderTab();
    client.on('leader', renderTab);
    client.on('statechange', function (change) {
      if (change.state === 'reconnecting') stats.reconnects += 1;
      $('st-state').setAttribute('data-state', change.state);
      $('st-state').textContent = change.state === 'open' ? 'open' : change.state + ' (' + change.reason + ')';
      if (change.state !== 'open') announce('Connection ' + change.state + ': ' + change.reason);
      // A tab that follows may hear the shared connection's state before its transport.
      else announce(client.transport ? 'Connected with ' + client.transport : 'Connected');
      renderStats();
    });
    client.on('transport', function (chosen) {
      $('st-transport').textContent = chosen.reason === 'preferred' ? chosen.name : chosen.name + ' (' + chosen.reason + ')';
      if (client.state === 'open' && $('announce').textContent === 'Connected') announce('Connected with ' + chosen.name);
    });
    client.on('gap', function (gap) {
      if ('from' in gap) stats.lost += gap.to - gap.from + 1;
      else announce('The server forgot this session; the history was sent again.');
      renderStats();
    });
    client.on('error', function (error) {
      if (!error.willRetry) announce('Error: ' + error.type + (error.code ? ' (' + error.code + ')' : ''));
    });
    saved.rooms.forEach(subscribeRoom);
  }

  function subscribeRoom(room) {
    var onMessage = function (data, message) {
      stats.lastSeq = message.seq;
      stats.received += 1;
      receive(room, data);
      renderStats();
    };
    // The room channel first, then the membership: the server's history answer comes after both.
    subscriptions.set(room, [
      client.subscribe('room/' + room, onMessage),
      client.subscribe('member/' + room + '/' + saved.nick + '/' + TAB, onMessage),
    ]);
  }

  function joinRoom(room) {
    if (!rooms.has(room)) rooms.set(room, { events: new Map(), members: [], unread: 0 });
    if (saved.rooms.indexOf(room) < 0) {
      saved.rooms.push(room);
      subscribeRoom(room);
    }
    showRoom(room);
  }

  function leaveRoom(room) {
    // Said before leaving, so the server starts this nickname's history afresh next time.
    client.publish('room/' + room, { nick: saved.nick, leave: true }).catch(function () { return undefined; });
    (subscriptions.get(room) || []).forEach(function (subscription) { subscription.unsubscribe(); });
    subscriptions.delete(room);
    rooms.delete(room);
    saved.rooms = saved.rooms.filter(function (name) { return name !== room; });
    if (saved.current === room) saved.current = saved.rooms[0] || '';
    store();
    render();
    announce('You left #' + room);
  }

  // ---- incoming ------------------------------------------------------------------------------

  function receive(room, data) {
    var state = rooms.get(room);
    if (!state || typeof data !== 'object' || data === null) return;
    if (data.kind === 'history') {
      state.members = data.members;
      data.events.forEach(function (event) { state.events.set(event.id, event); });
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
    $('st-lost').setAttribute('data-lost', String(stats.lost));
  }

  function renderTab() {
    var tab = saved.transport ? 'own connection' : client.leader ? 'leads the shared connection' : 'follows';
    $('st-tab').textContent = tab;
    $('st-tab').setAttribute('data-tab', saved.transport ? 'own' : client.leader ? 'leads' : 'follows');
  }

  function eventItem(event) {
    if (event.kind === 'msg') {
      var item = element('li', event.nick === saved.nick ? 'msg mine' : 'msg');
      var meta = element('p', 'meta');
      var time = element('time', '', clock(event.ts));
      time.setAttribute('datetime', new Date(event.ts).toISOString());
      meta.appendChild(element('span', 'nick', event.nick));
      meta.appendChild(document.createTextNode(' '));
      meta.appendChild(time);
      item.appendChild(meta);
      item.appendChild(element('p', 'text', event.text));
      return item;
    }
    var verb = event.kind === 'join' ? 'joined' : 'left';
    return element('li', 'notice', event.nick + ' ' + verb + ' · ' + clock(event.ts));
  }

  function renderLog() {
    var log = $('log');
    var events = eventsOf(saved.current).sort(function (a, b) { return a.id - b.id; });
    // Replacing the whole list is not news: keep screen readers from reading it all out.
    log.setAttribute('aria-busy', 'true');
    replaceChildren(log, events.map(eventItem));
    log.setAttribute('data-last-id', String(events.length ? events[events.length - 1].id : 0));
    log.setAttribute('aria-busy', 'false');
    log.scrollTop = log.scrollHeight;
  }

  function appendEvent(event) {
    var log = $('log');
    if (event.id < Number(log.getAttribute('data-last-id') || 0)) return renderLog();
    var atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    log.appendChild(eventItem(event));
    log.setAttribute('data-last-id', String(event.id));
    if (atBottom) log.scrollTop = log.scrollHeight;
    return undefined;
  }

  function renderMembers() {
    var members = membersOf(saved.current);
    $('members-title').textContent = 'Here now (' + members.length + ')';
    replaceChildren($('members'), members.map(function (nick) { return element('li', nick === saved.nick ? 'self' : '', nick); }));
  }

  function renderRooms() {
    replaceChildren($('rooms'), saved.rooms.map(function (room) {
      var unread = rooms.has(room) ? rooms.get(room).unread : 0;
      var item = element('li', 'room-item');
      var open = element('button', 'room-button', '#' + room);
      open.type = 'button';
      if (room === saved.current) open.setAttribute('aria-current', 'true');
      if (unread) open.appendChild(element('span', 'badge', String(unread)));
      open.setAttribute('aria-label', '#' + room + (unread ? ', ' + unread + ' unread' : ''));
      open.addEventListener('click', function () { showRoom(room); });
      var leave = element('button', 'link', 'Leave');
      leave.type = 'button';
      leave.setAttribute('aria-label', 'Leave #' + room);
      leave.addEventListener('click', function () { leaveRoom(room); });
      item.appendChild(open);
      item.appendChild(leave);
      return item;
    }));
  }

  function showRoom(room) {
    saved.current = room;
    var state = rooms.get(room);
    if (state) state.unread = 0;
    store();
    render();
  }

  function render() {
    var room = saved.current;
    $('room-title').textContent = room ? '#' + room : 'No room';
    $('text').placeholder = room ? 'Message #' + room : 'Join a room first';
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
    saved.rooms.forEach(function (room) { rooms.set(room, { events: new Map(), members: [], unread: 0 }); });
    connect();
    render();
  }

  $('login-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var nick = $('nick').value.trim();
    var room = $('first-room').value.trim();
    if (!NICK_FORM.test(nick)) return showLoginError('nick', 'A nickname is 1 to 24 letters, digits, _ or -.');
    if (!ROOM_FORM.test(room)) return showLoginError('first-room', 'A room name is lower-case letters, digits or -.');
    Object.assign(saved, { nick: nick, rooms: [room], current: room });
    store();
    start();
    $('text').focus();
    return undefined;
  });
  function showLoginError(field, message) {
    $('nick-error').textContent = message;
    $(field).setAttribute('aria-invalid', 'true');
    $(field).focus();
  }

  $('join-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var room = $('join-room').value.trim().toLowerCase();
    if (!ROOM_FORM.test(room)) {
      $('join-room').setAttribute('aria-invalid', 'true');
      return announce('A room name is 1 to 24 lower-case letters, digits or -.');
    }
    $('join-room').removeAttribute('aria-invalid');
    $('join-room').value = '';
    joinRoom(room);
    $('text').focus();
    return undefined;
  });

  $('send-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var text = $('text').value.trim();
    if (!text || !saved.current) return;
    $('text').value = '';
    client.publish('room/' + saved.current, { nick: saved.nick, text: text }).catch(function (error) {
      $('text').value = text;
      announce('Not sent: ' + (error.code || error.type));
    });
  });

  $('transport').addEventListener('change', function () {
    saved.transport = $('transport').value;
    store();
    announce(saved.transport
      ? 'Reconnecting with ' + saved.transport + ", on a connection of this tab's own"
      : 'Reconnecting with the best transport that works, shared with your other tabs');
    connect();
  });

  $('cut').addEventListener('click', function () {
    var xhr = new XMLHttpRequest();
    xhr.open('POST', '/demo/cut?nick=' + encodeURIComponent(saved.nick));
    xhr.onload = function () {
      var cut = xhr.status === 200 ? JSON.parse(xhr.responseText).cut : undefined;
      if (cut === undefined) announce('The cut request failed.');
      else announce('Cut ' + cut + ' connection' + (cut === 1 ? '' : 's') + ' on the server; watch the client resume.');
    };
    xhr.onerror = function () { announce('The cut request failed.'); };
    xhr.send();
  });

  $('logout').addEventListener('click', function () {
    if (client) client.close();
    sessionStorage.removeItem(STORE_KEY);
    location.reload();
  });

  // For automation (the demo's screenshots and tests): read-only views of the page's state.
  window.cometkitDemo = {
    stats: stats,
    transport: function () { return client ? client.transport : null; },
    state: function () { return client ? client.state : null; },
    leader: function () { return client && client.leader !== undefined ? client.leader : null; },
    tab: TAB,
    events: eventsOf,
    members: membersOf,
  };

  if (NICK_FORM.test(saved.nick) && saved.rooms.every(function (room) { return ROOM_FORM.test(room); }) && saved.rooms.length > 0) start();
  else $('nick').focus();
})();
