// Types for the compatibility report (plain JavaScript, run by node), for its test.
export interface CompatResult {
  transport: string;
  origin: string;
  works: boolean;
  firstFrameMs: number | null;
  latencyMs: number | null;
  streams: boolean | null;
  newRequests: number | null;
  error: string | null;
}
export interface EngineRun { name: string; version?: string; results: CompatResult[]; error?: string }
export const TRANSPORT_ORDER: readonly string[];
export const README_START: string;
export const README_END: string;
export const LEGEND: string;
export function engineLabel(name: string, version?: string): string;
export function compatTable(runs: readonly EngineRun[]): string;
export function compatibilityMarkdown(runs: readonly EngineRun[], context: { date: string; machine: string; screenshots: { label: string; path: string }[] }): string;
export function withReadmeTable(readme: string, runs: readonly EngineRun[], date: string): string;
