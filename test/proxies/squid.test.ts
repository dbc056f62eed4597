// Squid 5.7 (Debian) as a forward proxy: the browser is configured to send everything through it,
// loopback included (Chromium: `<-loopback>` in its bypass list; Firefox:
// network.proxy.allow_hijacking_localhost), and every run checks that requests arrived with Squid's
// Via header. Started by the test on a free loopback port (test/proxies/middlebox.ts), never as a service.
import { describe } from 'node:test';
import { scenarioTests } from './harness.ts';

describe('Squid 5.7 as a forward proxy', () => {
  scenarioTests('squid', { negotiated: 'eventsource' });
});
