// Browser tests for the Steward console: the real `steward` binary over a fresh
// PostgreSQL database, driven in Debian's headless Chromium by playwright-core.
// Run from the repository root after `.ci/build`: `node tests/e2e/run.mjs`.
import assert from 'node:assert/strict';
import path from 'node:path';
import { PASSWORD, finish, hydrated, root, signIn, start, step, visit } from './lib.mjs';

const { base, erp, browser, stop } = await start('e2e');
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));

  await step('an anonymous visitor is sent to sign in', async () => {
    await visit(page, `${base}/settings`);
    assert.equal(new URL(page.url()).pathname, '/sign-in');
    await assert.doesNotReject(page.getByRole('heading', { name: 'Sign in to Steward' }).waitFor());
  });

  await step('a wrong password shows an inline error and keeps the email', async () => {
    await signIn(page, base, 'admin@steward.demo', 'not-the-password');
    const alert = page.locator('.form-error');
    await alert.waitFor();
    assert.equal((await alert.textContent()).trim(), 'email or password is incorrect');
    assert.equal(await page.getByLabel('Email').inputValue(), 'admin@steward.demo');
    // Focus returns to the form, on its first field.
    await page.waitForFunction(() => document.activeElement?.id === 'sign-in-email');
    assert.equal(new URL(page.url()).pathname, '/sign-in');
  });

  await step('the admin signs in and sees real counts on the Overview', async () => {
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByLabel('Password').press('Enter');
    await page.waitForURL(`${base}/`);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    const users = page.locator('[data-metric="Active users"] .card-value');
    await users.waitFor();
    assert.equal((await users.textContent()).trim(), '4');
    assert.equal((await page.locator('[data-metric="Teams"] .card-value').textContent()).trim(), '2');
    assert.equal((await page.locator('[data-metric="APIs"] .card-value').textContent()).trim(), '4');
    assert.equal((await page.locator('[data-metric="Awaiting review"] .card-value').textContent()).trim(), '1');
  });

  await step('navigation works after hydration without reloading the page', async () => {
    await visit(page, `${base}/`);
    await hydrated(page);
    await page.evaluate(() => { window.__samePage = 'yes'; });
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit' }).click();
    await page.getByRole('heading', { name: 'Audit trail' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/audit');
    await page.getByRole('link', { name: 'Consumers' }).click();
    await page.getByRole('link', { name: 'Northwind Marketplace' }).waitFor();
    await page.getByRole('link', { name: 'APIs' }).click();
    await page.locator('[data-api="orders"]').waitFor();
    assert.equal(await page.evaluate(() => window.__samePage), 'yes', 'client-side navigation');
  });

  await step('a page group that fails to download reloads the page, which then works', async () => {
    // Its own tab: the failed download and the panic it causes are the point
    // here, and stay out of the script errors checked at the end.
    const other = await context.newPage();
    try {
      let refused = 0;
      await other.route(/\/split_catalogue_pages_[^/]*\.wasm$/, (route) => {
        if (refused++ === 0) return route.abort('connectionreset');
        return route.continue();
      });
      await visit(other, `${base}/`);
      await hydrated(other);
      await other.evaluate(() => { window.__samePage = 'yes'; });
      // The first download is refused; the page loads afresh.
      const reloaded = other.waitForEvent('load');
      await other.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'APIs' }).click();
      await reloaded;
      await hydrated(other);
      assert.equal(await other.evaluate(() => window.__samePage), undefined, 'the page was loaded afresh');
      if (new URL(other.url()).pathname !== '/apis') {
        await other.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'APIs' }).click();
      }
      await other.locator('[data-api="orders"]').waitFor();
      assert.equal(refused, 2, 'the group was fetched again, once');
      await other.getByRole('link', { name: 'Consumers' }).click();
      await other.getByRole('link', { name: 'Northwind Marketplace' }).waitFor();
    } finally {
      await other.close();
    }
  });

  await step('creating a team shows field errors inline, keeps input, then succeeds', async () => {
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Create a team' }).waitFor();
    const form = page.getByRole('form', { name: 'Create a team' });
    await form.getByLabel('Slug').fill('Returns Team');
    await form.getByLabel('Name').fill('Returns');
    await form.getByRole('button', { name: 'Create team' }).click();
    const err = page.locator('#new-team-slug-error');
    await page.waitForFunction(() => document.querySelector('#new-team-slug-error')?.textContent?.length > 0);
    assert.match(await err.textContent(), /lowercase/);
    assert.equal(await form.getByLabel('Name').inputValue(), 'Returns', 'typed name is kept');
    assert.equal(await form.getByLabel('Slug').getAttribute('aria-invalid'), 'true');
    await page.waitForFunction(() => document.activeElement?.id === 'new-team-slug');
    await form.getByLabel('Slug').fill('returns');
    await form.getByRole('button', { name: 'Create team' }).click();
    await page.locator('[data-team="returns"]').waitFor();
  });

  await step('Settings loaded directly hydrates; a role change asks first and a declined one reverts; a lint rule change sticks', async () => {
    const errors = [];
    const onConsole = (m) => { if (m.type() === 'error') errors.push(m.text()); };
    page.on('console', onConsole);
    await visit(page, `${base}/settings`);
    await hydrated(page);
    const select = page.getByLabel('Role of viewer@steward.demo');
    page.once('dialog', (d) => d.dismiss());
    await select.selectOption('admin');
    await page.waitForFunction(() => document.querySelector('select[aria-label="Role of viewer@steward.demo"]').value === 'viewer');
    const row = page.locator('tr[data-rule]').first();
    const rule = await row.getAttribute('data-rule');
    const severity = page.getByLabel(`Severity of ${rule}`);
    const before = await severity.inputValue();
    const other = before === 'info' ? 'warning' : 'info';
    await severity.selectOption(other);
    await page.waitForResponse((r) => r.url().includes('/console/fn/') && r.request().method() === 'POST');
    await visit(page, `${base}/settings`);
    await hydrated(page);
    assert.equal(await page.getByLabel(`Severity of ${rule}`).inputValue(), other, 'the change was saved');
    await page.getByLabel(`Severity of ${rule}`).selectOption(before);
    await page.waitForResponse((r) => r.url().includes('/console/fn/') && r.request().method() === 'POST');
    page.off('console', onConsole);
    assert.deepEqual(errors.filter((e) => /panicked|hydrat/i.test(e)), []);
  });

  await step('a personal access token is shown once', async () => {
    await page.getByRole('link', { name: 'Ada Admin' }).click();
    await page.getByRole('heading', { name: 'Personal access tokens' }).waitFor();
    const form = page.getByRole('form', { name: 'Create a token' });
    await form.getByLabel('Name').fill('ci-contract-check');
    await form.getByRole('button', { name: 'Create token' }).click();
    const secret = page.locator('.token-secret');
    await secret.waitFor();
    const token = (await secret.textContent()).trim();
    assert.match(token, /^stwp_[0-9a-f]{64}$/);
    const me = await fetch(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(me.status, 200);
    await page.reload();
    await page.getByRole('cell', { name: 'ci-contract-check' }).waitFor();
    assert.equal(await page.locator('.token-secret').count(), 0, 'not shown again');
  });

  await step('the audit page filters entries and verifies the chain', async () => {
    await visit(page, `${base}/audit`);
    await hydrated(page);
    await page.getByLabel('Action').fill('team.create');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForFunction(() => [...document.querySelectorAll('tbody tr')].length === 3);
    const actions = await page.locator('tbody tr td:nth-child(4)').allTextContents();
    assert.ok(actions.every((a) => a === 'team.create'), actions.join(','));
    await page.getByRole('button', { name: 'Verify chain' }).click();
    const status = page.locator('.chain');
    await status.waitFor();
    assert.match(await status.textContent(), /^Chain intact: \d+ entries verified\.$/);
  });

  await step('signing out returns to sign-in and ends the session', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${base}/sign-in`);
    await visit(page, `${base}/`);
    assert.equal(new URL(page.url()).pathname, '/sign-in');
  });

  await step('a viewer has no Settings and is refused there', async () => {
    await signIn(page, base, 'viewer@steward.demo');
    await page.waitForURL(`${base}/`);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    const nav = page.getByRole('navigation', { name: 'Main' });
    assert.equal(await nav.getByRole('link', { name: 'Settings' }).count(), 0);
    assert.equal(await nav.getByRole('link', { name: 'Audit' }).count(), 0, 'no page it cannot open');
    await visit(page, `${base}/apis`);
    await page.locator('[data-api="orders"]').waitFor();
    assert.equal(await page.getByRole('form', { name: 'Register an API' }).count(), 0, 'no form that can only fail');
    await visit(page, `${base}/settings`);
    await page.getByRole('heading', { name: 'Not allowed' }).waitFor();
    assert.match(await page.locator('.error-panel').textContent(), /needs the admin role/);
  });

  // Contract registry: one user registers and uploads, a second one reviews.
  const ownerPage = await (await browser.newContext()).newPage();
  const reviewerPage = await (await browser.newContext()).newPage();
  ownerPage.on('pageerror', (e) => pageErrors.push(e.message));
  // Publishing asks first; the owner means it.
  const publishQuestions = [];
  ownerPage.on('dialog', (d) => { publishQuestions.push(d.message()); d.accept(); });
  for (const p of [ownerPage, reviewerPage]) {
    p.on('console', (m) => { if (m.type() === 'error' && (m.text().includes('hydrat') || m.text().includes('ErrorPanel'))) console.log(`browser: ${m.text().split('\n')[0]}`); });
  }
  reviewerPage.on('pageerror', (e) => pageErrors.push(e.message));
  const specs = path.join(root, 'specs', 'retail');
  let v1Url;

  async function uploadVersion(p, version, basePath, file) {
    await visit(p, `${base}/apis/order-capture`);
    await hydrated(p);
    const form = p.getByRole('form', { name: 'Upload a version' });
    await form.getByLabel('Version').fill(version);
    await form.getByLabel('Base path').fill(basePath);
    await form.getByLabel('Upstream URL').fill(`http://${erp}/orders`);
    await p.setInputFiles('#upload-file', path.join(specs, file));
    await p.waitForFunction(() => document.querySelector('#upload-spec').value.startsWith('openapi'));
    // The contract's info.version follows the release number being uploaded.
    await p.locator('#upload-spec').evaluate((el, v) => { el.value = el.value.replace(/^  version: .*$/m, `  version: ${v}`); }, version);
    await form.getByRole('button', { name: 'Upload' }).click();
    await p.waitForURL(/\/versions\//);
    await p.getByRole('heading', { name: new RegExp(`Order Capture ${version.replace(/\./g, '\\.')}`) }).waitFor();
    await hydrated(p);
    return p.url();
  }

  async function review(url) {
    await visit(reviewerPage, url);
    await hydrated(reviewerPage);
    await reviewerPage.getByLabel('Review comment').fill('Checked against the integration guide.');
    await reviewerPage.getByRole('button', { name: 'Approve' }).click();
    await reviewerPage.locator('.badge.state-approved').first().waitFor();
  }

  async function submit(url) {
    await visit(ownerPage, url);
    await hydrated(ownerPage);
    await ownerPage.getByRole('button', { name: 'Submit for review' }).click();
    await ownerPage.locator('h1 .badge.state-in_review').waitFor();
  }

  await step('an owner registers an API in the browser', async () => {
    await signIn(ownerPage, base, 'owner@steward.demo');
    await ownerPage.waitForURL(`${base}/`);
    await visit(ownerPage, `${base}/apis`);
    await hydrated(ownerPage);
    await ownerPage.locator('[data-api="orders"]').waitFor();
    const form = ownerPage.getByRole('form', { name: 'Register an API' });
    await form.getByLabel('Name', { exact: true }).fill('Order Capture');
    await form.getByLabel('Slug').fill('order-capture');
    await form.getByLabel('Owning team').selectOption({ label: 'Order Platform' });
    await form.getByLabel('Criticality tier').selectOption('critical');
    await form.getByLabel('Business capability').fill('orders');
    await form.getByRole('button', { name: 'Register API' }).click();
    await ownerPage.waitForURL(`${base}/apis/order-capture`);
    await ownerPage.getByRole('heading', { name: 'Order Capture' }).waitFor();
  });

  await step('a malformed contract is refused inline with its line, and the text stays', async () => {
    await hydrated(ownerPage);
    const form = ownerPage.getByRole('form', { name: 'Upload a version' });
    await form.getByLabel('Version').fill('1.0.0');
    await form.getByLabel('Base path').fill('/order-capture/v1');
    await form.getByLabel('Upstream URL').fill(`http://${erp}/orders`);
    const broken = 'openapi: 3.0.3\ninfo:\n  title: [unclosed\n';
    await ownerPage.locator('#upload-spec').fill(broken);
    await form.getByRole('button', { name: 'Upload' }).click();
    await ownerPage.waitForFunction(() => document.querySelector('#upload-spec-error')?.textContent?.length > 0);
    assert.match(await ownerPage.locator('#upload-spec-error').textContent(), /^Line \d+, column \d+: /);
    assert.equal(await ownerPage.locator('#upload-spec').inputValue(), broken);
  });

  await step('v1 is uploaded from a file, reviewed by a second user and published', async () => {
    v1Url = await uploadVersion(ownerPage, '1.0.0', '/order-capture/v1', 'orders-v1.yaml');
    await submit(v1Url);
    await signIn(reviewerPage, base, 'reviewer@steward.demo');
    await reviewerPage.waitForURL(`${base}/`);
    await review(v1Url);
    await visit(ownerPage, v1Url);
    await hydrated(ownerPage);
    await ownerPage.getByRole('button', { name: 'Publish' }).click();
    await ownerPage.locator('h1 .badge.state-published').waitFor();
    assert.match(publishQuestions.at(-1) ?? '', /^Publish Order Capture 1\.0\.0\?/, 'publishing asks first');
  });

  await step('a breaking v2 under a minor number is flagged at upload, needs a waiver to approve, and is withdrawn', async () => {
    const url = await uploadVersion(ownerPage, '1.1.0', '/order-capture/v1', 'orders-v2.yaml');
    // The report comes with the upload: its base, and the release number's problem.
    const counts = ownerPage.getByLabel('Changes by level');
    await counts.waitFor();
    assert.match(await counts.textContent(), /[1-9]\d* breaking/);
    assert.match(await ownerPage.locator('.report-base').first().textContent(), /compared with 1\.0\.0 \(published\): the latest live version of major line 1/);
    assert.match(await ownerPage.locator('.semver-problem').textContent(), /under a minor bump \(1\.1\.0 over 1\.0\.0\): release them as 2\.0\.0/);
    await ownerPage.locator('[data-check="new-required-request-property"]').first().waitFor();
    await ownerPage.getByLabel('Show').selectOption('error');
    assert.equal(await ownerPage.locator('.change.level-info').count(), 0, 'breaking-only filter');
    await submit(url);
    // The reviewer finds it in the queue, flagged, and opens it from there.
    await visit(reviewerPage, `${base}/reviews`);
    await hydrated(reviewerPage);
    const queued = reviewerPage.locator('tr[data-review="order-capture@1.1.0"]');
    await queued.waitFor();
    assert.match(await queued.textContent(), /approval needs a waiver/);
    await queued.getByRole('link').click();
    await reviewerPage.waitForURL(url);
    // The reviewer cannot approve it without a waiver: that would be a dead end.
    await hydrated(reviewerPage);
    await reviewerPage.getByLabel('Waiver (needed to approve)').waitFor();
    await reviewerPage.getByRole('button', { name: 'Approve' }).click();
    await reviewerPage.waitForFunction(() => document.querySelector('.actions .form-error')?.textContent?.includes('record a waiver'));
    // Its owner takes it back to draft instead.
    await visit(ownerPage, url);
    await hydrated(ownerPage);
    await ownerPage.getByRole('button', { name: 'Withdraw to draft' }).click();
    await ownerPage.locator('h1 .badge.state-draft').waitFor();
  });

  await step('the same contract publishes as a new major version under a new base path', async () => {
    const url = await uploadVersion(ownerPage, '2.0.0', '/order-capture/v2', 'orders-v2.yaml');
    await submit(url);
    await review(url);
    await visit(ownerPage, url);
    await hydrated(ownerPage);
    await ownerPage.getByRole('button', { name: 'Publish' }).click();
    await ownerPage.locator('h1 .badge.state-published').waitFor();
  });

  await step('the same API migrated to OpenAPI 3.1 reports no change and publishes', async () => {
    const url = await uploadVersion(ownerPage, '2.1.0', '/order-capture/v2', 'orders-v2-1.yaml');
    await submit(url);
    const counts = ownerPage.getByLabel('Changes by level');
    await counts.waitFor();
    assert.match(await counts.textContent(), /0 breaking 0 potentially breaking 0 non-breaking/);
    await review(url);
    await visit(ownerPage, url);
    await hydrated(ownerPage);
    await ownerPage.getByRole('button', { name: 'Publish' }).click();
    await ownerPage.locator('h1 .badge.state-published').waitFor();
  });

  await step('the owner\'s Overview says what reviewers decided on their versions', async () => {
    await visit(ownerPage, `${base}/`);
    const notices = ownerPage.getByRole('region', { name: 'For you' });
    await notices.getByRole('link', { name: /approved Order Capture 1\.0\.0/ }).waitFor();
    await notices.getByRole('link', { name: /approved Order Capture 1\.0\.0/ }).click();
    await ownerPage.waitForURL(v1Url);
  });

  await step('the contract view reads as a reference, its lines are anchors, and a finding opens at its place', async () => {
    await visit(ownerPage, v1Url);
    await hydrated(ownerPage);
    await ownerPage.getByRole('link', { name: 'Read the contract' }).click();
    await ownerPage.getByRole('heading', { name: /Order Capture 1\.0\.0: contract/ }).waitFor();
    assert.ok(await ownerPage.locator('section.operation').count() > 3, 'operations are listed');
    const op = ownerPage.locator('section.operation').first();
    await op.getByRole('link', { name: /^line \d+$/ }).click();
    const line = new URL(ownerPage.url()).hash;
    assert.match(line, /^#L\d+$/);
    await ownerPage.locator(`.source .line.marked${line}`).waitFor();
    // A change in the 2.0.0 report links to where it is, in words.
    const versions = await ownerPage.request.get(`${base}/api/v1/apis/order-capture/versions`);
    const v2 = (await versions.json()).find((v) => v.version === '2.0.0');
    await visit(ownerPage, `${base}/versions/${v2.id}`);
    await hydrated(ownerPage);
    const where = ownerPage.locator('.change a.where').first();
    await where.waitFor();
    const place = (await where.textContent()).trim();
    assert.doesNotMatch(place, /^\/paths/, 'a place in words, not a pointer');
    // A breaking change says why it breaks clients and what to do instead.
    const why = ownerPage.locator('.change.level-error details.guidance').first();
    await why.locator('summary').click();
    assert.match(await why.textContent(), /What to do: \S+/);
    await where.click();
    await ownerPage.waitForURL(/\/contract\?at=/);
    await ownerPage.locator('.source .line.marked').waitFor();
  });

  await step('a deprecation refused for a missing date goes through once the form is corrected', async () => {
    await visit(ownerPage, v1Url);
    await hydrated(ownerPage);
    const form = ownerPage.locator('fieldset', { hasText: 'Deprecate' });
    await form.getByRole('button', { name: 'Deprecate' }).click();
    await ownerPage.getByText('choose a sunset date and a successor').waitFor();
    const sunset = new Date(Date.now() + 120 * 86400e3).toISOString().slice(0, 10);
    await form.getByLabel('Sunset date').fill(sunset);
    await form.getByLabel('Successor version').selectOption({ label: '2.1.0' });
    await form.getByRole('button', { name: 'Deprecate' }).click();
    await ownerPage.locator('h1 .badge.state-deprecated').waitFor();
  });

  // Partner access: a separate admin session whose page may use the clipboard.
  const partnerContext = await browser.newContext();
  await partnerContext.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  const admin = await partnerContext.newPage();
  admin.on('pageerror', (e) => pageErrors.push(e.message));
  await signIn(admin, base, 'admin@steward.demo');
  await admin.waitForURL(`${base}/`);

  await step('an admin issues an API key, copies it once, and sees it masked afterwards', async () => {
    await admin.getByRole('link', { name: 'Consumers', exact: true }).first().click();
    await admin.getByRole('link', { name: 'Tillpoint POS' }).click();
    await admin.getByRole('heading', { name: 'Tillpoint POS' }).waitFor();
    const app = admin.locator('[data-application="pos-fleet"]');
    const form = app.getByRole('form', { name: 'Issue an API key' });
    await form.getByLabel('Key name').fill('kiosk');
    await form.getByLabel('Expires in (days)').fill('30');
    await form.getByRole('button', { name: 'Issue API key' }).click();
    const shown = admin.locator('.secret code[data-secret="API key"]');
    await shown.waitFor();
    const key = (await shown.textContent()).trim();
    const m = key.match(/^stw_live_([0-9a-z]{12})_([0-9a-f]{64})$/);
    assert.ok(m, `key format: ${key}`);
    await admin.getByText('This is the only time Steward shows this secret', { exact: false }).waitFor();
    await admin.getByRole('button', { name: 'Copy API key' }).click();
    await admin.getByRole('button', { name: 'Copy API key' }).filter({ hasText: 'Copied' }).waitFor();
    assert.equal(await admin.evaluate(() => navigator.clipboard.readText()), key);
    const row = app.locator(`[data-key="stw_live_${m[1]}"]`);
    await row.waitFor();
    assert.match(await row.textContent(), /••••/);
    assert.ok(!(await row.textContent()).includes(m[2]), 'the list never shows the secret');
    await admin.getByRole('button', { name: 'I have stored it' }).click();
    assert.equal(await admin.locator('.secret').count(), 0);
    await admin.reload();
    await hydrated(admin);
    await row.waitFor();
    assert.ok(!(await admin.content()).includes(m[2]), 'not shown again after a reload');
  });

  await step('revoking a key asks first, then takes effect at once', async () => {
    const row = admin.locator('[data-application="pos-fleet"] tr', { hasText: 'kiosk' });
    await row.getByRole('button', { name: 'Revoke…' }).click();
    await row.getByText('Calls using it fail at once').waitFor();
    await row.getByRole('button', { name: 'Revoke now' }).click();
    await row.locator('.badge.cred-revoked').waitFor();
  });

  await step('a subscription with an undeclared scope is refused inline, then requested for approval', async () => {
    await visit(admin, `${base}/consumers/atlas-3pl`);
    await hydrated(admin);
    const app = admin.locator('[data-application="wms-connector"]');
    await app.getByText('Subscribe to an API').click();
    const form = app.getByRole('form', { name: 'Subscribe to an API' });
    await form.getByLabel('API').selectOption('orders');
    await form.getByLabel('Scopes').fill('orders:read orders:delete');
    await form.getByRole('button', { name: 'Subscribe' }).click();
    await form.getByText('orders:delete not declared', { exact: false }).waitFor();
    assert.equal(await form.getByLabel('Scopes').inputValue(), 'orders:read orders:delete');
    await form.getByLabel('Scopes').fill('orders:read');
    await form.getByRole('button', { name: 'Subscribe' }).click();
    await app.locator('tr[data-subscription="orders"] .badge.sub-pending').waitFor();
  });

  await step('the approval queue approves pending subscriptions', async () => {
    await admin.getByRole('link', { name: 'Subscriptions' }).click();
    await admin.getByRole('heading', { name: 'Subscriptions' }).waitFor();
    const row = admin.locator('tr[data-subscription="orders"]');
    await row.getByRole('button', { name: 'Approve' }).click();
    await row.waitFor({ state: 'detached' });
    await admin.getByLabel('State').selectOption('active');
    await admin.locator('tr[data-subscription="orders"]', { hasText: 'Atlas 3PL' }).waitFor();
  });

  await step('the Gateways page lists the running gateway with its snapshot', async () => {
    await admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Gateways' }).click();
    await admin.getByRole('heading', { name: 'Gateways' }).waitFor();
    const row = admin.locator('tr[data-gateway]').first();
    await row.locator('.badge', { hasText: 'live' }).waitFor();
    assert.match(await row.textContent(), /generation \d+/);
  });

  await step('an admin edits the upstream policy on the Gateways page: a bad entry is named by its line and kept', async () => {
    await hydrated(admin);
    const policy = admin.getByLabel(/Also allow/);
    const seeded = await policy.inputValue();
    assert.ok(seeded.includes(erp), `the demo allows its stand-in ERP: ${seeded}`);
    const typed = `${seeded}\n10.20.0.0/16\nnot a host!`;
    await policy.fill(typed);
    await admin.getByRole('button', { name: 'Save policy' }).click();
    await admin.waitForFunction(() => document.querySelector('#upstream-allow-error')?.textContent?.includes('Line 3'));
    assert.equal(await policy.inputValue(), typed, 'what was typed stays');
    await policy.fill(`${seeded}\n10.20.0.0/16`);
    await admin.getByRole('button', { name: 'Save policy' }).click();
    await admin.getByText(/Saved: 2 entries/).waitFor();
    // The signing keys are listed beside it; one of them signs.
    await admin.locator('tr[data-kid]', { hasText: 'signing' }).first().waitFor();
  });

  await step('an SLO is defined in the browser and shows its SLI and budget', async () => {
    await admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'SLOs' }).click();
    await admin.getByRole('heading', { name: 'Service level objectives' }).waitFor();
    const form = admin.getByRole('form', { name: 'Define an SLO' });
    await form.getByLabel('API').selectOption('orders');
    await form.getByLabel('Name').fill('order acceptance fast');
    await form.getByLabel('Kind').selectOption('latency');
    await form.getByLabel('Target (%)').fill('99');
    await form.getByLabel('Latency threshold (ms)').fill('42');
    await form.getByRole('button', { name: 'Define SLO' }).click();
    await form.getByText('choose a latency threshold among', { exact: false }).waitFor();
    assert.equal(await form.getByLabel('Name').inputValue(), 'order acceptance fast', 'input kept');
    await form.getByLabel('Latency threshold (ms)').fill('300');
    await form.getByRole('button', { name: 'Define SLO' }).click();
    const row = admin.locator('tr[data-slo="order acceptance fast"]');
    await row.waitFor();
    assert.match(await row.locator('[data-stat="sli"]').textContent(), /%/);
    await row.locator('meter').waitFor();
  });

  await step('the SLO page charts the SLI against its target, with values on hover and a table alternative', async () => {
    await admin.locator('tr[data-slo="order acceptance fast"]').getByRole('link', { name: 'order acceptance fast' }).click();
    await admin.getByRole('heading', { name: 'order acceptance fast' }).waitFor();
    await hydrated(admin);
    assert.match(await admin.locator('[data-stat="sli"] .stat').textContent(), /^\d+\.\d{3} %$/);
    const sli = admin.locator('figure[data-chart="sli"]');
    await sli.locator('svg path').first().waitFor();
    assert.match(await sli.locator('figcaption').textContent(), /SLI per day against the 99% target/);
    assert.match(await sli.locator('.rule text').textContent(), /target 99%/);
    const tips = await sli.locator('circle.hit title').allTextContents();
    assert.ok(tips.length >= 28, `a value to hover on each day: ${tips.length}`);
    assert.match(tips[tips.length - 1], /: SLI \d+(\.\d+)?%$/);
    // The accessible alternative: the same numbers as a table.
    const table = sli.locator('details.chart-table table');
    assert.equal(await table.isVisible(), false);
    await sli.getByText('Show as table').click();
    await table.waitFor();
    const rows = await table.locator('tbody tr').count();
    assert.equal(rows, tips.length, 'one row per point');
    assert.match(await table.locator('tbody tr').last().locator('td').textContent(), /%$/);
    await admin.locator('figure[data-chart="burn-down"] svg path').first().waitFor();
    // A window without errors has a bar of height 0: present, with its value.
    const bar = admin.locator('figure[data-chart="burn-rates"] g[data-bar="5m"] rect');
    await bar.waitFor({ state: 'attached' });
    assert.match(await bar.locator('title').textContent(), /^5m: [\d.]+× \(alert above 14\.4×\)$/);
    // Hourly points, rendered in the browser this time.
    await admin.getByRole('button', { name: 'Hourly' }).click();
    await admin.locator('figure[data-chart="sli"] figcaption', { hasText: 'SLI per hour' }).waitFor();
    const hourly = await admin.locator('figure[data-chart="sli"] circle.hit').count();
    assert.ok(hourly > 24 * 2, `hourly points: ${hourly}`);
  });

  await step('the demo history shows the incident: order acceptance is at risk and paged', async () => {
    await admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'SLOs' }).click();
    const first = admin.locator('tr[data-slo]').first();
    await first.waitFor();
    assert.equal(await first.getAttribute('data-slo'), 'order acceptance');
    assert.match(await first.locator('.badge').textContent(), /at risk/);
    await first.getByRole('link', { name: 'order acceptance' }).click();
    await admin.locator('tr[data-alert="1h"]').waitFor();
    assert.match(await admin.locator('tr[data-alert="1h"]').textContent(), /page/);
  });

  await step('an API traffic page shows requests, errors and latency percentiles', async () => {
    await visit(admin, `${base}/apis/orders`);
    await admin.getByRole('link', { name: 'Traffic and latency' }).click();
    await admin.getByRole('heading', { name: 'Orders traffic' }).waitFor();
    await hydrated(admin);
    assert.ok(Number(await admin.locator('[data-stat="requests"] .stat').textContent()) > 0);
    await admin.locator('figure[data-chart="latency"] g[data-line="p99"] path').waitFor();
    await admin.getByRole('button', { name: '30 days' }).click();
    await admin.locator('figure[data-chart="requests"] figcaption', { hasText: 'per day' }).waitFor();
    await admin.locator('figure[data-chart="requests"] g[data-line="5xx"] path').waitFor();
  });

  await step('the deprecation page names who still calls a deprecated version', async () => {
    await admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Deprecations' }).click();
    const section = admin.locator('section[data-deprecated="returns/1.0.0"]');
    await section.waitFor();
    assert.match(await section.textContent(), /45 days left/);
    assert.match(await section.locator('tbody tr').first().textContent(), /Tillpoint POS.*support@tillpoint\.example/);
  });

  await step('an SLO\'s objective is changed (bad input kept and explained), then the SLO is deleted', async () => {
    await visit(admin, `${base}/slos`);
    await admin.locator('tr[data-slo="order acceptance fast"]').getByRole('link', { name: 'order acceptance fast' }).click();
    await hydrated(admin);
    const form = admin.getByRole('form', { name: 'Change the objective' });
    await form.getByLabel('Target (%)').fill('150');
    await form.getByRole('button', { name: 'Save' }).click();
    await form.getByText('use a target between 0 and 100 percent', { exact: false }).waitFor();
    assert.equal(await form.getByLabel('Target (%)').inputValue(), '150', 'input kept');
    await form.getByLabel('Target (%)').fill('99.5');
    await form.getByLabel('Window').selectOption('7');
    await form.getByRole('button', { name: 'Save' }).click();
    await admin.locator('[data-stat="target"] .stat', { hasText: '99.5 %' }).waitFor();
    await admin.getByText('over a rolling 7 days', { exact: false }).waitFor();
    await admin.getByRole('button', { name: 'Delete SLO…' }).click();
    await admin.getByRole('button', { name: 'Delete now' }).click();
    await admin.waitForURL(`${base}/slos`);
    await admin.locator('tr[data-slo="order acceptance"]').waitFor();
    assert.equal(await admin.locator('tr[data-slo="order acceptance fast"]').count(), 0);
  });

  await step('no script errors in the browser', async () => {
    assert.deepEqual(pageErrors, []);
  });
} finally {
  await stop();
}
finish();
