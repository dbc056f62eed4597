// PROTOCOL.md §10 in each engine: a page of another origin that includes the handshake by script tag
// (the JSONP hijack, or cross-site script inclusion) gets no session carrying the user's credentials,
// whatever cookie the engine sends along: from another port of the same site (`localhost:B` against
// `localhost`) and from another site (`127.0.0.1:B`), with a SameSite=Lax and a SameSite=None
// cookie. And the legitimate script transports keep working with credentials: same-origin, and from
// a listed origin on either kind of site. The fixture is test/support/hijack-fixture.mjs.
import { expect } from 'chai';
import { CometClient, type TransportName } from '../../src/index.ts';
import { isWebKit, sleep, waitFor } from './support.ts';

const engine = navigator.userAgent.includes('Firefox') ? 'firefox' : isWebKit ? 'webkit' : 'chromium';

interface HijackEnv { endpointPath: string; allowedPort: number; foreignPort: number }

interface HandshakeRecord {
  t: string | null;
  script: boolean;
  /** The user named by the cookie that arrived with the request, before the server removed it. */
  cookieUser: string | null;
  secFetchSite: string | null;
  referer: string | null;
  origin: string | null;
  info?: { via: string; pageOrigin?: string; proof?: string; credentials: boolean };
  principal?: { user: string };
  session?: string;
}

interface Reply { nonce: string; [key: string]: unknown }

let env: HijackEnv;
const victim = () => `${location.origin}${env.endpointPath}`;
const nonceOf = () => Math.random().toString(36).slice(2, 12);

async function records(): Promise<HandshakeRecord[]> {
  return (await (await fetch('/__fixture/hijack/handshakes')).json()) as HandshakeRecord[];
}

function publish(channel: string, index: number): Promise<Response> {
  return fetch(`/__fixture/hijack/publish?channel=${encodeURIComponent(channel)}&index=${index}`);
}

type CookieKind = 'lax' | 'none';
const COOKIE: Readonly<Record<CookieKind, string>> = {
  lax: 'hj_lax=alice; SameSite=Lax; path=/',
  // Secure is required with None; engines treat http://localhost as a secure context, or refuse it.
  none: 'hj_none=alice; SameSite=None; Secure; path=/',
};

function clearCookies(): void {
  for (const name of ['hj_lax', 'hj_none']) {
    document.cookie = `${name}=; path=/; max-age=0`;
    document.cookie = `${name}=; path=/; max-age=0; SameSite=None; Secure`;
  }
}

/** Sets the user's cookie of one kind; false when the engine refuses that kind on http://localhost. */
function login(kind: CookieKind): boolean {
  clearCookies();
  document.cookie = COOKIE[kind];
  return document.cookie.includes(`hj_${kind}=alice`);
}

/** Loads `url` in a frame and collects what it posts with its nonce; `close` removes the frame and stops listening. */
function framed(url: string, nonce: string): { replies: Reply[]; close: () => void; frame: HTMLIFrameElement } {
  const replies: Reply[] = [];
  const listen = (event: MessageEvent) => {
    const data = event.data as Reply | undefined;
    if (data?.nonce === nonce) replies.push(data);
  };
  addEventListener('message', listen);
  const frame = document.createElement('iframe');
  frame.src = url;
  document.body.append(frame);
  return {
    replies,
    frame,
    close: () => {
      removeEventListener('message', listen);
      frame.remove();
    },
  };
}

interface Attack {
  handshake: { value?: { session?: string }; error?: string };
  subscribe?: { value?: { errors?: unknown[] }; error?: string };
  record: HandshakeRecord;
}

/** The foreign page at `origin` includes the victim's handshake and subscribes to the user's channel with what it got. */
async function attackFrom(origin: string): Promise<Attack> {
  const nonce = nonceOf();
  const { replies, close } = framed(`${origin}/attacker.html?victim=${encodeURIComponent(victim())}&nonce=${nonce}`, nonce);
  try {
    await waitFor(() => replies.length > 0, `the page at ${origin}`, 20000);
  } finally {
    close();
  }
  const record = (await records()).find(({ t }) => t === nonce);
  expect(record, `the handshake from ${origin} reached the server`).to.not.equal(undefined);
  return { ...(replies[0] as unknown as Omit<Attack, 'record'>), record: record! };
}

describe(`script transports cannot be hijacked (${engine})`, () => {
  before(async () => {
    env = ((await (await fetch('/__fixture/env')).json()) as { hijack: HijackEnv }).hijack;
  });
  after(clearCookies);

  const sameSite = () => `http://localhost:${env.foreignPort}`;
  const crossSite = () => `http://127.0.0.1:${env.foreignPort}`;

  for (const kind of ['lax', 'none'] as const) {
    for (const [label, origin] of [['another port of the same site', sameSite], ['another site', crossSite]] as const) {
      it(`a page of ${label} gets no session with the user's ${kind === 'lax' ? 'SameSite=Lax' : 'SameSite=None'} cookie`, async () => {
        const allowed = login(kind);
        const attack = await attackFrom(origin());
        const { record } = attack;
        console.log(`[hijack] ${engine} ${kind} cookie ${allowed ? 'set' : 'refused by the engine'}, page of ${label}: ` +
          `cookie ${record.cookieUser ? 'sent' : 'not sent'}, Sec-Fetch-Site ${record.secFetchSite}, Referer ${record.referer}, Origin ${record.origin}, ` +
          `told ${JSON.stringify(record.info)}, subscribe ${JSON.stringify(attack.subscribe)}`);
        if (record.origin !== null) {
          // Chromium sends Origin with a cross-site script request to localhost: refused outright (403).
          expect(attack.handshake.error, 'the refused handshake').to.equal('did not load');
          expect(record.principal, 'no session').to.equal(undefined);
        } else {
          // The server answers (an anonymous session is no secret), but nothing in it is the user's.
          expect(attack.handshake.value?.session, 'an anonymous session').to.be.a('string');
          expect(record.info).to.deep.include({ via: 'script', credentials: false });
          expect(record.info?.proof).to.equal(undefined);
          expect(record.principal, 'the session\'s principal').to.deep.equal({ user: 'anonymous' });
          expect(attack.subscribe?.value?.errors, 'the user\'s private channel').to.deep.equal([{ id: 1, code: 'forbidden' }]);
        }
        if (kind === 'lax' && label === 'another port of the same site') {
          // The attack is live: the engine did send the user's cookie, which the old server accepted.
          expect(record.cookieUser, 'the Lax cookie went along to the same site').to.equal('alice');
          expect(record.secFetchSite).to.be.oneOf([null, 'same-site']);
        }
      });
    }
  }

  it('the own origin\'s script handshake carries the user', async () => {
    expect(login('lax')).to.equal(true);
    const nonce = nonceOf();
    const value = await new Promise<unknown>((resolve, reject) => {
      const name = `own${nonce}`;
      (window as unknown as Record<string, unknown>)[name] = resolve;
      const script = document.createElement('script');
      script.src = `${victim()}/handshake?v=1&t=${nonce}&callback=${name}`;
      script.onerror = () => { reject(new Error('the handshake script did not load')); };
      document.head.append(script);
    });
    expect((value as { session?: string }).session).to.be.a('string');
    const record = (await records()).find(({ t }) => t === nonce)!;
    expect(record.info).to.deep.include({ via: 'script', proof: 'same-origin', credentials: true });
    expect(record.principal).to.deep.equal({ user: 'alice' });
  });

  for (const transport of ['jsonp', 'iframe'] as TransportName[]) {
    it(`${transport}, same-origin: the user's channel is delivered`, async () => {
      expect(login('lax')).to.equal(true);
      const got: number[] = [];
      const client = new CometClient(victim(), { transports: [transport], shareAcrossTabs: false, reconnect: { initialDelayMs: 20, maxDelayMs: 250 } });
      try {
        client.subscribe('private/alice', (data) => { got.push((data as { index: number }).index); });
        await waitFor(() => client.state === 'open', 'the client to open');
        for (let index = 1; got.length === 0 && index < 60; index += 1) {
          await publish('private/alice', index);
          await sleep(250);
        }
        expect(got.length, 'messages on the user\'s channel').to.be.greaterThan(0);
      } finally {
        client.close();
      }
    });

    for (const [label, host] of [['same site', 'localhost'], ['another site', '127.0.0.1']] as const) {
      it(`${transport}, a listed origin on the ${label}: the handshake is proven and the client works`, async () => {
        const sent = login(label === 'same site' ? 'lax' : 'none');
        const origin = `http://${host}:${env.allowedPort}`;
        const nonce = nonceOf();
        const before = (await records()).length;
        const publishing = { on: true };
        const feed = (async () => {
          for (let index = 1; publishing.on && index < 80; index += 1) {
            await publish('public', index);
            await publish('private/alice', index);
            await sleep(250);
          }
        })();
        const page = framed(`${origin}/app.html?transport=${transport}&endpoint=${encodeURIComponent(victim())}&nonce=${nonce}`, nonce);
        const { replies } = page;
        const on = (channel: string) => replies.filter(({ kind, detail }) => kind === 'message' && (detail as { channel: string }).channel === channel);
        try {
          await waitFor(() => on('public').length > 0, `messages in the page at ${origin}`, 20000);
          // Time for the user's channel too, or for its refusal.
          await waitFor(() => on('private/alice').length > 0 || replies.some(({ kind }) => kind === 'error'), 'the user\'s channel, or its refusal', 5000).catch(() => undefined);
        } finally {
          publishing.on = false;
          await feed;
          page.frame.contentWindow?.postMessage('close', '*');
          page.close();
        }
        const record = (await records()).slice(before).find(({ script, referer }) => script && referer?.startsWith(origin));
        expect(record, 'a script handshake from the listed page').to.not.equal(undefined);
        expect(record!.info).to.deep.include({ via: 'script', proof: 'allowed-origin', credentials: true, pageOrigin: origin });
        const privateMessages = on('private/alice');
        console.log(`[hijack] ${engine} ${transport} from ${origin}: cookie ${sent ? 'set' : 'refused'}, ${record!.cookieUser ? 'sent' : 'not sent'}; ` +
          `principal ${record!.principal?.user}; ${privateMessages.length} messages on the user's channel; ${JSON.stringify(replies.filter(({ kind }) => kind === 'error'))}`);
        // The user is whoever the engine's cookie says: a listed page's handshake keeps its credentials.
        expect(record!.principal).to.deep.equal({ user: record!.cookieUser ?? 'anonymous' });
        if (record!.cookieUser === 'alice') expect(privateMessages.length, 'messages on the user\'s channel').to.be.greaterThan(0);
        if (label === 'same site') expect(record!.cookieUser, 'the Lax cookie goes to the same site').to.equal('alice');
      });
    }
  }
});
