// Headless Chromium (Debian's chromium package) for the console's tests, through playwright-core,
// and the helpers those tests share: signing in, screenshots into test/artifacts/console/.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts', 'console');

export async function launchChromium(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  // --no-sandbox: the tests run as root in a container, where Chromium's sandbox cannot start.
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

export async function signIn(page: Page, url: string, creds: { name: string; password: string } | { token: string }): Promise<void> {
  await page.goto(`${url}/console/login`);
  if ('token' in creds) {
    await page.locator('summary', { hasText: 'operator token' }).click();
    await page.fill('input[name="token"]', creds.token);
  } else {
    await page.fill('input[name="name"]', creds.name);
    await page.fill('input[name="password"]', creds.password);
  }
  await Promise.all([page.waitForURL(`${url}/console/`), page.click('[data-testid="sign-in"]')]);
}

/** Marks the page; `stillSamePage` is true while no navigation or reload replaced it since. */
export async function markPage(page: Page): Promise<void> {
  await page.evaluate(() => ((window as unknown as { __mark: number }).__mark = 1));
}

export async function stillSamePage(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as { __mark?: number }).__mark === 1);
}
