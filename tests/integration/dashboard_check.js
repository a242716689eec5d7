// SPDX-License-Identifier: BSD-3-Clause
// dashboard_check.js - drives the dashboard in headless Chromium against a
// live cluster (tests/integration/test_dashboard.sh sets it up): the page
// loads, refuses a wrong password, shows the hosts; an overload (RATE into
// RATE_FILE) makes the policy scale out, and the page shows the new
// instance and the decision within 2 s of their arrival on the bus; once
// the broker is stopped the page says it is unreachable; once it is back
// the page reconnects, and a scale-out told in reverse order (first packet,
// spawned event, alarm, then the decision) gets the right reaction times.  Screenshots go to
// SHOT_DIR.  Every wait has a deadline; a missed one fails the check.
//
//   node dashboard_check.js   (settings from the environment, see below)
'use strict';
const fs = require('fs');
const { execFileSync } = require('child_process');
const { chromium } = require('playwright-core');
const mqtt = require('mqtt');

const env = (name) => {
	const value = process.env[name];
	if (!value) {
		console.error('dashboard_check: ' + name + ' is not set');
		process.exit(2);
	}
	return value;
};
const PAGE = env('DASH_URL'); // http://127.0.0.1:WS_PORT/
const BROKER = env('DASH_BROKER'); // mqtt://127.0.0.1:PORT, for the watcher
const PASS = fs.readFileSync(env('DASH_MONITOR_PASS'), 'utf8').trim();
const RATE_FILE = env('DASH_RATE_FILE');
const RATE = env('DASH_RATE');
const STOP_BROKER = env('DASH_STOP_BROKER').split(' '); // a command, no secret
const START_BROKER = env('DASH_START_BROKER').split(' ');
const ORDER_PASS = fs.readFileSync(env('DASH_ORDER_PASS'), 'utf8').trim(); // bridge:order
const SHOT_DIR = env('DASH_SHOT_DIR');
const SERVICE = 2;
const SHOWN_WITHIN_MS = 2000;

const log = (text) => console.log('dashboard_check: ' + text);
function fail(text) {
	console.error('dashboard_check: FAIL: ' + text);
	process.exit(1);
}

// The bus as another monitor sees it: when the decision and its spawn arrived.
function watchBus() {
	const seen = { decision: null, spawned: new Map() };
	const client = mqtt.connect(BROKER, {
		username: 'monitor', password: PASS, clientId: 'monitor/check-' + process.pid,
		protocolVersion: 4, reconnectPeriod: 0,
	});
	client.on('connect', () => client.subscribe(['onvm/policy/decisions', 'onvm/hosts/+/events'], { qos: 1 }));
	client.on('message', (topic, payload) => {
		let m;
		try { m = JSON.parse(payload.toString()); } catch { return; }
		const at = Date.now();
		if (topic === 'onvm/policy/decisions' && !m.shadow && m.service === SERVICE && m.target &&
		    m.cmd_id && !seen.decision)
			seen.decision = { at, cmdId: m.cmd_id, target: m.target };
		if (topic.endsWith('/events') && m.event === 'spawned' && m.service === SERVICE && m.cmd_id &&
		    !seen.spawned.has(m.cmd_id))
			seen.spawned.set(m.cmd_id, { at, host: m.host, instance: m.instance });
	});
	client.on('error', () => {});
	return { seen, client };
}

async function until(what, deadlineMs, probe) {
	for (;;) {
		const value = await probe();
		if (value)
			return value;
		if (Date.now() >= deadlineMs)
			fail('timed out waiting for: ' + what);
		await new Promise((resolve) => setTimeout(resolve, 20));
	}
}

// A made-up host h9's scale-out of service 7 (no host of the cluster runs
// it), its messages published latest first: the page must tie them by
// cmd_id and time them from the alarm's onset whatever the order.
async function orderCheck(page, count, text) {
	const pub = mqtt.connect(BROKER, {
		username: 'order', password: ORDER_PASS, clientId: 'order/check-' + process.pid,
		protocolVersion: 4, reconnectPeriod: 0,
	});
	await new Promise((resolve, reject) => { pub.on('connect', resolve); pub.on('error', reject); });
	const t = Date.now();
	const id = 'order-' + t;
	const send = (topic, msg) => new Promise((resolve) => pub.publish(topic, JSON.stringify(msg), { qos: 1 }, resolve));
	await send('onvm/hosts/h9/stats', {
		v: 1, host: 'h9', ts_ms: t + 300, seq: 1, period_ms: 100, ports: [], instances: [
			{ instance: 77, service: 7, core: 3, rx_pps: 10, tx_pps: 10, drop_pps: 0, ring_fill: 0, busy: 1,
			  first_rx_ms: t + 150 }],
	});
	await send('onvm/hosts/h9/events', {
		v: 1, host: 'h9', ts_ms: t + 100, cmd_id: id, event: 'spawned', service: 7, instance: 77, core: 3,
	});
	await send('onvm/hosts/h9/alarms', {
		v: 1, host: 'h9', ts_ms: t - 990, service: 7, instance: 76, drop_pps: 100, ring_fill: 0.9, since_ms: t - 1000,
	});
	await send('onvm/policy/decisions', {
		v: 1, engine: 'order', ts_ms: t, service: 7, origin: 'h9', target: 'h9', cmd_id: id,
		reason: 'service 7 overloaded on h9 (alarm: test)', shadow: false,
	});
	pub.end(true);
	const row = '#log tr[data-kind=decision][data-cmd="' + id + '"]';
	await until('the reverse-order scale-out on the page', Date.now() + 5000, async () => (await count(row)) === 1);
	const cells = await page.locator(row + ' td.ms').allTextContents();
	const want = ['1000 ms', '+1100 ms', '+1150 ms'];
	if (cells.join('|') !== want.join('|'))
		fail('reverse-order reaction times: got ' + cells.join(', ') + ', want ' + want.join(', '));
	log('reverse-order scale-out: onset->decision ' + cells[0] + ', ->spawned ' + cells[1] + ', ->first packet ' + cells[2]);
}

(async () => {
	const browser = await chromium.launch({
		executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
		args: ['--no-sandbox', '--disable-gpu'],
	});
	const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
	const pageErrors = [];
	page.on('pageerror', (err) => pageErrors.push(err.message));
	await page.goto(PAGE);
	const text = (selector) => page.locator(selector).first().textContent({ timeout: 1000 }).catch(() => '');
	const count = (selector) => page.locator(selector).count();

	// A wrong password: the page says the identity was refused.
	await page.fill('#login-user', 'monitor');
	await page.fill('#login-pass', PASS + 'x');
	await page.click('#login-go');
	await until('the page says the identity is refused', Date.now() + 10000,
		    async () => (await count('#conn[data-state=refused]')) > 0);
	log('wrong password: "' + (await text('#conn')) + '"');
	if (await page.isHidden('#login'))
		fail('the sign-in form is hidden after a refusal');

	await page.fill('#login-pass', PASS);
	await page.click('#login-go');
	await until('the page connects', Date.now() + 10000, async () => (await count('#conn[data-state=up]')) > 0);
	await until('the page shows h1 and h2 online', Date.now() + 15000, async () =>
		(await count('.host[data-host=h1][data-status=online]')) === 1 &&
		(await count('.host[data-host=h2][data-status=online]')) === 1);
	await until('the page shows h1\'s slow_thing', Date.now() + 10000, async () =>
		(await count('.host[data-host=h1] tr[data-service="2"]')) === 1);
	log('hosts shown: ' + (await text('#hosts-summary')));

	const bus = watchBus();
	await until('the watcher is connected', Date.now() + 5000, async () => bus.client.connected);
	fs.writeFileSync(RATE_FILE, RATE + '\n');
	log('offered ' + RATE + ' pps');

	const busSeen = await until('the policy scales out and the spawn is on the bus', Date.now() + 40000, async () => {
		const d = bus.seen.decision;
		const s = d && bus.seen.spawned.get(d.cmdId);
		return s ? { d, s } : null;
	});
	const { d, s } = busSeen;
	const arrived = Math.max(d.at, s.at);
	log('bus: decision ' + d.cmdId + ' -> ' + d.target + ', spawned ' + s.host + ' instance ' + s.instance);
	const instRow = '.host[data-host="' + s.host + '"] tr[data-service="2"][data-instance="' + s.instance + '"]';
	const decisionRow = '#log tr[data-kind=decision][data-cmd="' + d.cmdId + '"]';
	await until('the page shows the new instance and the decision within ' + SHOWN_WITHIN_MS + ' ms',
		    arrived + SHOWN_WITHIN_MS, async () => (await count(instRow)) === 1 && (await count(decisionRow)) === 1);
	log('page showed the instance and the decision ' + (Date.now() - arrived) + ' ms after the bus had both');

	// The reaction times fill in as the first packet is reported.
	await until('the decision\'s first packet time', Date.now() + 15000, async () => {
		const first = await text(decisionRow + ' td[data-field=first]');
		return first && first !== 'waiting';
	});
	const cells = await page.locator(decisionRow + ' td.ms').allTextContents();
	log('reaction times on the page: onset->decision ' + cells[0] + ', ->spawned ' + cells[1] +
	    ', ->first packet ' + cells[2]);
	await page.waitForFunction(() => window.onvmDashboard.model.samples.length > 8);
	await page.screenshot({ path: SHOT_DIR + '/dashboard.png', fullPage: true });
	log('screenshot: ' + SHOT_DIR + '/dashboard.png');

	// The broker goes away: the page must say so.
	execFileSync(STOP_BROKER[0], STOP_BROKER.slice(1), { stdio: 'inherit' });
	await until('the page says the broker is unreachable', Date.now() + 10000, async () =>
		(await count('#conn[data-state=down]')) > 0 && /unreachable/.test(await text('#conn')));
	log('broker stopped: "' + (await text('#conn')) + '"');
	await page.screenshot({ path: SHOT_DIR + '/dashboard-down.png' });

	// The broker is back: the page reconnects by itself.
	execFileSync(START_BROKER[0], START_BROKER.slice(1), { stdio: 'inherit' });
	await until('the page reconnects', Date.now() + 15000, async () => (await count('#conn[data-state=up]')) > 0);
	log('broker back: "' + (await text('#conn')) + '"');
	await orderCheck(page, count, text);

	const counters = await page.evaluate(() => window.onvmDashboard.counters);
	log('page counters: ' + counters.messages + ' messages, ' + counters.rejected + ' rejected' +
	    (counters.lastReject ? ' (last: ' + counters.lastReject + ')' : ''));
	if (counters.rejected)
		fail('the page rejected messages of a real cluster: ' + counters.lastReject);
	if (pageErrors.length)
		fail('errors in the page: ' + pageErrors.join('; '));
	bus.client.end(true);
	await browser.close();
	log('ok');
})().catch((err) => fail(err.stack || String(err)));
