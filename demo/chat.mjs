// The WebIM's server side, built on the reference server's hooks alone: who is in each room
// (presence), join and leave notices, and the last `historySize` events of each room in memory.
//
// Channels (names as PROTOCOL.md section 3.4 allows):
//   room/<room>            what the whole room sees: messages, join/leave notices, the member list
//   member/<room>/<nick>   subscribing to it puts the session in the room as <nick>; the server
//                          answers there, to that nickname only, with the history since it joined
// A client publishes `{ text }` to room/<room> (only in a room it is a member of), or
// `{ leave: true }` just before it leaves a room for good (so its history starts again next time).
// The demo has no authentication: a nickname is whatever the person typed, checked for form only.

export const NICK_FORM = /^[A-Za-z0-9_-]{1,24}$/;
export const ROOM_FORM = /^[a-z0-9-]{1,24}$/;
export const MAX_TEXT_CHARS = 500;

/** Parses `room/<room>` or `member/<room>/<nick>`; undefined for anything else. */
export function parseChatChannel(channel) {
  const parts = channel.split('/');
  if (parts.length === 2 && parts[0] === 'room' && ROOM_FORM.test(parts[1])) return { kind: 'room', room: parts[1] };
  if (parts.length === 3 && parts[0] === 'member' && ROOM_FORM.test(parts[1]) && NICK_FORM.test(parts[2])) {
    return { kind: 'member', room: parts[1], nick: parts[2] };
  }
  return undefined;
}

function isText(value) {
  return typeof value === 'string' && value.trim().length > 0 && value.length <= MAX_TEXT_CHARS;
}

export function createChat({ historySize = 100 } = {}) {
  /** room -> { history: event[], members: Map<nick, Set<sessionId>> } */
  const rooms = new Map();
  /** `${room}/${nick}` -> the id of the first event that nickname sees in that room. */
  const joinedAt = new Map();
  /** sessionId -> Map<room, nick> */
  const memberships = new Map();
  let nextId = 1;
  let publish = () => 0;

  const roomOf = (name) => {
    let room = rooms.get(name);
    if (!room) rooms.set(name, room = { history: [], members: new Map() });
    return room;
  };
  const memberList = (room) => [...room.members.keys()].sort((a, b) => a.localeCompare(b));

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

  function join(sessionId, name, nick) {
    const room = roomOf(name);
    let sessions = room.members.get(nick);
    const arriving = sessions === undefined;
    if (!sessions) room.members.set(nick, sessions = new Set());
    sessions.add(sessionId);
    let mine = memberships.get(sessionId);
    if (!mine) memberships.set(sessionId, mine = new Map());
    mine.set(name, nick);
    const key = `${name}/${nick}`;
    if (!joinedAt.has(key)) joinedAt.set(key, nextId);
    // A second tab, a reload or a new session of someone present is no news to the room.
    if (arriving) broadcast(name, { kind: 'join', nick });
    sendPresence(name);
    const since = joinedAt.get(key);
    publish(`member/${name}/${nick}`, {
      kind: 'history',
      room: name,
      events: room.history.filter((event) => event.id >= since),
      members: memberList(room),
    });
  }

  function leave(sessionId, name, nick) {
    const room = rooms.get(name);
    const sessions = room?.members.get(nick);
    memberships.get(sessionId)?.delete(name);
    if (memberships.get(sessionId)?.size === 0) memberships.delete(sessionId);
    if (!sessions?.delete(sessionId) || sessions.size > 0) return;
    room.members.delete(nick);
    broadcast(name, { kind: 'leave', nick });
    sendPresence(name);
  }

  const hooks = {
    authorizeSubscribe: ({ channel }) => parseChatChannel(channel) !== undefined,
    authorizePublish: ({ session, channel, data }) => {
      const parsed = parseChatChannel(channel);
      if (parsed?.kind !== 'room' || !memberships.get(session.id)?.has(parsed.room)) return false;
      if (typeof data !== 'object' || data === null || Array.isArray(data)) return false;
      return isText(data.text) || data.leave === true;
    },
    onPublish: ({ session, channel, data }) => {
      const { room } = parseChatChannel(channel);
      const nick = memberships.get(session.id)?.get(room);
      if (nick === undefined) return;
      if (data.leave === true) joinedAt.delete(`${room}/${nick}`);
      else broadcast(room, { kind: 'msg', nick, text: data.text.trim() });
    },
    onSubscribe: ({ session, channel }) => {
      const parsed = parseChatChannel(channel);
      if (parsed?.kind === 'member') join(session.id, parsed.room, parsed.nick);
    },
    onUnsubscribe: ({ session, channel }) => {
      const parsed = parseChatChannel(channel);
      if (parsed?.kind === 'member') leave(session.id, parsed.room, parsed.nick);
    },
  };

  return {
    hooks,
    /** Gives the chat the server's `publish` once the server exists. */
    attach(server) { publish = (channel, data) => server.publish(channel, data); },
    /** The session ids that are in some room as `nick` (for the demo's cut route). */
    sessionsOf(nick) {
      return [...memberships].filter(([, mine]) => [...mine.values()].includes(nick)).map(([id]) => id);
    },
    /** Who is in which room, for tests. */
    snapshot() {
      return Object.fromEntries([...rooms].map(([name, room]) => [name, memberList(room)]));
    },
  };
}
