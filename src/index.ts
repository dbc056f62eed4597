// The package entry: the client, its core, errors, types and the six transports. Every export is
// free of side effects, so a bundler keeps only what an application imports.
export { CometClient, type CometClientOptions } from './client.ts';
export { CometClientCore, type CometClientCoreOptions, type CometEvents, type Subscription, type MessageHandler, type MessageInfo } from './core.ts';
export { CometError, type CometErrorType, type CometErrorInit } from './errors.ts';
export type { CometState, StateReason, GapEvent, ReconnectPolicy } from './connection.ts';
export { createNegotiator, inOrder, type TransportReason, type Negotiator, type NegotiatorFactory } from './negotiator.ts';
export { browserPlatform, type Platform, type KeyValueStorage } from './platform.ts';
export { createConnection, type ConnectionFactory } from './connection.ts';
export { sharedConnections, pooled } from './pool.ts';
export { acrossTabs, type TabPlatform } from './crosstab.ts';
export { oneByOne, type Batching, type OutboxItem, type OutboxLimits } from './outbox.ts';
export { batchMessages } from './batching.ts';
export { pageLifecycle, type Lifecycle } from './lifecycle.ts';
export type { Transport, TransportName, TransportFailure } from '../transports/contract.ts';
export { eventsource } from '../transports/eventsource.ts';
export { xhrStreaming } from '../transports/xhr-streaming.ts';
export { multipart } from '../transports/multipart.ts';
export { iframe } from '../transports/iframe.ts';
export { longPolling } from '../transports/long-polling.ts';
export { jsonp } from '../transports/jsonp.ts';
