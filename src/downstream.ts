// The downstream loop of one session (PROTOCOL.md §5, §7, §8; the connection makes one per session):
// opens the request on the current transport at `since`, reads its frames, holds it to its
// deadline (a stream's first frame within `probeTimeoutMs`, then its heartbeats; a poll's answer
// within holdMs), and follows its end: the next poll at once, what a `close` frame asks for, or a
// failure for the state machine to judge.
import type { Inbox } from './inbox.ts';
import type { Failure } from './errors.ts';
import { cacheBuster, check, type CloseFrame, type DownstreamFrame, type Handshake } from './protocol.ts';
import type { Reconnect } from './reconnect.ts';
import type { ConnectionOptions } from './types.ts';
import { fail, type Transport } from '../transports/contract.ts';

export interface DownstreamOptions {
  endpoint: string;
  options: ConnectionOptions;
  machine: Reconnect;
  /** Where the messages go, and where `since` is kept. */
  inbox: Inbox;
  /** The session, or the one continued (crosstab.ts): the loop starts at its `seq`, at its heartbeat. */
  session: Handshake;
  /** A `close` frame said the session is gone (§8.1 `handshake`). */
  expired: () => void;
}

export interface Downstream {
  /** Opens the downstream request on the current transport, at `since`, ending the one before. */
  open: () => void;
}

export function createDownstream({ endpoint, options, machine, inbox, session, expired }: DownstreamOptions): Downstream {
  const { platform, withCredentials = false, headers = {} } = options;
  const { timer, stop, succeeded } = machine;
  const { current, confirmed } = machine.negotiator;
  const bust = cacheBuster(platform);
  let { heartbeatMs } = session;
  inbox.since = session.seq;
  /**
   * From when a cut is one of a healthy request: retryMs after it proved itself, or at once once it
   * delivered a message (it made progress, so coming back at once is no tight loop, §8.2).
   */
  let healthyFrom = Infinity;
  const failed = (failure: Failure, transport: Transport) => {
    machine.failed({ ...failure, healthy: platform.Date.now() >= healthyFrom }, transport);
  };

  const tolerance = () => options.heartbeatToleranceMs ?? (options.heartbeatToleranceFactor ?? 2) * heartbeatMs;
  /** A stream's first frame, its heartbeats, or a poll's answer must come within `ms`. */
  const arm = (ms: number, transport: Transport) => {
    timer.set(ms, () => { failed(fail('timeout', confirmed() ? 'silent' : 'no first frame'), transport); });
  };

  function open() {
    const transport = current();
    if (!transport) return stop();
    const { streaming } = transport;
    const url = `${endpoint}/${transport.resource}?session=${session.session}&since=${inbox.since}&t=${bust()}`;
    machine.request((live) => {
      arm(streaming && !confirmed() ? options.probeTimeoutMs ?? 5000 : tolerance() + (streaming ? 0 : session.holdMs), transport);
      try {
        return transport.open(platform, { url, withCredentials, headers }, {
          // A transport calls nothing after close(), so these belong to the current request.
          onValues: (values) => { receive(values, transport, live); },
          onEnd: (failure) => {
            if (failure || streaming) failed(failure ?? fail('network', 'ended'), transport);
            else {
              // A poll answered (§5.3): the next one goes at once, with the new since.
              markProven();
              openPlanned();
            }
          },
        });
      } catch (error) {
        // The contract has open() report every failure to its listener: a throw is a bug.
        failed({ ...fail('bug', `${transport.name} threw in open: ${String(error)}`), cause: error }, transport);
        return { close: () => undefined };
      }
    });
  }

  /** A new request that follows a planned end (a poll's answer, a recycle): no backoff. */
  function openPlanned() {
    machine.negotiator.next?.();
    open();
  }

  function markProven() {
    machine.negotiator.confirm();
    healthyFrom = platform.Date.now() + session.retryMs;
    succeeded();
  }

  function receive(values: unknown[], transport: Transport, live: () => boolean) {
    if (transport.streaming && confirmed()) arm(tolerance(), transport);
    for (const value of values) {
      // A frame may end this request (close) or the application may close the client.
      if (!live()) return;
      const frame = check(value) as DownstreamFrame | undefined;
      if (!frame) return failed(fail('malformed', 'not a frame'), transport);
      if (frame.type == 'open') {
        heartbeatMs = frame.heartbeatMs;
        markProven();
        arm(tolerance(), transport);
      } else if (frame.type == 'msg') {
        if (inbox.deliver(frame.channel, frame.seq, frame.data)) healthyFrom = 0;
      } else if (frame.type == 'gap') inbox.gap(frame.from, frame.to);
      else if (frame.type == 'close') heedClose(frame);
    }
  }

  /** §8.1: what a `close` frame asks for. */
  function heedClose({ code, reconnect, retryMs }: CloseFrame) {
    options.logger('close', code);
    if (reconnect == 'now') openPlanned();
    else if (reconnect == 'handshake') expired();
    else if (reconnect == 'backoff') machine.retry('server-close', retryMs);
    // 'none': this request is stale, a newer one serves the session (§8.3). Drop it without
    // reconnecting; the watchdog stays armed, so if nothing serves us after all, we come back.
    else stop(true);
  }

  return { open };
}
