import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const ROOT = path.resolve(__dirname, '../..');
export const SCREENSHOTS = path.join(ROOT, 'test-results', 'screenshots');

/** Debian's chromium (installed by .ci/run); playwright-core downloads no browser. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Builds client/dist when a source changed (npm test already did; running one file directly may not have). */
export function ensureClientBuilt(): void {
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build-client.cjs')], { stdio: 'inherit' });
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

/** Saves a full-page screenshot of a key screen into test-results/screenshots/. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

let counter = 0;

/** Signs up through the real form; leaves the page wherever the app goes next. */
export async function signUpInBrowser(page: Page, name: string): Promise<string> {
  counter += 1;
  const email = `${name.toLowerCase()}-${process.pid}-${Date.now()}-${counter}@example.com`;
  await page.getByLabel('Display name').fill(name);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  return email;
}

/**
 * Records every value a progress bar shows on the page, so a test can prove
 * the bar advanced live (not just that it ended full).
 */
export async function recordProgress(page: Page): Promise<() => Promise<number[]>> {
  await page.evaluate(() => {
    const seen: number[] = [];
    (window as unknown as { __progress: number[] }).__progress = seen;
    const note = (el: Element) => {
      const value = Number(el.getAttribute('aria-valuenow'));
      if (seen[seen.length - 1] !== value) seen.push(value);
    };
    new MutationObserver((mutations) => {
      for (const m of mutations) {
        if (m.type === 'attributes' && (m.target as Element).getAttribute('role') === 'progressbar') note(m.target as Element);
        m.addedNodes.forEach((n) => n instanceof Element && n.querySelectorAll('[role=progressbar]').forEach(note));
      }
    }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuenow'] });
    // What the bars show already: a fast job or batch may be further along (or done) before this runs.
    document.querySelectorAll('[role=progressbar]').forEach(note);
  });
  return () => page.evaluate(() => (window as unknown as { __progress: number[] }).__progress);
}

/**
 * Keeps every WebSocket the context's pages open, so a test can drop the
 * network: `drop(page, true)` closes the page's sockets and, while it holds,
 * closes each new one as it opens (a network still down; graphql-ws keeps
 * retrying); `drop(page, false)` lets the next one through. `openSockets`
 * counts the page's open ones. Call before the pages are opened.
 */
export async function droppableSockets(context: BrowserContext): Promise<{
  drop: (page: Page, down: boolean) => Promise<void>;
  openSockets: (page: Page) => Promise<number>;
}> {
  await context.addInitScript(() => {
    const w = window as unknown as { __sockets: WebSocket[]; __wsHold: boolean; WebSocket: typeof WebSocket };
    const Native = w.WebSocket;
    w.__sockets = [];
    w.__wsHold = false;
    w.WebSocket = class extends Native {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols);
        w.__sockets.push(this);
        if (w.__wsHold) this.close();
      }
    };
  });
  return {
    drop: (page, down) => page.evaluate((hold) => {
      const w = window as unknown as { __sockets: WebSocket[]; __wsHold: boolean };
      w.__wsHold = hold;
      if (hold) for (const socket of w.__sockets) if (socket.readyState <= WebSocket.OPEN) socket.close(4000, 'dropped by the test');
    }, down),
    openSockets: (page) => page.evaluate(() =>
      (window as unknown as { __sockets: WebSocket[] }).__sockets.filter((socket) => socket.readyState === WebSocket.OPEN).length),
  };
}
