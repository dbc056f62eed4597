// Types of check-layers.mjs, for the unit test that runs it (test/unit/layers.test.ts).
export interface LayerRule {
  from: RegExp;
  mayImport(target: string): boolean;
  because: string;
}
export const LAYERED: string[];
export const RULES: LayerRule[];
export function checkLayers(root: string, dirs?: string[], rules?: LayerRule[]): string[];
