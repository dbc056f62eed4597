// Pure checks of everything a client sends: parameters (PROTOCOL.md sections 3.1, 3.4, 3.5, 5.2)
// and upstream JSON (sections 3.3, 6.1, 6.4). No I/O here, so every rule is unit-testable.

/** Section 3.1: 22 to 64 characters of URL-safe base64. */
const SESSION_ID_FORM = /^[A-Za-z0-9_-]{22,64}$/;
/** Section 3.5. `\w` without the `u` flag is exactly `[A-Za-z0-9_]`; `$` anchors at the very end. */
const CALLBACK_FORM = /^[A-Za-z_$][\w$]{0,63}$/;
/** Section 3.4. */
const CHANNEL_FORM = /^[A-Za-z0-9_.:/@~-]{1,128}$/;
/** Section 5.3, `iframe`: the `origin` parameter. */
const ORIGIN_FORM = /^https?:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?$/;
/** Section 7.1: the `echo` parameter of a send. */
const ECHO_FORM = /^[A-Za-z0-9_-]{1,32}$/;
/** A decimal integer; 16 digits is above any seq a session can reach and below 2^53 overflow. */
const SINCE_FORM = /^[0-9]{1,16}$/;

/** Section 3.3: keys that can pollute prototypes in application code. */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export function isSessionId(value: string): boolean {
  return SESSION_ID_FORM.test(value);
}

export function isCallbackName(value: string): boolean {
  return CALLBACK_FORM.test(value);
}

export function isChannel(value: string): boolean {
  return CHANNEL_FORM.test(value);
}

export function isEchoToken(value: string): boolean {
  return ECHO_FORM.test(value);
}

export function isOriginForm(value: string): boolean {
  return ORIGIN_FORM.test(value);
}

/** Parses a `since` parameter's form; `undefined` when malformed. The upper bound needs the session. */
export function parseSince(value: string): number | undefined {
  if (!SINCE_FORM.test(value)) return undefined;
  const since = Number(value);
  return Number.isSafeInteger(since) ? since : undefined;
}

export type JsonParseResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly code: 'bad-json' | 'forbidden-key' };

class ForbiddenKeyFound extends Error {}

/**
 * Parses client JSON, refusing forbidden keys at any depth. `JSON.parse` defines `__proto__` as an
 * own property (it never sets the prototype), so the reviver sees every key, nested ones included.
 */
export function parseClientJson(text: string): JsonParseResult {
  try {
    const value: unknown = JSON.parse(text, (key, nested: unknown) => {
      if (FORBIDDEN_KEYS.has(key)) throw new ForbiddenKeyFound();
      return nested;
    });
    return { ok: true, value };
  } catch (error) {
    return { ok: false, code: error instanceof ForbiddenKeyFound ? 'forbidden-key' : 'bad-json' };
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decodes a body as strict UTF-8 (section 3.3). Invalid bytes give `undefined`; a byte-order mark
 * is kept, so that JSON.parse refuses it as section 3.3 requires.
 */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

export type UpstreamMessage =
  | { readonly id: number; readonly type: 'subscribe' | 'unsubscribe'; readonly channel: string }
  | {
    readonly id: number;
    readonly type: 'publish';
    readonly channel: string;
    readonly data: unknown;
    /** `data` serialised once here and reused for size checks and fan-out. */
    readonly dataJson: string;
  };

export type MessagesResult =
  | { readonly ok: true; readonly messages: readonly UpstreamMessage[] }
  | { readonly ok: false; readonly code: 'bad-json' | 'batch-too-large' | 'message-too-large' };

export interface MessageLimits {
  readonly maxBatchMessages: number;
  readonly maxMessageBytes: number;
}

/**
 * Checks the section 6.1 form of a parsed `messages` array. A channel that is a string but not of
 * the channel form is not a form error: it is refused per message with `bad-channel` (section 6.2).
 * Unknown members are ignored (section 2).
 */
export function checkMessages(value: unknown, limits: MessageLimits): MessagesResult {
  if (!Array.isArray(value)) return { ok: false, code: 'bad-json' };
  const messages: UpstreamMessage[] = [];
  for (const item of value as unknown[]) {
    const message = checkMessage(item);
    if (message === undefined) return { ok: false, code: 'bad-json' };
    messages.push(message);
  }
  // Form first, then size: a request that is both malformed and large is malformed.
  if (messages.length > limits.maxBatchMessages) return { ok: false, code: 'batch-too-large' };
  for (const message of messages) {
    if (message.type === 'publish' && Buffer.byteLength(message.dataJson) > limits.maxMessageBytes) {
      return { ok: false, code: 'message-too-large' };
    }
  }
  return { ok: true, messages };
}

/** The `messages` of a POST body `{"messages":[...]}`. */
export function messagesOfBody(value: unknown): unknown {
  if (!isPlainObject(value)) return undefined;
  return value.messages;
}

function checkMessage(item: unknown): UpstreamMessage | undefined {
  if (!isPlainObject(item)) return undefined;
  const { id, type, channel } = item;
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1) return undefined;
  if (typeof channel !== 'string') return undefined;
  if (type === 'subscribe' || type === 'unsubscribe') return { id, type, channel };
  if (type !== 'publish' || !Object.hasOwn(item, 'data')) return undefined;
  const data = item.data;
  return { id, type, channel, data, dataJson: JSON.stringify(data) };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
