// Every console route, for each of the four roles, loaded both ways: as a full
// page load (server render, then hydration) and through client-side
// navigation from another page. Each load must show its page (or, where the
// role may not open it, the refusal) and leave no console error or warning,
// no uncaught exception, no failed request, and no axe-core violation of
// serious or critical impact. Run after `.ci/build`: `node tests/e2e/sweep.mjs`.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { finish, hydrated, signIn, start, step, visit } from './lib.mjs';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const ROLES = ['admin', 'owner', 'reviewer', 'viewer'];
// Pages a role may not open: a direct load shows the refusal, and the
// navigation never offers them.
const REFUSED = {
  '/audit': ['owner', 'viewer'],
  '/settings': ['owner', 'reviewer', 'viewer'],
};

const { base, browser, stop } = await start('sweep');
const summary = [];
try {
  // The routes with ids, read off the demo's own pages.
  const routes = ['/', '/apis', '/reviews', '/consumers', '/subscriptions', '/plans', '/gateways',
    '/slos', '/deprecations', '/audit', '/settings', '/account'];
  await step('the demo\'s detail routes are found from its list pages', async () => {
    const page = await (await browser.newContext()).newPage();
    await signIn(page, base, 'admin@steward.demo');
    await page.waitForURL(`${base}/`);
    const first = async (list, pattern) => {
      await visit(page, `${base}${list}`);
      const hrefs = await page.locator('main a[href]').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
      const href = hrefs.find((h) => pattern.test(h));
      assert.ok(href, `a link matching ${pattern} on ${list}`);
      return href;
    };
    const api = await first('/apis', /^\/apis\/[^/]+$/);
    const version = await first(api, /^\/versions\/[^/]+$/);
    routes.push(api, `${api}/traffic`, version, `${version}/contract`,
      await first('/consumers', /^\/consumers\/[^/]+$/), await first('/slos', /^\/slos\/[^/]+$/));
    await page.context().close();
  });

  for (const role of ROLES) {
    const context = await browser.newContext();
    const page = await context.newPage();
    // What went wrong since the last check, with where it happened.
    let problems = [];
    let refusedHere = false;
    page.on('pageerror', (e) => problems.push(`uncaught: ${e.message.split('\n')[0]}`));
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text().split('\n')[0]}`);
    });
    page.on('requestfailed', (r) => {
      // A navigation cancels what the page it leaves had in flight.
      if (!/ERR_ABORTED/.test(r.failure()?.errorText || '')) problems.push(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`);
    });
    page.on('response', (r) => {
      if (r.status() >= 500 || (r.status() >= 400 && !(refusedHere && r.status() === 403))) {
        problems.push(`${r.status()} for ${r.request().method()} ${new URL(r.url()).pathname}`);
      }
    });

    await step(`${role}: signs in`, async () => {
      await signIn(page, base, `${role}@steward.demo`);
      await page.waitForURL(`${base}/`);
      await hydrated(page);
    });

    // The page rendered for `route`: its heading, or the refusal where the role may not open it.
    async function shows(route) {
      const refused = (REFUSED[route] || []).includes(role);
      await page.locator('main h1').first().waitFor({ timeout: 15000 });
      const heading = (await page.locator('main h1').first().textContent()).trim();
      if (refused) {
        await page.locator('main .error-panel').getByRole('heading', { name: 'Not allowed' }).waitFor({ timeout: 15000 });
      } else {
        assert.notEqual(heading, 'Page not found', `${route} exists`);
        // Data arrives after the heading: let it, then look for refusals and failures.
        await page.waitForLoadState('networkidle');
        const panels = await page.locator('main .error-panel').allTextContents();
        assert.deepEqual(panels, [], `${route} shows no error panel`);
      }
      // Anything still loading settles before the checks read the log.
      await page.waitForLoadState('networkidle');
    }

    for (const route of routes) {
      refusedHere = (REFUSED[route] || []).includes(role);
      await step(`${role}: ${route} loaded directly`, async () => {
        problems = [];
        await visit(page, `${base}${route}`);
        await hydrated(page);
        await shows(route);
        const violations = await page.evaluate(async (source) => {
          if (!window.axe) (0, eval)(source);
          const result = await window.axe.run(document, { resultTypes: ['violations'] });
          return result.violations
            .filter((v) => v.impact === 'serious' || v.impact === 'critical')
            .map((v) => `${v.impact} ${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
        }, axeSource);
        summary.push({ role, route, how: 'direct', problems: [...problems], violations });
        assert.deepEqual(problems, [], 'no errors, warnings or failed requests');
        assert.deepEqual(violations, [], 'no serious or critical accessibility violations');
      });
      await step(`${role}: ${route} reached by navigation`, async () => {
        problems = [];
        // From another page, through the router: a link click it intercepts.
        const from = route === '/account' ? '/' : '/account';
        refusedHere = false;
        await visit(page, `${base}${from}`);
        await hydrated(page);
        await page.evaluate(() => { window.__samePage = 'yes'; });
        refusedHere = (REFUSED[route] || []).includes(role);
        await page.evaluate((href) => {
          const a = document.createElement('a');
          a.href = href;
          a.textContent = 'go';
          document.querySelector('main').append(a);
          a.click();
        }, route);
        await page.waitForURL(`${base}${route}`);
        await shows(route);
        assert.equal(await page.evaluate(() => window.__samePage), 'yes', 'no full page load');
        summary.push({ role, route, how: 'navigation', problems: [...problems], violations: [] });
        assert.deepEqual(problems, [], 'no errors, warnings or failed requests');
      });
    }

    await step(`${role}: the navigation offers only pages the role can open`, async () => {
      await visit(page, `${base}/`);
      const links = await page.getByRole('navigation', { name: 'Main' }).locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
      for (const [route, roles] of Object.entries(REFUSED)) {
        assert.equal(links.includes(route), !roles.includes(role), `${route} in ${role}'s navigation`);
      }
    });
    await context.close();
  }
} finally {
  const loads = summary.length;
  const withProblems = summary.filter((s) => s.problems.length || s.violations.length);
  console.log(`\nsweep: ${loads} page loads, ${withProblems.length} with problems`);
  for (const s of withProblems) {
    console.log(`  ${s.role} ${s.route} (${s.how}):`);
    for (const p of [...s.problems, ...s.violations]) console.log(`    ${p}`);
  }
  await stop();
}
finish();
