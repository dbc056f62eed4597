// Applying upstream messages exactly once (PROTOCOL.md section 6.3), with the application's
// authorisation and routing hooks. No HTTP here: http.ts turns the outcome into an answer.
import type { IncomingMessage } from 'node:http';
import type { Hub } from './hub.ts';
import { observe } from './hub.ts';
import type { Awaitable, ResolvedOptions } from './options.ts';
import type { RefusalCode, Session } from './session.ts';
import type { UpstreamMessage } from './validate.ts';
import { isChannel } from './validate.ts';

export type SendOutcome =
  | { readonly kind: 'ack'; readonly ack: number; readonly errors: readonly { id: number; code: RefusalCode }[] }
  | { readonly kind: 'rate-limited'; readonly retryMs: number }
  | { readonly kind: 'unknown-session' };

/** Most sends of one session waiting at once; a client keeps one in flight (section 6.3). */
export const MAX_QUEUED_SENDS = 4;

export class Upstream {
  #hub: Hub;
  #options: ResolvedOptions;

  constructor(hub: Hub, options: ResolvedOptions) {
    this.#hub = hub;
    this.#options = options;
  }

  /** Applies one request's messages after every earlier request of the session is done. */
  send(session: Session, messages: readonly UpstreamMessage[], req: IncomingMessage): Promise<SendOutcome> {
    session.queuedSends++;
    return session.serialise(() => this.#apply(session, messages, req)).finally(() => {
      session.queuedSends--;
    });
  }

  async #apply(session: Session, messages: readonly UpstreamMessage[], req: IncomingMessage): Promise<SendOutcome> {
    if (session.closed) return { kind: 'unknown-session' };
    // Section 6.4: only messages that may be applied cost tokens; a retried duplicate is free.
    const fresh = messages.filter((message) => message.id > session.acked).length;
    if (fresh > 0) {
      const waitMs = session.bucket.take(fresh, performance.now());
      if (waitMs > 0) return { kind: 'rate-limited', retryMs: Math.max(waitMs, this.#options.retryMs) };
    }
    const errors: { id: number; code: RefusalCode }[] = [];
    for (const message of messages) {
      if (message.id <= session.acked) {
        // A duplicate: reported again when its refusal is still remembered, never re-applied.
        const refusal = session.refusalOf(message.id);
        if (refusal !== undefined) errors.push({ id: message.id, code: refusal });
        continue;
      }
      // A hole: stop here; the ack tells the client to re-send from acked + 1.
      if (message.id > session.acked + 1) break;
      const refusal = await this.#applyOne(session, message, req);
      // The server closed while a hook ran: nothing more is applied or acknowledged.
      if (session.isClosed()) return { kind: 'unknown-session' };
      session.applied(message.id, refusal);
      if (refusal !== undefined) errors.push({ id: message.id, code: refusal });
    }
    return { kind: 'ack', ack: session.acked, errors };
  }

  async #applyOne(session: Session, message: UpstreamMessage, req: IncomingMessage): Promise<RefusalCode | undefined> {
    const { channel } = message;
    if (!isChannel(channel)) return 'bad-channel';
    const options = this.#options;
    switch (message.type) {
      case 'subscribe': {
        if (session.subscriptions.has(channel)) return undefined;
        if (session.subscriptions.size >= options.maxChannelsPerSession) return 'too-many-channels';
        const context = { session, channel, req };
        if (!(await this.#allowed(options.authorizeSubscribe, context, 'authorizeSubscribe'))) return 'forbidden';
        // Checked again: another await may have passed since the first check.
        if (session.subscriptions.size >= options.maxChannelsPerSession) return 'too-many-channels';
        if (session.isClosed() || session.subscriptions.has(channel)) return undefined;
        this.#hub.subscribe(session, channel);
        observe(options, 'onSubscribe', () => options.onSubscribe?.(context));
        return undefined;
      }
      case 'unsubscribe': {
        if (!session.subscriptions.has(channel)) return undefined;
        this.#hub.unsubscribe(session, channel);
        observe(options, 'onUnsubscribe', () => options.onUnsubscribe?.({ session, channel, req, reason: 'unsubscribe' }));
        return undefined;
      }
      case 'publish': {
        const context = { session, channel, data: message.data, req };
        if (!(await this.#allowed(options.authorizePublish, context, 'authorizePublish'))) return 'forbidden';
        if (session.isClosed()) return undefined;
        if (options.onPublish === undefined) {
          // The default: broadcast to the channel, reusing the data serialised at validation.
          this.#hub.publishJson(channel, message.dataJson);
          return undefined;
        }
        try {
          await options.onPublish(context);
        } catch (error) {
          // The message counts as applied (a retry would not help); the application hears of it.
          options.onError(error, 'onPublish');
        }
        return undefined;
      }
    }
  }

  /** An absent hook allows; a hook allows only with `true`; a failing hook refuses (fail closed). */
  async #allowed<C>(hook: ((context: C) => Awaitable<boolean>) | undefined, context: C, where: string): Promise<boolean> {
    if (hook === undefined) return true;
    try {
      // Only `true` allows: a JavaScript hook returning a truthy non-boolean is a bug, not a yes.
      const verdict: unknown = await hook(context);
      return verdict === true;
    } catch (error) {
      this.#options.onError(error, where);
      return false;
    }
  }
}
