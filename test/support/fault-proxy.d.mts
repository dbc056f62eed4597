// Types for the fault proxy (plain JavaScript so the browser runner's config can load it).
export type FaultMode = 'pass' | 'stall' | 'buffer' | 'chaos';
export interface FaultProxy {
  readonly port: number;
  readonly stats: { connections: number; cuts: number; maxConcurrent: number };
  readonly mode: FaultMode;
  setMode(mode: FaultMode): void;
  cutAll(): void;
  openConnections(): number;
  close(): Promise<void>;
}
export function seededRandom(seed: number): () => number;
export function responseSplitter(onResponse: (response: Buffer) => void): { push(bytes: Buffer): void; end(): void };
export function startFaultProxy(options: { targetPort: number; targetHost?: string; seed?: number; chaosCutMs?: [number, number] }): Promise<FaultProxy>;
