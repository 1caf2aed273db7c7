// Browser tests of the sp-taskpool dashboard: playwright-core driving
// Debian's chromium (never a downloaded browser). Run by run.sh, which
// starts the stack and passes everything through the environment:
//   WEB_URL, TOKEN_SUPERVISOR, TOKEN_REP, REP_ID, REP_TEAM, REP_REGION,
//   REP_DEAL, REP_CUSTOMER, OTHER_TASK_KEY, SIGNAL_AT_MS, KAFKA_BOOTSTRAP,
//   ARTIFACTS (screenshots), RESULTS (appends "web <test> pass fail skip").
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const E = process.env;
const need = k => { if (!E[k]) throw new Error(`missing ${k}`); return E[k]; };
const URL0 = need('WEB_URL');
const ART = E.ARTIFACTS || 'build/web-artifacts';
const RESULTS = E.RESULTS || 'build/test-results';
const HERE = dirname(fileURLToPath(import.meta.url));
mkdirSync(ART, { recursive: true });
mkdirSync(dirname(RESULTS), { recursive: true });

let failed = 0;
const ran = [];
async function test(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    appendFileSync(RESULTS, `web ${name} 1 0 0\n`);
    console.log(`PASS ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed++;
    appendFileSync(RESULTS, `web ${name} 0 1 0\n`);
    console.log(`FAIL ${name}: ${e.stack || e}`);
  }
  ran.push(name);
}
function assert(c, msg) { if (!c) throw new Error('assertion failed: ' + msg); }

// The API as the test sees it (not through the page).
async function apiGet(token, path) {
  const r = await fetch(URL0 + path, { headers: { Authorization: 'Bearer ' + token } });
  return { status: r.status, body: await r.json().catch(() => null) };
}

const profile = mkdtempSync(join(tmpdir(), 'sp-web-chromium-'));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: E.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1366, height: 900 },
});
browser.setDefaultTimeout(15000);
const pageErrors = [];

async function newPage() {
  const p = await browser.newPage();
  p.on('pageerror', e => pageErrors.push(String(e)));
  return p;
}
async function signIn(page, token) {
  await page.goto(URL0 + '/');
  await page.evaluate(() => { sessionStorage.clear(); localStorage.setItem('sp_lang', 'zh'); });
  await page.goto(URL0 + '/');
  await page.fill('[data-testid=token]', token);
  await page.click('form[data-testid=signin] button[type=submit]');
  await page.waitForSelector('[data-testid=nav-inbox]');
}
// a page behind another tab does not paint: bring it forward first
async function shot(page, name) { await page.bringToFront(); await page.screenshot({ path: join(ART, name + '.png'), fullPage: true }); }

const sup = await newPage();
const rep = await newPage();

await test('signin_rejects_bad_token', async () => {
  await sup.goto(URL0 + '/');
  await sup.evaluate(() => sessionStorage.clear());
  await sup.goto(URL0 + '/');
  await shot(sup, '01-signin');
  await sup.fill('[data-testid=token]', 'spt_' + 'x'.repeat(43));
  await sup.click('form[data-testid=signin] button[type=submit]');
  await sup.waitForFunction(() => document.querySelector('#sierr').textContent.length > 0);
  assert(await sup.isVisible('[data-testid=token]'), 'still on sign-in');
});

await test('expired_token_returns_to_signin', async () => {
  await signIn(sup, need('TOKEN_SUPERVISOR'));
  await sup.evaluate(() => sessionStorage.setItem('sp_token', 'spt_' + 'y'.repeat(43)));
  await sup.goto(URL0 + '/#/inbox');
  await sup.reload();
  await sup.waitForSelector('[data-testid=token]');
  assert(await sup.evaluate(() => sessionStorage.getItem('sp_token')) === null, 'token cleared after 401');
});

await test('supervisor_team_board', async () => {
  await signIn(sup, need('TOKEN_SUPERVISOR'));
  await sup.click('[data-testid=nav-team]');
  await sup.waitForSelector('[data-testid=reps] tr:nth-child(2)');
  const reps = await sup.locator('[data-testid=reps] tr').count();
  assert(reps >= 2, 'at least one rep row');
  await sup.waitForSelector('[data-testid=heatmap] canvas');
  await sup.waitForSelector('#tt [data-testid=task], #tt [data-testid=empty]');
  const teamTasks = await sup.locator('#tt [data-testid=task]').count();
  if (teamTasks > 0) assert(await sup.locator('#tt [data-testid=reassign]').count() > 0, 'reassign offered to a supervisor');
  await sup.waitForTimeout(400); // the chart's first paint
  await shot(sup, '03-team-board');
});

await test('supervisor_funnel', async () => {
  await sup.click('[data-testid=nav-funnel]');
  await sup.waitForSelector('[data-testid=funnel-chart] canvas');
  assert(await sup.locator('[data-testid=funnel-table] tr').count() >= 2, 'months listed');
  await sup.waitForTimeout(400);
  await shot(sup, '04-funnel');
});

// Publishes a deal.no_progress_after_visit Signal (L3) for the rep's deal on
// sp.signals.v1; sp-route turns it into a task. Returns its marker text.
let sigCount = 0;
function publishSignal() {
  const ep = (Math.floor(Date.now() / 1000) % 1000000) * 10 + (sigCount++ % 10);
  const marker = 'WT' + ep;
  const sig = {
    kind: 'deal.no_progress_after_visit', level: 3, subject_type: 'deal', subject_id: need('REP_DEAL'),
    owner_rep_id: need('REP_ID'), team_id: need('REP_TEAM'), region_id: need('REP_REGION'),
    customer_id: need('REP_CUSTOMER'), deal_id: need('REP_DEAL'), episode: ep,
    occurred_at_ms: Number(need('SIGNAL_AT_MS')),
    explanation_zh: `拜访后7天没有推进（浏览器测试 ${marker}）`, explanation_en: `No progress 7 days after the visit (browser test ${marker})`,
    quotes: ['价格我们还得内部再商量一下，下周再说吧'], interaction_ids: ['I-WEBTEST-' + ep],
  };
  const bin = join(profile, 'signal.bin');
  writeFileSync(bin, execFileSync('node', [join(HERE, 'signal.mjs'), JSON.stringify(sig)]));
  const t0 = Date.now();
  execFileSync('kcat', ['-P', '-b', need('KAFKA_BOOTSTRAP'), '-t', 'sp.signals.v1', '-k', sig.deal_id, bin]);
  return { marker, deal: sig.deal_id, t0 };
}

let liveKey = null;
await test('live_task_appears_without_reload', async () => {
  await signIn(rep, need('TOKEN_REP'));
  await rep.waitForSelector('#list');
  await rep.evaluate(() => { window.__noReload = 1; });
  const { marker, deal: sigDeal, t0 } = publishSignal();
  const card = rep.locator('[data-testid=task]', { hasText: marker });
  // when the API has it (routing latency) vs. when the page shows it (feed latency)
  let apiMs = null;
  const poll = (async () => {
    while (apiMs === null && Date.now() - t0 < 60000) {
      const r = await apiGet(need('TOKEN_REP'), '/v1/me/tasks?limit=200');
      if ((r.body?.tasks || []).some(x => (x.explanation_en || '').includes(marker))) apiMs = Date.now() - t0;
      else await new Promise(res => setTimeout(res, 100));
    }
  })();
  await card.waitFor({ timeout: 60000 });
  const pageMs = Date.now() - t0;
  await poll;
  console.log(`  after publishing: in the API ${apiMs} ms, on the page ${pageMs} ms`);
  assert(await rep.evaluate(() => window.__noReload === 1), 'page was not reloaded');
  liveKey = await card.getAttribute('data-key');
  assert(liveKey && liveKey.includes(sigDeal), 'task key ' + liveKey);
  assert(await card.locator('.badge.L3').count() === 1, 'L3 badge');
  await rep.waitForTimeout(300);
  await shot(rep, '02-inbox-live-task');
});

await test('supervisor_sees_live_task_with_reassign', async () => {
  assert(liveKey, 'needs the live task');
  await sup.click('[data-testid=nav-inbox]');
  await sup.click('[data-testid=nav-team]');
  const card = sup.locator(`#tt [data-testid=task][data-key="${liveKey}"]`);
  await card.waitFor();
  assert(await card.locator('[data-testid=reassign]').count() === 1, 'reassign offered');
  await sup.waitForTimeout(400);
  await shot(sup, '03b-team-board-live-task');
});

await test('acknowledge_changes_state', async () => {
  assert(liveKey, 'needs the live task');
  const card = rep.locator(`[data-testid=task][data-key="${liveKey}"]`);
  await card.locator('[data-testid=detail]').first().waitFor();
  // the detail shows the customer's words and the playbook
  if (!(await card.locator('[data-testid=quote]').count())) await card.locator('[data-testid=detail]').click();
  await card.locator('[data-testid=quote]').first().waitFor();
  // the rule's playbook (advancement card) opens filled for the task's
  // customer: the four buying roles, covered or not
  const pb = card.locator('[data-testid=playbook][data-id=advancement_card]');
  await pb.locator('summary').click();
  const roles = pb.locator('[data-testid=pb-section][data-source=key_roles] [data-testid=pb-entry]');
  await roles.first().waitFor();
  assert(await roles.count() === 4, 'key roles listed: ' + (await roles.count()));
  assert((await pb.locator('summary').textContent()).includes('客户推进卡'), 'playbook title');
  await shot(rep, '02b-task-playbook');
  await card.locator('[data-testid=ack]').click();
  let st = null;
  for (let i = 0; i < 50 && st !== 'acknowledged'; i++) {
    st = (await apiGet(need('TOKEN_REP'), '/v1/tasks/' + encodeURIComponent(liveKey))).body?.status;
    if (st !== 'acknowledged') await rep.waitForTimeout(100);
  }
  assert(st === 'acknowledged', 'API status after ack: ' + st);
  const card2 = rep.locator(`[data-testid=task][data-key="${liveKey}"]`);
  await card2.locator('[data-testid=complete]').waitFor();
  await card2.locator('[data-testid=complete]').click();
  await card2.locator('[data-testid=note]').fill('约了下周二演示');
  await card2.locator('[data-testid=submit]').click();
  for (let i = 0; i < 50 && st !== 'done'; i++) {
    const r = await apiGet(need('TOKEN_REP'), '/v1/tasks/' + encodeURIComponent(liveKey));
    st = r.body?.status;
    if (st === 'done') assert(r.body.note === '约了下周二演示' && r.body.outcome === 'advanced', 'note and outcome kept');
    else await rep.waitForTimeout(100);
  }
  assert(st === 'done', 'API status after complete: ' + st);
});

await test('supervisor_reassigns_live', async () => {
  await sup.click('[data-testid=nav-team]');
  await sup.waitForSelector('[data-testid=reps] tr:nth-child(2)');
  const { marker } = publishSignal();
  const card = sup.locator('#tt [data-testid=task]', { hasText: marker });
  await card.waitFor({ timeout: 60000 }); // arrives through the supervisor's change feed
  const key = await card.getAttribute('data-key');
  const others = (await sup.locator('[data-testid=reps] tr td:first-child .mute').allTextContents()).map(x => x.trim());
  const to = others.find(x => x && x !== need('REP_ID'));
  assert(to, 'another rep in the team');
  await card.locator('[data-testid=reassign]').click();
  await card.locator('[data-testid=to_id]').fill(to);
  await sup.locator(`#tt [data-testid=task][data-key="${key}"] [data-testid=submit]`).click();
  let a = null;
  for (let i = 0; i < 50 && a !== to; i++) {
    a = (await apiGet(need('TOKEN_SUPERVISOR'), '/v1/tasks/' + encodeURIComponent(key))).body?.assignee_id;
    if (a !== to) await sup.waitForTimeout(100);
  }
  assert(a === to, `assignee after reassign: ${a}, wanted ${to}`);
  const repView = await apiGet(need('TOKEN_REP'), '/v1/tasks/' + encodeURIComponent(key));
  assert(repView.status === 404, 'the former assignee no longer sees it: ' + repView.status);
});

await test('rep_cannot_open_other_team_task', async () => {
  const key = need('OTHER_TASK_KEY');
  await rep.goto(URL0 + '/#/task?key=' + encodeURIComponent(key));
  await rep.waitForSelector('#one [data-testid=empty]');
  assert(await rep.locator('#one [data-testid=task]').count() === 0, 'no task card');
  const st = await rep.evaluate(async k => (await fetch('/v1/tasks/' + encodeURIComponent(k),
    { headers: { Authorization: 'Bearer ' + sessionStorage.getItem('sp_token') } })).status, key);
  assert(st === 404, 'API answers 404, got ' + st);
  assert(await rep.locator('[data-testid=nav-team]').count() === 0, 'no team board for a rep');
  await shot(rep, '07-rep-other-team-task');
});

await test('rep_today_and_deal', async () => {
  await rep.click('[data-testid=nav-today]');
  await rep.waitForSelector('[data-testid=priority] tr:nth-child(2), #pc [data-testid=empty]');
  await shot(rep, '05-today');
  await rep.goto(URL0 + `/#/deal?deal=${encodeURIComponent(need('REP_DEAL'))}&customer=${encodeURIComponent(need('REP_CUSTOMER'))}`);
  await rep.waitForSelector('#hl [data-testid=dims], #hl [data-testid=empty]');
  await rep.waitForSelector('#cc [data-testid=golden], #cc [data-testid=empty]');
  assert(await rep.locator('#cc [data-testid=golden]').count() === 1, 'customer card shown');
  await shot(rep, '06-deal');
});

// The deal's ten health dimensions render with colours and reasons: sp-score's
// own row when it has scored the deal, else a fixture row (removed after).
await test('deal_health_renders', async () => {
  const deal = need('REP_DEAL'), pg = need('PG_URL');
  const names = ['contact_frequency', 'key_role_coverage', 'proposal_iterations', 'competitor_response', 'stage_dwell',
    'response_latency', 'engagement_trend', 'next_step', 'open_risks', 'card_quality'];
  const colours = ['green', 'green', 'yellow', 'red', 'yellow', 'green', 'green', 'red', 'yellow', 'green'];
  const dims = names.map((n, i) => ({ name: n, score: [90, 80, 55, 20, 50, 85, 75, 10, 45, 70][i], colour: colours[i], weight: 1, measure: i,
    reason_zh: `测试数据：${n} 的说明`, reason_en: `fixture: why ${n}` }));
  const had = execFileSync('psql', [pg, '-Atc', `SELECT round(score) FROM deal_health WHERE deal_id = '${deal}'`]).toString().trim();
  if (had !== '') { // scored by sp-score: check the view shows that row
    await rep.reload();
    await rep.waitForSelector('#hl [data-testid=dims]');
    assert(await rep.locator('#hl [data-testid=dims] tr').count() === 11, 'ten dimension rows');
    assert(Math.round(Number((await rep.textContent('[data-testid=health-score]')).trim())) === Number(had), 'score as stored');
    await shot(rep, '06b-deal-health');
    return;
  }
  execFileSync('psql', [pg, '-qc', `INSERT INTO deal_health VALUES ('${deal}', 58, 'yellow', '${JSON.stringify(dims)}'::jsonb, now())`]);
  try {
    await rep.reload();
    await rep.waitForSelector('#hl [data-testid=dims]');
    assert(await rep.locator('#hl [data-testid=dims] tr').count() === 11, 'ten dimension rows');
    assert(await rep.locator('#hl [data-testid=dims] .dot.red').count() === 2, 'two red dimensions');
    assert((await rep.textContent('[data-testid=health-score]')).trim() === '58', 'score');
    await shot(rep, '06b-deal-health-fixture');
  } finally {
    execFileSync('psql', [pg, '-qc', `DELETE FROM deal_health WHERE deal_id = '${deal}'`]);
  }
});

await test('english_switch', async () => {
  await rep.click('[data-testid=nav-inbox]');
  await rep.waitForSelector('#list');
  assert((await rep.textContent('[data-testid=nav-inbox]')).trim() === '我的任务', 'Chinese by default');
  await rep.click('[data-testid=lang]');
  await rep.waitForFunction(() => document.querySelector('[data-testid=nav-inbox]').textContent.trim() === 'Inbox');
  await rep.waitForSelector('#list');
  assert((await rep.textContent('[data-testid=nav-today]')).trim() === 'Today', 'Today in English');
  await shot(rep, '08-inbox-en');
  await rep.goto(URL0 + `/#/deal?deal=${encodeURIComponent(need('REP_DEAL'))}&customer=${encodeURIComponent(need('REP_CUSTOMER'))}`);
  await rep.waitForSelector('#cc [data-testid=golden]');
  assert((await rep.textContent('#cc h3')).trim() === 'Customer card', 'deal view in English');
  await shot(rep, '08b-deal-en');
  await rep.click('[data-testid=nav-inbox]');
  await rep.waitForSelector('#list');
  await rep.click('[data-testid=lang]');
  await rep.waitForFunction(() => document.querySelector('[data-testid=nav-inbox]').textContent.trim() === '我的任务');
});

await test('risk_names_in_both_languages', async () => {
  // every risk tag of the extraction contract has a name in each language
  // (a playbook's risks and a concern's tag show it, not the tag)
  const names = await rep.evaluate(async () => {
    const m = await import('/app/i18n.js');
    const tags = ['price', 'budget_freeze', 'stall', 'after_sales', 'technical_doubt', 'compliance',
      'decision_change', 'delivery', 'competitor_pressure'];
    const was = m.lang, out = {};
    for (const l of ['zh', 'en']) { m.setLang(l); out[l] = tags.map(k => [k, m.t('risk_' + k)]); }
    m.setLang(was);
    return out;
  });
  for (const [k, n] of names.zh) assert(/[\u4e00-\u9fff]/.test(n), `${k}: Chinese name, got ${n}`);
  for (const [k, n] of names.en) assert(/^[a-z][a-z /-]+$/i.test(n), `${k}: English name, got ${n}`);
  assert(names.zh.find(([k]) => k === 'competitor_pressure')[1] === '竞品压力', 'competitor_pressure in Chinese');
});

await test('phone_layout', async () => {
  await rep.setViewportSize({ width: 390, height: 844 });
  await rep.click('[data-testid=nav-inbox]');
  await rep.waitForSelector('#list');
  const overflow = await rep.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert(overflow <= 1, 'no horizontal scrolling on a phone, overflow ' + overflow);
  await shot(rep, '09-inbox-phone');
  await sup.setViewportSize({ width: 390, height: 844 });
  await sup.click('[data-testid=nav-team]');
  await sup.waitForSelector('[data-testid=heatmap] canvas');
  await sup.waitForTimeout(400);
  await shot(sup, '10-team-phone');
});

await test('sign_out_clears_token', async () => {
  await rep.click('[data-testid=signout]');
  await rep.waitForSelector('[data-testid=token]');
  assert(await rep.evaluate(() => sessionStorage.getItem('sp_token')) === null, 'token cleared');
});

await test('no_page_errors', async () => {
  assert(pageErrors.length === 0, 'page errors: ' + pageErrors.join(' | '));
});

await browser.close();
rmSync(profile, { recursive: true, force: true });
console.log(`web: ${ran.length - failed} passed, ${failed} failed; screenshots in ${ART}`);
process.exit(failed ? 1 : 0);
