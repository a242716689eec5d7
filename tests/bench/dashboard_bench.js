// SPDX-License-Identifier: BSD-3-Clause
// dashboard_bench.js - the dashboard's frame rate and CPU in headless
// Chromium under a generated bus (tests/bench/dashboard.sh starts the
// broker and dashboard_stream.js).  Signs in, waits until every host is
// shown, then measures for SECONDS: animation frames a second (a
// requestAnimationFrame loop: what a user would see as smoothness), the
// page's renders, long tasks (> 50 ms), the main thread's busy share (CDP
// TaskDuration), and the CPU of all of Chromium's processes and of its
// renderers (/proc, utime + stime).  Prints the figures; asserts nothing
// about speed, only that the page kept up with the data (every host shown
// live at the end).
//
//   DASH_URL=... DASH_MONITOR_PASS=FILE DASH_HOSTS=N DASH_SHOT=FILE node dashboard_bench.js SECONDS
'use strict';
const fs = require('fs');
const { chromium } = require('playwright-core');

const SECONDS = +(process.argv[2] || 20);
const PAGE = process.env.DASH_URL;
const PASS = fs.readFileSync(process.env.DASH_MONITOR_PASS, 'utf8').trim();
const HOSTS = +process.env.DASH_HOSTS;
const log = (text) => console.log('dashboard_bench: ' + text);
const TICK = 100; // USER_HZ on Linux

// CPU ticks (user + system) of every descendant of pid; renderers apart.
function cpuTicks(root) {
	const children = new Map();
	const info = new Map();
	for (const name of fs.readdirSync('/proc')) {
		if (!/^[0-9]+$/.test(name))
			continue;
		try {
			const stat = fs.readFileSync('/proc/' + name + '/stat', 'utf8');
			const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
			const ppid = +fields[1];
			const ticks = +fields[11] + +fields[12];
			const cmdline = fs.readFileSync('/proc/' + name + '/cmdline', 'utf8');
			info.set(+name, { ticks, renderer: cmdline.includes('--type=renderer') });
			if (!children.has(ppid))
				children.set(ppid, []);
			children.get(ppid).push(+name);
		} catch {
			// gone meanwhile
		}
	}
	let all = 0, renderer = 0;
	const walk = (pid) => {
		for (const child of children.get(pid) || []) {
			const i = info.get(child);
			all += i.ticks;
			if (i.renderer)
				renderer += i.ticks;
			walk(child);
		}
	};
	walk(root);
	return { all, renderer };
}

(async () => {
	const browser = await chromium.launch({
		executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
		args: ['--no-sandbox', '--disable-gpu'],
	});
	const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
	const errors = [];
	page.on('pageerror', (err) => errors.push(err.message));
	await page.goto(PAGE);
	await page.fill('#login-pass', PASS);
	await page.click('#login-go');
	await page.waitForSelector('#conn[data-state=up]', { timeout: 10000 });
	// The summary counts from the model (cards out of view are not drawn).
	await page.waitForFunction((n) => document.getElementById('hosts-summary').textContent.startsWith(n + ' online'),
				   HOSTS, { timeout: 60000, polling: 250 });
	log(HOSTS + ' hosts shown; warming up 5 s');
	await page.waitForTimeout(5000);

	const cdp = await page.context().newCDPSession(page);
	await cdp.send('Performance.enable');
	const metric = async () => {
		const { metrics } = await cdp.send('Performance.getMetrics');
		return Object.fromEntries(metrics.map((m) => [m.name, m.value]));
	};
	await page.evaluate(() => {
		window.benchFrames = 0;
		window.benchLong = { n: 0, ms: 0 };
		const frame = () => {
			window.benchFrames++;
			requestAnimationFrame(frame);
		};
		requestAnimationFrame(frame);
		new PerformanceObserver((list) => {
			for (const e of list.getEntries()) {
				window.benchLong.n++;
				window.benchLong.ms += e.duration;
			}
		}).observe({ entryTypes: ['longtask'] });
	});
	const page0 = await page.evaluate(() => ({ frames: window.benchFrames, ...window.onvmDashboard.counters }));
	const m0 = await metric();
	const cpu0 = cpuTicks(process.pid);
	const t0 = Date.now();
	await page.waitForTimeout(SECONDS * 1000);
	const wall = (Date.now() - t0) / 1000;
	const cpu1 = cpuTicks(process.pid);
	const m1 = await metric();
	const page1 = await page.evaluate(() => ({
		frames: window.benchFrames, long: window.benchLong, ...window.onvmDashboard.counters,
		summary: document.getElementById('hosts-summary').textContent,
		drawn: document.querySelectorAll('.host tr[data-instance]').length,
	}));
	if (process.env.DASH_SHOT)
		await page.screenshot({ path: process.env.DASH_SHOT });
	await browser.close();

	const rate = (a, b) => ((b - a) / wall).toFixed(1);
	log('measured ' + wall.toFixed(1) + ' s with ' + HOSTS + ' hosts');
	log('messages received by the page: ' + rate(page0.messages, page1.messages) + '/s, rejected ' +
	    (page1.rejected - page0.rejected));
	log('frame rate: ' + rate(page0.frames, page1.frames) + ' fps; renders ' + rate(page0.renders, page1.renders) +
	    '/s; long tasks ' + page1.long.n + ' (' + Math.round(page1.long.ms) + ' ms in all)');
	log('in the page: rendering ' + ((100 * (page1.renderMs - page0.renderMs)) / 1000 / wall).toFixed(1) +
	    '% (longest ' + page1.renderMaxMs.toFixed(1) + ' ms), handling messages ' +
	    ((100 * (page1.messageMs - page0.messageMs)) / 1000 / wall).toFixed(1) + '% (the rest: MQTT.js, websocket, GC)');
	log('main thread busy: ' + ((100 * (m1.TaskDuration - m0.TaskDuration)) / wall).toFixed(1) + '% (style ' +
	    ((100 * (m1.RecalcStyleDuration - m0.RecalcStyleDuration)) / wall).toFixed(1) + '%, script ' +
	    ((100 * (m1.ScriptDuration - m0.ScriptDuration)) / wall).toFixed(1) + '%, layout ' +
	    ((100 * (m1.LayoutDuration - m0.LayoutDuration)) / wall).toFixed(1) + '%)');
	log('CPU: chromium (all processes) ' + ((100 * (cpu1.all - cpu0.all)) / TICK / wall).toFixed(1) +
	    '% of one core, renderer ' + ((100 * (cpu1.renderer - cpu0.renderer)) / TICK / wall).toFixed(1) + '%');
	log('at the end: ' + page1.summary + ' (' + page1.drawn + ' instance rows drawn, the rest out of view)');
	if (errors.length || !page1.summary.startsWith(HOSTS + ' online, 0 stale')) {
		console.error('dashboard_bench: the page fell behind or failed: ' + errors.join('; '));
		process.exit(1);
	}
	console.log('dashboard_fps: ' + rate(page0.frames, page1.frames));
})().catch((err) => {
	console.error('dashboard_bench: ' + (err.stack || err));
	process.exit(1);
});
