// Types for the fault proxy (plain JavaScript so the browser runner's config can load it).
export type FaultMode = 'pass' | 'stall' | 'buffer' | 'chaos';
export interface FaultProxy {
  readonly port: number;
  readonly stats: { connections: number; cuts: number; stalls: number; maxConcurrent: number };
  readonly mode: FaultMode;
  setMode(mode: FaultMode): void;
  cutAll(): void;
  /** Silences every open connection for good: no more answer bytes, no close. */
  stallOpen(): void;
  openConnections(): number;
  close(): Promise<void>;
}
export function responseSplitter(onResponse: (response: Buffer) => void): { push(bytes: Buffer): void; end(): void };
export function startFaultProxy(options: { targetPort: number; targetHost?: string; seed?: number; chaosCutMs?: [number, number]; chaosCutBytes?: [number, number] }): Promise<FaultProxy>;
