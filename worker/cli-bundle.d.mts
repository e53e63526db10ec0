// Types of worker/cli-bundle.mjs (plain JavaScript: it runs before anything could compile TypeScript).
export interface BundleOptions {
  /** The repository (default: the one this file is in). */
  root?: string;
  /** Entry point, relative to root (default worker/cli.ts). */
  entry?: string;
  /** Build even when the cached bundle is current. */
  rebuild?: boolean;
}

export function bundleFor(options?: BundleOptions): Promise<{ url: string; built: boolean }>;

export function cliBundle(): Promise<string>;
