// Shared by the browser tests: the page server (web/serve.ts), Debian's Chromium driven by
// playwright-core (never a downloaded browser), console-error collection, and what a missing
// browser means: with CI=true a failure, otherwise a skip that says why.

import { existsSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { type Browser, type Page, chromium } from 'playwright-core';
import { type StaticServer, startStaticServer } from '../web/serve.js';

export const CHROMIUM_PATH = '/usr/bin/chromium';
/** WebGPU on SwiftShader in headless Chromium, and no network traffic of its own. */
export const CHROMIUM_FLAGS = [
  '--enable-unsafe-webgpu',
  '--enable-unsafe-swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--enable-features=Vulkan',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** CI=true: a missing Chromium or WebGPU in the page fails the test instead of skipping it. */
export const browserRequired = process.env.CI === 'true';

export interface BrowserPage {
  page: Page;
  origin: string;
  /** Console errors and uncaught exceptions of the page so far. */
  errors: string[];
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Hide navigator.gpu from the page, as in a browser without WebGPU. */
  withoutWebGpu?: boolean;
}

/** Serves the repository and opens `path` in Chromium; a string saying why when Chromium is not there. */
export async function openPage(path: string, { withoutWebGpu = false }: OpenOptions = {}): Promise<BrowserPage | string> {
  if (!existsSync(CHROMIUM_PATH)) return `no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium)`;
  const server: StaticServer = await startStaticServer();
  let browser: Browser;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: CHROMIUM_FLAGS,
      env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' },
    });
  } catch (error) {
    await server.close();
    return `Chromium at ${CHROMIUM_PATH} did not start: ${(error as Error).message.split('\n')[0]}`;
  }
  const page = await browser.newPage({ viewport: { width: 1320, height: 1000 } });
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console.error: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  if (withoutWebGpu) await page.addInitScript(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined }));
  await page.goto(server.origin + path);
  return {
    page,
    origin: server.origin,
    errors,
    close: async () => {
      await browser.close();
      await server.close();
    },
  };
}

/** Fails when the browser is required (CI=true), otherwise skips the test with the reason. */
export function skipOrFail(t: TestContext, reason: string): void {
  if (browserRequired) throw new Error(`${reason} (CI=true: the browser tests must run)`);
  t.skip(reason);
}

/** Whether the page has WebGPU, and a reason when it has not. */
export async function pageWebGpu(page: Page): Promise<string | null> {
  return page.evaluate(async () => {
    if (!('gpu' in navigator)) return 'the page has no navigator.gpu';
    const adapter = await navigator.gpu.requestAdapter();
    return adapter ? null : 'navigator.gpu.requestAdapter() gave no adapter';
  });
}
