// The WebIM's server side, built on the reference server's hooks alone: who is in each room
// (presence), join and leave notices, and the last `historySize` events of each room in memory.
//
// Channels (names as PROTOCOL.md section 3.4 allows):
//   room/<room>                 what the whole room sees: messages, join/leave notices, the member list
//   member/<room>/<nick>/<tab>  subscribing to it puts the session in the room as <nick> for one tab
//                               (<tab>: an id the page draws at each load); the server answers
//                               there, to that tab only, with the history since <nick> joined
// The tab id is there because the client shares one session across the tabs of a browser
// (src/crosstab.ts): a channel the session already has is not subscribed again, so a second tab
// with the same nickname needs a channel of its own to be answered, and two tabs may be two people.
// So a session holds a nickname in a room through each of its tab channels, and only its last
// tab channel going (unsubscribed, or the session expired) takes the nickname out.
// A client publishes `{ nick, text }` to room/<room>, only with a nickname this session holds in
// that room, or `{ nick, leave: true }` just before it leaves a room for good (so that nickname's
// history starts again next time, once no other tab holds it there).
// A nickname whose last tab channel goes without that leave stays in the room for `leaveGraceMs`:
// a tab that reloads takes its channel with it at once (the leading tab unsubscribes the channels
// of a tab that went), and comes back with a new one, which is no news to the room.
// The demo has no authentication: a nickname is whatever the person typed, checked for form only.

export const NICK_FORM = /^[A-Za-z0-9_-]{1,24}$/;
export const ROOM_FORM = /^[a-z0-9-]{1,24}$/;
export const TAB_FORM = /^[a-z0-9]{1,16}$/;
export const MAX_TEXT_CHARS = 500;

/** Parses `room/<room>` or `member/<room>/<nick>/<tab>`; undefined for anything else. */
export function parseChatChannel(channel) {
  const parts = channel.split('/');
  if (parts.length === 2 && parts[0] === 'room' && ROOM_FORM.test(parts[1])) return { kind: 'room', room: parts[1] };
  if (parts.length === 4 && parts[0] === 'member' && ROOM_FORM.test(parts[1]) && NICK_FORM.test(parts[2]) && TAB_FORM.test(parts[3])) {
    return { kind: 'member', room: parts[1], nick: parts[2], tab: parts[3] };
  }
  return undefined;
}

function isText(value) {
  return typeof value === 'string' && value.trim().length > 0 && value.length <= MAX_TEXT_CHARS;
}

export function createChat({ historySize = 100, leaveGraceMs = 5000 } = {}) {
  /** room -> { history: event[], members: Map<nick, Set<sessionId>> } */
  const rooms = new Map();
  /** `${room}/${nick}` -> the id of the first event that nickname sees in that room. */
  const joinedAt = new Map();
  /** sessionId -> Map<room, Map<nick, Set<tab>>>: the tab channels through which it holds each nickname. */
  const memberships = new Map();
  /** `${room}/${nick}` -> the timer of a nickname no tab holds any more, not yet gone (the grace). */
  const going = new Map();
  /** `${room}/${nick}` of nicknames whose last tab said it leaves for good: no grace. */
  const leavingForGood = new Set();
  let nextId = 1;
  let closed = false;
  let publish = () => 0;

  const roomOf = (name) => {
    let room = rooms.get(name);
    if (!room) rooms.set(name, room = { history: [], members: new Map() });
    return room;
  };
  const memberList = (room) => [...room.members.keys()].sort((a, b) => a.localeCompare(b));
  /** The tab channels through which this session is in the room as `nick` (undefined: none). */
  const tabsOf = (sessionId, name, nick) => memberships.get(sessionId)?.get(name)?.get(nick);

  /** Records an event in the room's history and sends it to the room. */
  function broadcast(name, event) {
    const room = roomOf(name);
    const stamped = { ...event, id: nextId++, room: name, ts: Date.now() };
    room.history.push(stamped);
    if (room.history.length > historySize) room.history.splice(0, room.history.length - historySize);
    publish(`room/${name}`, stamped);
  }

  function sendPresence(name) {
    publish(`room/${name}`, { kind: 'presence', room: name, members: memberList(roomOf(name)) });
  }

  function join(sessionId, name, nick, tab) {
    const room = roomOf(name);
    const key = `${name}/${nick}`;
    let sessions = room.members.get(nick);
    // Back within the grace (no session held it, but it never left): no news either.
    const arriving = sessions === undefined;
    clearTimeout(going.get(key));
    going.delete(key);
    leavingForGood.delete(key);
    if (!sessions) room.members.set(nick, sessions = new Set());
    sessions.add(sessionId);
    let mine = memberships.get(sessionId);
    if (!mine) memberships.set(sessionId, mine = new Map());
    let nicks = mine.get(name);
    if (!nicks) mine.set(name, nicks = new Map());
    let tabs = nicks.get(nick);
    if (!tabs) nicks.set(nick, tabs = new Set());
    tabs.add(tab);
    if (!joinedAt.has(key)) joinedAt.set(key, nextId);
    // A second tab, a reload or a new session of someone present is no news to the room.
    if (arriving) broadcast(name, { kind: 'join', nick });
    sendPresence(name);
    const since = joinedAt.get(key);
    publish(`member/${name}/${nick}/${tab}`, {
      kind: 'history',
      room: name,
      events: room.history.filter((event) => event.id >= since),
      members: memberList(room),
    });
  }

  function leave(sessionId, name, nick, tab) {
    if (closed) return; // the server is closing its sessions: no notices to anyone
    const nicks = memberships.get(sessionId)?.get(name);
    const tabs = nicks?.get(nick);
    if (!tabs?.delete(tab) || tabs.size > 0) return; // another tab of this session still holds it
    nicks.delete(nick);
    if (nicks.size === 0) memberships.get(sessionId).delete(name);
    if (memberships.get(sessionId).size === 0) memberships.delete(sessionId);
    const room = rooms.get(name);
    const sessions = room?.members.get(nick);
    if (!sessions?.delete(sessionId) || sessions.size > 0) return;
    const key = `${name}/${nick}`;
    const gone = () => {
      going.delete(key);
      if (room.members.get(nick)?.size !== 0) return;
      room.members.delete(nick);
      broadcast(name, { kind: 'leave', nick });
      sendPresence(name);
    };
    if (leavingForGood.delete(key)) return gone();
    const timer = setTimeout(gone, leaveGraceMs);
    timer.unref?.();
    going.set(key, timer);
  }

  /** How many tab channels, over every session, hold `nick` in the room. */
  function holders(name, nick) {
    let count = 0;
    for (const sessionId of rooms.get(name)?.members.get(nick) ?? []) count += tabsOf(sessionId, name, nick)?.size ?? 0;
    return count;
  }

  const hooks = {
    authorizeSubscribe: ({ channel }) => parseChatChannel(channel) !== undefined,
    authorizePublish: ({ session, channel, data }) => {
      const parsed = parseChatChannel(channel);
      if (parsed?.kind !== 'room') return false;
      if (typeof data !== 'object' || data === null || Array.isArray(data)) return false;
      // The nickname must be one this session holds in that room, through some tab channel.
      if (typeof data.nick !== 'string' || !NICK_FORM.test(data.nick) || !tabsOf(session.id, parsed.room, data.nick)?.size) return false;
      return isText(data.text) || data.leave === true;
    },
    onPublish: ({ channel, data }) => {
      const { room } = parseChatChannel(channel);
      const { nick } = data;
      // Leaving for good: the history starts again next time, unless another tab still holds the nickname.
      if (data.leave === true) {
        if (holders(room, nick) > 1) return;
        joinedAt.delete(`${room}/${nick}`);
        leavingForGood.add(`${room}/${nick}`);
      } else broadcast(room, { kind: 'msg', nick, text: data.text.trim() });
    },
    onSubscribe: ({ session, channel }) => {
      const parsed = parseChatChannel(channel);
      if (parsed?.kind === 'member') join(session.id, parsed.room, parsed.nick, parsed.tab);
    },
    onUnsubscribe: ({ session, channel }) => {
      const parsed = parseChatChannel(channel);
      if (parsed?.kind === 'member') leave(session.id, parsed.room, parsed.nick, parsed.tab);
    },
  };

  return {
    hooks,
    /** Gives the chat the server's `publish` once the server exists. */
    attach(server) { publish = (channel, data) => server.publish(channel, data); },
    /** The session ids that are in some room as `nick` (for the demo's cut route). */
    sessionsOf(nick) {
      return [...memberships].filter(([, mine]) => [...mine.values()].some((nicks) => nicks.has(nick))).map(([id]) => id);
    },
    /** Stops the timers of the nicknames in their grace (the server is closing). */
    close() {
      closed = true;
      for (const timer of going.values()) clearTimeout(timer);
      going.clear();
    },
    /** Who is in which room, for tests. */
    snapshot() {
      return Object.fromEntries([...rooms].map(([name, room]) => [name, memberList(room)]));
    },
  };
}
