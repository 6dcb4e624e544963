import { randomUUID } from 'node:crypto';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';
import { gqlData, waitFor } from '../support/graphql';
import { ensureClientBuilt, launchChromium, recordProgress, screenshot, signUpInBrowser } from './browser';

// The real thing: the API serves the built SPA, Debian's chromium drives it.
let app: TestApp;
let browser: Browser;
const contexts: BrowserContext[] = [];
/** Every Content-Security-Policy violation any page reported (checked empty after each test). */
const cspViolations: string[] = [];

async function newContext(viewport = { width: 1280, height: 900 }): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport, baseURL: app.url });
  context.setDefaultTimeout(20_000);
  // The page reports violations as events; Chromium also logs them ("Refused to … Content Security Policy").
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
  });
  context.on('console', (message) => {
    if (/CSP violation|Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
  });
  contexts.push(context);
  return context;
}

beforeAll(async () => {
  ensureClientBuilt();
  app = await startTestApp({ ATELIER_PREVIEW_EVERY: '2', ATELIER_ADMIN_EMAIL: 'root@example.com', ATELIER_ADMIN_PASSWORD: 'the admin password' });
  browser = await launchChromium();
});
afterEach(() => {
  expect(cspViolations, 'the client must run under its Content-Security-Policy').toEqual([]);
});
afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await app?.close();
});

describe('the client in a real browser', () => {
  it('is served with its Content-Security-Policy and the other security headers', async () => {
    const res = await fetch(`${app.url}/history`, { headers: { accept: 'text/html' } });
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const page = await (await newContext()).newPage();
    await page.goto('/signin');
    await page.getByRole('heading', { name: 'Sign in to Atelier' }).waitFor();
    // The policy is live: an inline script injected into the page is refused (and reported), proving the check below can fail.
    const blocked = await page.evaluate(() => new Promise<boolean>((resolve) => {
      document.addEventListener('securitypolicyviolation', () => resolve(true), { once: true });
      const script = document.createElement('script');
      script.textContent = 'window.__inlineRan = true';
      document.body.append(script);
      setTimeout(() => resolve(false), 2000);
    }));
    expect(blocked).toBe(true);
    expect(await page.evaluate(() => (window as unknown as { __inlineRan?: boolean }).__inlineRan)).toBeUndefined();
    await expect.poll(() => cspViolations.length).toBeGreaterThan(0); // the after-each check sees violations…
    cspViolations.length = 0; // …and this one was on purpose
  });

  it('two teammates: A invites B to a session; B watches A’s job progress and its image appear live', async () => {
    const a = await (await newContext()).newPage();
    await a.goto('/signup');
    await expect(a.getByRole('heading', { name: 'Create your Atelier account' }).isVisible()).resolves.toBe(true);
    await screenshot(a, '01-sign-up');
    await signUpInBrowser(a, 'Ada');
    await a.getByRole('heading', { name: 'Generate' }).waitFor();

    await a.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sessions' }).click();
    await a.getByLabel('Session name').fill('Spring moodboard');
    await a.getByRole('button', { name: 'Create session' }).click();
    await a.getByRole('heading', { name: 'Spring moodboard' }).waitFor();
    await a.getByLabel('Role').selectOption('COLLABORATOR');
    await a.getByRole('button', { name: 'Create invite link' }).click();
    const inviteLink = await a.getByLabel(/^Invite link/).inputValue();
    expect(inviteLink).toMatch(/\/join\/.+/);

    // A's copy of the session, fetched again when B joins, answers late: it was read before B came online
    // and arrives after B's PRESENCE event, which it must not undo.
    await a.route('**/graphql', async (route) => {
      if (route.request().postDataJSON()?.operationName !== 'Session') return route.continue();
      const response = await route.fetch();
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await route.fulfill({ response });
    });

    // B arrives through the link on a phone-sized screen, signs up, and joins.
    const b = await (await newContext({ width: 390, height: 844 })).newPage();
    await b.goto(inviteLink);
    await b.getByRole('link', { name: 'Create an account' }).click();
    await signUpInBrowser(b, 'Bea');
    await b.getByRole('button', { name: 'Join session' }).click();
    await b.getByRole('heading', { name: 'Spring moodboard' }).waitFor();
    await b.getByRole('heading', { name: 'Live feed' }).waitFor();
    // Presence reaches A without a reload.
    await a.locator('.members li', { hasText: 'Bea' }).locator('.presence.online').waitFor();
    await screenshot(a, '02-session-room-owner');
    const progressSeen = await recordProgress(b);

    await a.getByRole('link', { name: 'Generate in this session' }).click();
    await expect.poll(() => a.getByLabel('Share live in session').inputValue()).not.toBe('');
    await a.getByLabel('Prompt', { exact: true }).fill('a lighthouse on a cliff at dusk, oil painting');
    await a.getByLabel('Common sizes').selectOption('512x512');
    await a.getByLabel('Steps').fill('30');
    await a.getByLabel('Seed', { exact: true }).fill('1234');
    await a.getByRole('button', { name: 'Generate', exact: true }).click();

    // B sees the job arrive, its bar move and its image, without reloading.
    const card = b.locator('.job-card', { hasText: 'a lighthouse on a cliff' });
    await card.waitFor();
    await b.locator('[role=progressbar]').first().waitFor({ state: 'attached' }).catch(() => undefined);
    await screenshot(b, '03-teammate-watching');
    const image = card.locator('img[alt^="Generated image"]');
    await image.waitFor();
    await expect.poll(() => image.evaluate((img) => (img as HTMLImageElement).naturalWidth)).toBe(512);
    const values = await progressSeen();
    expect(values.filter((v) => v > 0 && v < 100).length, `progress values seen by B: ${values.join(', ')}`).toBeGreaterThanOrEqual(2);
    expect([...values].sort((x, y) => x - y)).toEqual(values);
    await expect(card.getByText('Bea').count()).resolves.toBe(0);
    await expect(card.getByText('Ada').isVisible()).resolves.toBe(true);
    await screenshot(b, '04-teammate-image-arrived');

    // A's own card ended with the image and the parameters, and can reuse them.
    const mine = a.locator('.job-card', { hasText: 'a lighthouse on a cliff' }).first();
    await mine.locator('img[alt^="Generated image"]').waitFor();
    await screenshot(a, '05-generate-done');
    await mine.getByRole('button', { name: 'Use these settings again' }).click();
    await expect(a.getByLabel('Seed', { exact: true }).inputValue()).resolves.toBe('1234');
    await expect(a.getByLabel('Width (px)').inputValue()).resolves.toBe('512');
  }, 90_000);

  it('sign-up and sign-in check every field in the browser first: all flagged at once, the first focused, nothing sent', async () => {
    const page = await (await newContext()).newPage();
    const sent: string[] = [];
    page.on('request', (request) => {
      const operation = request.method() === 'POST' ? request.postDataJSON()?.operationName : undefined;
      if (operation === 'Register' || operation === 'Login') sent.push(operation);
    });
    const errorOf = (id: string) => page.locator(`#${id}-error`);
    const focused = () => page.evaluate(() => document.activeElement?.id);
    const flagged = async (id: string, text: string | RegExp) => {
      await expect.poll(() => errorOf(id).textContent(), { message: id }).toMatch(text);
      await expect(page.locator(`#${id}`).getAttribute('aria-invalid'), id).resolves.toBe('true');
      await expect(page.locator(`#${id}`).getAttribute('aria-describedby'), id).resolves.toContain(`${id}-error`);
    };
    await page.goto('/signup');
    await page.getByRole('heading', { name: 'Create your Atelier account' }).waitFor();

    // Empty: the email and the password both flagged (the display name is optional).
    await page.getByRole('button', { name: 'Create account' }).click();
    await flagged('email', /email address/);
    await flagged('password', /at least 8 characters/);
    await expect(errorOf('displayName').count()).resolves.toBe(0);
    await expect(focused()).resolves.toBe('email');
    await screenshot(page, '01-sign-up-checked');

    // Each rule the server applies, all at once: a display name over 80 characters, an email without a domain, a short password.
    await page.getByLabel('Display name').fill('U'.repeat(81));
    await page.getByLabel('Email').fill('uma@example');
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Create account' }).click();
    await flagged('displayName', /at most 80 characters/);
    await flagged('email', /valid email address/);
    await flagged('password', /at least 8 characters/);
    await expect(focused()).resolves.toBe('displayName');
    await page.getByLabel('Password').fill('p'.repeat(257));
    await page.getByRole('button', { name: 'Create account' }).click();
    await flagged('password', /at most 256 characters/);
    expect(sent).toEqual([]);

    // Right: one request, and in.
    await page.getByLabel('Display name').fill('Uma');
    await page.getByLabel('Email').fill(`uma-${process.pid}-${Date.now()}@example.com`);
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    expect(sent).toEqual(['Register']);

    // Sign-in: both empty fields flagged, nothing sent.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.goto('/signin');
    await page.getByRole('heading', { name: 'Sign in to Atelier' }).waitFor();
    await page.getByRole('button', { name: 'Sign in' }).click();
    await flagged('email', /email address/);
    await flagged('password', /password/i);
    await expect(focused()).resolves.toBe('email');
    await page.getByLabel('Email').fill('root@example.com');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => errorOf('email').count()).toBe(0);
    await flagged('password', /password/i);
    await expect(focused()).resolves.toBe('password');
    expect(sent).toEqual(['Register']);
    await page.getByLabel('Password').fill('the admin password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    expect(sent).toEqual(['Register', 'Login']);
  });

  it('a FREE user asking for 1024×1024 sees the limit explained', async () => {
    const page = await (await newContext()).newPage();
    await page.goto('/signup');
    await signUpInBrowser(page, 'Finn');
    await page.getByText('Your FREE tier').waitFor();
    await page.getByLabel('Prompt', { exact: true }).fill('a very large castle');
    await page.getByLabel('Common sizes').selectOption('1024x1024');
    // Told before asking, on both sides…
    await expect(page.locator('#width-error').textContent()).resolves.toContain('768 × 768');
    await expect(page.locator('#height-error').textContent()).resolves.toContain('768 × 768');
    await expect(page.getByLabel('Height (px)').getAttribute('aria-invalid')).resolves.toBe('true');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    // …and the server's refusal is explained with the limit, on the field (once: not again below the form).
    await expect.poll(() => page.locator('#width-error').textContent()).toMatch(/at most 768 × 768 pixels/);
    await expect(page.getByLabel('Width (px)').getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(page.locator('#generate-error').count()).resolves.toBe(0);
    await screenshot(page, '06-free-tier-limit');
  });

  it('a refusal on a field clears once that field is edited; an emptied number field stays empty', async () => {
    const page = await (await newContext()).newPage();
    await page.goto('/signup');
    await signUpInBrowser(page, 'Sol');
    await page.getByText('Your FREE tier').waitFor();
    await page.getByLabel('Prompt', { exact: true }).fill('a quiet harbour');
    await page.getByLabel('Steps').fill('31');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    const stepsError = page.locator('#steps-error');
    await expect.poll(() => stepsError.textContent()).toMatch(/allows at most 30 steps per job/);
    await expect(page.locator('#generate-error').count()).resolves.toBe(0);

    // Fixed: the refusal goes with the value it was about.
    await page.getByLabel('Steps').fill('20');
    await expect.poll(() => stepsError.count()).toBe(0);
    await expect(page.getByLabel('Steps').getAttribute('aria-invalid')).resolves.toBe('false');
    // A later mistake elsewhere is told as itself, and the old one does not come back.
    await page.getByLabel('Width (px)').fill('1024');
    await expect(page.locator('#width-error').textContent()).resolves.toContain('768 × 768');
    await expect(stepsError.count()).resolves.toBe(0);

    // Emptied, a number field is empty (not 0) and asks for a value; nothing is submitted.
    await page.getByLabel('Width (px)').fill('512');
    await page.getByLabel('Steps').fill('');
    await expect(page.getByLabel('Steps').inputValue()).resolves.toBe('');
    await expect(stepsError.textContent()).resolves.toMatch(/Enter a number/);
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('steps');
    await expect(page.locator('.job-card').count()).resolves.toBe(0);
  });

  it('the open-jobs count goes down as jobs end, and the "too many open jobs" refusal goes with it', async () => {
    // Someone else's long job holds the worker, so this user's jobs wait in the queue until it is cancelled.
    const other = await factory.user(app, { tier: 'ENTERPRISE' });
    const blocker = await factory.job(app, other, { width: 1024, height: 1024, steps: 150, count: 8 });
    const cancel = (id: string, token: string) => gqlData(app.url, 'mutation($id: ID!) { cancelJob(id: $id) { id } }', { id }, token);
    try {
      await waitFor(async () => (await gqlData<any>(app.url, 'query($id: ID!) { job(id: $id) { status } }', { id: blocker.id }, other.token)).job.status === 'PROCESSING');
      const page = await (await newContext()).newPage();
      await page.goto('/signup');
      await signUpInBrowser(page, 'Olga');
      const open = page.locator('.usage-list li', { hasText: 'jobs running or queued' });
      await expect.poll(() => open.textContent()).toBe('0 of 2 jobs running or queued');
      await page.getByLabel('Prompt', { exact: true }).fill('a small boat');
      await page.getByLabel('Common sizes').selectOption('256x256');
      await page.getByLabel('Steps').fill('4');
      const generate = page.getByRole('button', { name: 'Generate', exact: true });
      await generate.click();
      await expect.poll(() => open.textContent()).toBe('1 of 2 jobs running or queued');
      await generate.click();
      await expect.poll(() => open.textContent()).toBe('2 of 2 jobs running or queued');
      await generate.click();
      const refusal = page.locator('#generate-error');
      await refusal.waitFor();
      // Both wait in line behind the other user's job, so no time is named (docs/limits.md, "Refusals").
      expect(await refusal.textContent()).toMatch(/You have 2 jobs queued or running.*wait for one to finish\. Ask an admin/);
      await screenshot(page, '10-too-many-open-jobs');

      // One is cancelled: the count drops and the refusal no longer holds, without a reload.
      await page.locator('.job-card').first().getByRole('button', { name: 'Cancel' }).click();
      await expect.poll(() => open.textContent()).toBe('1 of 2 jobs running or queued');
      await expect.poll(() => refusal.count()).toBe(0);
      // The other completes once the worker is free.
      await cancel(blocker.id, other.token);
      await page.locator('.job-card img[alt^="Generated image"]').first().waitFor({ timeout: 60_000 });
      await expect.poll(() => open.textContent()).toBe('0 of 2 jobs running or queued');
    } finally {
      await cancel(blocker.id, other.token).catch(() => undefined);
    }
  }, 90_000);

  it('a built-in preset is fitted to a FREE tier when it lands in Generate, and Generate accepts it', async () => {
    const page = await (await newContext()).newPage();
    await page.goto('/signup');
    await signUpInBrowser(page, 'Pia');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Presets' }).click();
    await page.getByRole('button', { name: 'Use Oil Painting in Generate' }).click();
    await page.getByRole('heading', { name: 'Generate' }).waitFor();
    // 896 × 1152 and 40 steps, scaled to 768 high (aspect kept, multiples of 8) and 30 steps.
    await expect(page.getByLabel('Width (px)').inputValue()).resolves.toBe('592');
    await expect(page.getByLabel('Height (px)').inputValue()).resolves.toBe('768');
    await expect(page.getByLabel('Steps').inputValue()).resolves.toBe('30');
    await expect(page.locator('#preset-fitted').textContent()).resolves
      .toBe('The preset was fitted to your FREE tier: 592 × 768 instead of 896 × 1152, 30 steps instead of 40.');
    await expect(page.locator('.field-error').count()).resolves.toBe(0);
    // Picked in Generate, a preset is fitted the same way.
    await page.getByLabel('Style preset').selectOption({ label: 'Anime Style' });
    await expect(page.getByLabel('Width (px)').inputValue()).resolves.toBe('520');
    await expect(page.getByLabel('Height (px)').inputValue()).resolves.toBe('768');
    await expect(page.locator('.field-error').count()).resolves.toBe(0);
    await screenshot(page, '11-preset-fitted');

    await page.getByLabel('Prompt', { exact: true }).fill('a fox in the snow');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    const current = page.getByRole('region', { name: 'Current job' });
    await current.waitFor();
    await expect(page.locator('#generate-error').count()).resolves.toBe(0);
    await expect(current.textContent()).resolves.toContain('520 × 768');
    await current.getByRole('button', { name: 'Cancel' }).click().catch(() => undefined); // frees the worker for the tests after
  });

  it('API keys: the secret is shown once with a working curl example; keys are listed and revoked', async () => {
    const context = await newContext();
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    const page = await context.newPage();
    await page.goto('/signup');
    await signUpInBrowser(page, 'Ivan');
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.getByText('No API keys yet').waitFor();
    await page.getByLabel('Name').fill('render farm');
    await page.getByRole('button', { name: 'Create key' }).click();
    const secret = await page.getByLabel('Secret').inputValue();
    expect(secret).toMatch(/^atl_/);
    await expect(page.getByLabel('Example curl command').textContent()).resolves.toContain(`authorization: Bearer ${secret}`);
    await page.getByRole('button', { name: 'Copy secret' }).click();
    await expect(page.evaluate(() => navigator.clipboard.readText())).resolves.toBe(secret);
    await screenshot(page, '07-api-key-created');

    const res = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
      body: JSON.stringify({ query: '{ me { displayName } }' }),
    });
    expect(((await res.json()) as { data: { me: { displayName: string } } }).data.me.displayName).toBe('Ivan');

    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Revoke render farm' }).click();
    await page.getByRole('row', { name: /render farm/ }).getByText('Revoked').waitFor();
  });

  it('an admin sees failed and successful sign-ins in the audit log', async () => {
    const page = await (await newContext()).newPage();
    await page.goto('/signin');
    await page.getByLabel('Email').fill('root@example.com');
    await page.getByLabel('Password').fill('not the admin password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    // The server's own words: a refused sign-in is not an ended session.
    await expect.poll(() => page.getByRole('alert').textContent()).toBe('Email or password is incorrect');
    await page.getByLabel('Password').fill('the admin password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).click();
    const audit = page.getByRole('region', { name: 'Audit log' });
    await audit.getByRole('row', { name: /SIGN_IN_SUCCEEDED/ }).first().waitFor();
    await expect(audit.getByRole('row', { name: /SIGN_IN_FAILED.*WRONG_PASSWORD/ }).count()).resolves.toBeGreaterThanOrEqual(1);
    await page.getByLabel('Show').selectOption('SIGN_IN_FAILED');
    await expect.poll(() => audit.getByRole('row', { name: /SIGN_IN_SUCCEEDED/ }).count()).toBe(0);
    await audit.getByRole('row', { name: /root@example\.com/ }).first().waitFor();
    await screenshot(page, '09-admin-audit-log');
  });

  it('is usable from the keyboard, survives a reload on a deep link, and shows empty states', async () => {
    const page = await (await newContext()).newPage();
    await page.goto('/signup');
    // The app must have rendered before the first Tab means anything.
    await page.getByRole('heading', { name: 'Create your Atelier account' }).waitFor();
    await page.keyboard.press('Tab');
    await expect(page.evaluate(() => document.activeElement?.textContent)).resolves.toBe('Skip to content');
    await signUpInBrowser(page, 'Kim');
    await page.goto('/history');
    await page.getByText('No jobs yet').waitFor();
    await page.reload();
    await page.getByRole('heading', { name: 'History' }).waitFor();
    // A non-API path that is not a client route gets the SPA's own not-found page.
    await page.goto('/no/such/page');
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    // API paths are never swallowed by the SPA fallback.
    const health = await fetch(`${app.url}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok' });
    await page.goto('/sessions');
    await page.getByText('You are not in any session yet').waitFor();
    await screenshot(page, '08-sessions-empty');
  });

  it('a link whose id is no UUID shows the page\'s "not found", as an unknown id does, on every page named by an id', async () => {
    const page = await (await newContext()).newPage();
    await page.goto('/signup');
    await signUpInBrowser(page, 'Noor');
    const pages = [
      ['/jobs', 'Job not found'], ['/batches', 'Batch not found'], ['/albums', 'Album not found'],
      ['/sessions', 'Session not found'], ['/training/runs', 'Training run not found'],
    ] as const;
    for (const [base, notFound] of pages) {
      /** What the page's main area says once it has answered: its not-found, or an error in its place. */
      const shown = async (id: string) => {
        await page.goto(`${base}/${id}`);
        await page.getByText(notFound, { exact: true }).or(page.getByRole('alert')).first().waitFor();
        return page.getByRole('main').innerText();
      };
      const unknown = await shown(randomUUID());
      // Soft: a page that fails leaves the others to be checked too.
      expect.soft(unknown, `${base}/<unknown id>`).toContain(notFound);
      // The API refuses such an id as BAD_USER_INPUT on id (docs/errors.md, "Ids"); the page reads it as not found.
      expect.soft(await shown('abc'), `${base}/abc`).toBe(unknown);
    }
  });

  it('a token that stopped working lands on Sign in with a notice; a wrong password there is told as such', async () => {
    const page = await (await newContext()).newPage();
    await page.goto('/signup');
    const email = await signUpInBrowser(page, 'Tess');
    const token = await page.evaluate(() => localStorage.getItem('atelier.token'));
    // Changing the password revokes every token issued before.
    await gqlData(app.url, 'mutation { changePassword(currentPassword: "correct horse battery", newPassword: "a brand new battery") }', {}, token);
    await page.goto('/history');
    await page.waitForURL(/\/signin\?next=%2Fhistory/);
    await expect(page.locator('#session-ended').textContent()).resolves.toBe('Your session has ended; sign in again.');
    await screenshot(page, '12-session-ended');

    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toBe('Email or password is incorrect');
    await expect(page.locator('#session-ended').count()).resolves.toBe(0);
    // The new password signs in, and the session holds across pages (its token is of the new generation).
    await page.getByLabel('Password').fill('a brand new battery');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/history$/);
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await page.goto('/sessions');
    await page.getByText('You are not in any session yet').waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();

    // A stored token that was never valid: the same notice.
    await page.evaluate(() => localStorage.setItem('atelier.token', 'not-a-token'));
    await page.goto('/sessions');
    await page.locator('#session-ended').waitFor();
  });

  it('the main menu shows every item at 1280 px and stays one scrollable row on a phone', async () => {
    const signInAsAdmin = async (viewport: { width: number; height: number }) => {
      const page = await (await newContext(viewport)).newPage();
      await page.goto('/signin');
      await page.getByLabel('Email').fill('root@example.com');
      await page.getByLabel('Password').fill('the admin password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('button', { name: 'Sign out' }).waitFor();
      return page;
    };
    const desktop = await signInAsAdmin({ width: 1280, height: 900 });
    const nav = desktop.getByRole('navigation', { name: 'Main' });
    const links = nav.getByRole('link');
    await expect(links.count()).resolves.toBe(13);
    await expect(nav.evaluate((el) => el.scrollWidth <= el.clientWidth)).resolves.toBe(true);
    const navBox = (await nav.boundingBox())!;
    for (const link of await links.all()) {
      const box = (await link.boundingBox())!;
      expect(box.x, await link.textContent() ?? '').toBeGreaterThanOrEqual(navBox.x);
      expect(box.x + box.width, await link.textContent() ?? '').toBeLessThanOrEqual(Math.min(navBox.x + navBox.width, 1280) + 0.5);
    }
    await screenshot(desktop, '13-menu-1280');

    const phone = await signInAsAdmin({ width: 390, height: 844 });
    const phoneNav = phone.getByRole('navigation', { name: 'Main' });
    expect((await phoneNav.boundingBox())!.height).toBeLessThan(60);
    await expect(phone.evaluate(() => document.documentElement.scrollWidth)).resolves.toBeLessThanOrEqual(390);
    await phoneNav.getByRole('link', { name: 'Models' }).click();
    await phone.waitForURL(/\/admin\/models$/);
  });
});
