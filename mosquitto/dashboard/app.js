// SPDX-License-Identifier: BSD-3-Clause
// app.js - the dashboard: reads onvm/# (docs/bus.md) over MQTT on websockets
// as a read-only identity, keeps a model of the cluster from every message,
// and draws it at most RENDER_HZ times a second.  Messages change the model
// only; drawing reads it.  Every payload is untrusted: checked before use,
// and bus text reaches the page only through textContent.
'use strict';

(function () {
	const RENDER_MS = 250; // 4 Hz: the page, not the data, is throttled
	const SAMPLE_MS = 250; // timeline resolution
	const TIMELINE_S = 300; // seconds of timeline kept
	const MAX_PAYLOAD = 65536;
	const MAX_HOSTS = 4096;
	const MAX_INSTS = 1024;
	const MAX_LOG = 2000;
	const LOG_SHOWN = 300;
	const MAX_REACTIONS = 2000;
	const MAX_ONSETS = 32;
	const STALE_MIN_MS = 3000; // a host silent for max(this, 3 periods) is stale
	// The load generator's service (as onvm-top's -g; ?gen=N, 0 for none): the
	// offered load is what it sends, when one runs; else what reached the
	// instances (handled, dropped at their rings, unserved).
	const GEN_SERVICE = (() => {
		const gen = new URLSearchParams(location.search).get('gen');
		return gen !== null && /^[0-9]{1,5}$/.test(gen) && +gen <= 65535 ? +gen : 9;
	})();

	// ---- checks of untrusted values (docs/bus.md, "What every payload shares") ----

	const isInt = (x) => Number.isInteger(x) && x >= 0;
	const isNum = (x) => typeof x === 'number' && Number.isFinite(x) && x >= 0;
	const isName = (s) => typeof s === 'string' && /^[!-~]{1,63}$/.test(s) && !/[/+#]/.test(s);
	const isId = (s) => typeof s === 'string' && /^[!-~]{1,63}$/.test(s);
	const isText = (s) => typeof s === 'string' && s.length <= 255 && !/[\u0000-\u001f]/.test(s);
	const isSvc = (x) => Number.isInteger(x) && x >= 1 && x <= 65535;

	function check(ok, what) {
		if (!ok)
			throw new Error(what);
	}

	// ---- the model ----

	const model = {
		hosts: new Map(), // name -> host
		engines: new Map(), // id -> announcement
		log: [], // {ts, seq, kind, text, cls, cmdId}
		logDirty: false,
		reactions: new Map(), // cmd_id -> {decision, op, instance, spawned, failed}
		samples: [], // {t, per: Map service -> [offered, delivered, dropped, instances]}
		services: new Set(),
		latestDecisionService: 0,
		counters: { messages: 0, rejected: 0, renders: 0, lastReject: '', renderMs: 0, renderMaxMs: 0, messageMs: 0 },
	};
	let logSeq = 0;
	let hostsOrderDirty = false;

	function hostGet(name) {
		let host = model.hosts.get(name);
		if (host)
			return host;
		if (model.hosts.size >= MAX_HOSTS)
			throw new Error('more than ' + MAX_HOSTS + ' hosts');
		host = {
			name,
			status: 'unknown',
			epoch: 0,
			cores: null,
			version: '',
			services: new Map(), // service -> [{instance, core, state}]
			stats: null, // the latest: {ts, seq, period, insts: Map instance -> {...}}
			statsAt: 0, // performance.now() of its arrival
			firstRx: new Map(), // instance -> {ms, approx}
			sums: new Map(), // service -> {rx, tx, drop, unserved}
			onsets: new Map(), // service -> [{ms, how}]
			inRun: new Set(), // services overloaded in the latest stats
			dirty: true,
			view: null,
		};
		model.hosts.set(name, host);
		hostsOrderDirty = true;
		return host;
	}

	function addLog(ts, kind, text, cls, cmdId) {
		model.log.push({ ts, seq: logSeq++, kind, text, cls: cls || '', cmdId: cmdId || '' });
		if (model.log.length > MAX_LOG * 1.25)
			model.log.splice(0, model.log.length - MAX_LOG);
		model.logDirty = true;
	}

	function reaction(cmdId) {
		let r = model.reactions.get(cmdId);
		if (!r) {
			if (model.reactions.size >= MAX_REACTIONS)
				model.reactions.delete(model.reactions.keys().next().value);
			r = { decision: null, op: '', instance: 0, spawned: null, failed: '' };
			model.reactions.set(cmdId, r);
		}
		return r;
	}

	function pushOnset(host, service, ms, how) {
		let list = host.onsets.get(service);
		if (!list)
			host.onsets.set(service, (list = []));
		list.push({ ms, how });
		if (list.length > MAX_ONSETS)
			list.shift();
	}

	function hostStale(host, now) {
		if (host.status !== 'online' || !host.stats)
			return false;
		const bound = Math.max(STALE_MIN_MS, 3 * host.stats.period);
		return now - host.statsAt > bound;
	}

	// ---- messages ----

	function onState(host, m) {
		check(m.status === 'online' || m.status === 'offline', 'status');
		check(m.host === host.name, 'host differs from the topic');
		if (m.status === 'online') {
			check(isInt(m.epoch) && isInt(m.ts_ms), 'epoch/ts_ms');
			check(m.cores && isInt(m.cores.total) && isInt(m.cores.free) &&
			      m.cores.total <= 4096 && m.cores.free <= m.cores.total, 'cores');
			check(m.version === undefined || (isText(m.version) && m.version.length <= 63), 'version');
		}
		const was = host.status;
		host.status = m.status;
		if (m.status === 'online') {
			if (host.epoch && m.epoch !== host.epoch)
				addLog(m.ts_ms, 'state', host.name + ': restarted (new epoch)', 'bad');
			host.epoch = m.epoch;
			host.cores = { total: m.cores.total, free: m.cores.free };
			host.version = m.version || '';
		} else {
			host.stats = null;
			host.sums.clear();
		}
		if (was !== m.status)
			addLog(m.ts_ms || Date.now(), 'state', host.name + ': ' + m.status,
			       m.status === 'offline' ? 'bad' : '');
		host.dirty = true;
	}

	function onServices(host, m) {
		const map = new Map();
		if (m !== null) {
			check(m.host === host.name, 'host differs from the topic');
			check(isInt(m.ts_ms) && m.services && typeof m.services === 'object' &&
			      !Array.isArray(m.services), 'services');
			let n = 0;
			for (const key of Object.keys(m.services)) {
				check(/^[1-9][0-9]{0,4}$/.test(key) && isSvc(+key), 'service key ' + key);
				const list = m.services[key];
				check(Array.isArray(list), 'services.' + key);
				const insts = [];
				for (const i of list) {
					check(i && Number.isInteger(i.instance) && i.instance >= 1 &&
					      isInt(i.core) && i.core <= 65535 &&
					      ['starting', 'running', 'stopping'].includes(i.state), 'instance');
					check(++n <= MAX_INSTS, 'too many instances');
					insts.push({ instance: i.instance, core: i.core, state: i.state });
				}
				map.set(+key, insts);
				model.services.add(+key);
			}
		}
		host.services = map;
		host.dirty = true;
	}

	function onStats(host, m, now) {
		check(m.host === host.name, 'host differs from the topic');
		check(isInt(m.ts_ms) && isInt(m.seq) && isInt(m.period_ms) && m.period_ms >= 10 &&
		      m.period_ms <= 600000, 'ts_ms/seq/period_ms');
		check(Array.isArray(m.ports) && m.ports.length <= 64, 'ports');
		check(Array.isArray(m.instances) && m.instances.length <= MAX_INSTS, 'instances');
		check(m.unserved === undefined || (Array.isArray(m.unserved) && m.unserved.length <= 256),
		      'unserved');
		if (host.stats && m.ts_ms < host.stats.ts)
			return; // older than what is shown
		const insts = new Map();
		const sums = new Map();
		const sum = (svc) => {
			let s = sums.get(svc);
			if (!s)
				sums.set(svc, (s = { rx: 0, tx: 0, drop: 0, unserved: 0 }));
			return s;
		};
		for (const i of m.instances) {
			check(i && Number.isInteger(i.instance) && i.instance >= 1 && isSvc(i.service) &&
			      isInt(i.core) && isNum(i.rx_pps) && isNum(i.tx_pps) && isNum(i.drop_pps) &&
			      isNum(i.ring_fill) && i.ring_fill <= 1, 'instance');
			check(i.first_rx_ms === undefined || isInt(i.first_rx_ms), 'first_rx_ms');
			insts.set(i.instance, {
				service: i.service, core: i.core, rx: i.rx_pps, tx: i.tx_pps,
				drop: i.drop_pps, fill: i.ring_fill,
			});
			const s = sum(i.service);
			s.rx += i.rx_pps;
			s.tx += i.tx_pps;
			s.drop += i.drop_pps;
			if (!host.firstRx.has(i.instance)) {
				if (i.first_rx_ms !== undefined)
					host.firstRx.set(i.instance, { ms: i.first_rx_ms, approx: false });
				else if (i.rx_pps > 0)
					host.firstRx.set(i.instance, { ms: m.ts_ms, approx: true });
			} else if (host.firstRx.get(i.instance).approx && i.first_rx_ms !== undefined) {
				host.firstRx.set(i.instance, { ms: i.first_rx_ms, approx: false });
			}
			model.services.add(i.service);
		}
		for (const u of m.unserved || []) {
			check(u && isSvc(u.service) && isNum(u.pps), 'unserved');
			sum(u.service).unserved += u.pps;
			model.services.add(u.service);
		}
		if (host.firstRx.size > 4 * MAX_INSTS) // instance ids are never reused: forget the oldest
			host.firstRx.delete(host.firstRx.keys().next().value);
		// An overloaded run of a service starts with its first period with drops.
		for (const [svc, s] of sums) {
			if (s.drop > 0 && !host.inRun.has(svc)) {
				host.inRun.add(svc);
				pushOnset(host, svc, m.ts_ms, 'stats');
			}
		}
		for (const svc of [...host.inRun])
			if (!(sums.has(svc) && sums.get(svc).drop > 0))
				host.inRun.delete(svc);
		host.stats = { ts: m.ts_ms, seq: m.seq, period: m.period_ms, insts };
		host.statsAt = now;
		host.sums = sums;
		host.dirty = true;
	}

	function onAlarm(host, m) {
		check(m.host === host.name, 'host differs from the topic');
		check(isInt(m.ts_ms) && isSvc(m.service) && Number.isInteger(m.instance) && m.instance >= 1 &&
		      isNum(m.drop_pps) && isNum(m.ring_fill) && m.ring_fill <= 1 && isInt(m.since_ms), 'alarm');
		pushOnset(host, m.service, m.since_ms, 'alarm');
		addLog(m.ts_ms, 'alarm', host.name + ': alarm: service ' + m.service + ' instance ' +
		       m.instance + ' overloaded (drops ' + Math.round(m.drop_pps) + ' pps, ring ' +
		       m.ring_fill.toFixed(2) + ')', 'bad');
	}

	const EVENTS = ['spawned', 'rejected', 'stopped', 'exited'];

	function onEvent(host, m) {
		check(m.host === host.name, 'host differs from the topic');
		check(isInt(m.ts_ms) && EVENTS.includes(m.event) && isInt(m.service) && m.service <= 65535,
		      'event');
		check(m.cmd_id === undefined || isId(m.cmd_id), 'cmd_id');
		check(m.instance === undefined || (Number.isInteger(m.instance) && m.instance >= 1), 'instance');
		check(m.core === undefined || isInt(m.core), 'core');
		check(m.error === undefined || isText(m.error), 'error');
		let text = host.name + ': ' + m.event + ' service ' + m.service;
		if (m.instance !== undefined)
			text += ' instance ' + m.instance;
		if (m.core !== undefined)
			text += ' on core ' + m.core;
		if (m.error !== undefined)
			text += ': ' + m.error;
		if (m.cmd_id !== undefined)
			text += ' (' + m.cmd_id + ')';
		addLog(m.ts_ms, 'event', text, m.event === 'spawned' ? '' : 'bad', m.cmd_id);
		if (m.cmd_id === undefined)
			return;
		const r = reaction(m.cmd_id);
		if (m.event === 'spawned' && !r.spawned)
			r.spawned = { ts: m.ts_ms, host: host.name, instance: m.instance || 0 };
		else if ((m.event === 'rejected' || m.event === 'exited') && !r.spawned && !r.failed)
			r.failed = m.event + (m.error ? ': ' + m.error : '');
		model.logDirty = true;
	}

	function onCmd(host, m) {
		check(isId(m.id) && (m.op === 'spawn' || m.op === 'stop') && isSvc(m.service), 'cmd');
		check(m.instance === undefined || (Number.isInteger(m.instance) && m.instance >= 1), 'instance');
		const r = reaction(m.id);
		r.op = m.op;
		r.instance = m.instance || 0;
		model.logDirty = true;
	}

	function onDecision(m) {
		check(isName(m.engine) && isInt(m.ts_ms) && isSvc(m.service), 'decision');
		check(m.origin === null || isName(m.origin), 'origin');
		check(m.target === null || isName(m.target), 'target');
		check(m.cmd_id === undefined || isId(m.cmd_id), 'cmd_id');
		check(isText(m.reason) && typeof m.shadow === 'boolean', 'reason/shadow');
		const d = {
			engine: m.engine, ts: m.ts_ms, service: m.service, origin: m.origin,
			target: m.target, reason: m.reason, shadow: m.shadow, cmdId: m.cmd_id || '',
		};
		model.services.add(m.service);
		if (m.shadow) {
			addLog(m.ts_ms, 'shadow', m.engine + ' (shadow): service ' + m.service + ' -> ' +
			       (m.target || 'no host') + ': ' + m.reason, 'shadow');
			return;
		}
		model.latestDecisionService = m.service;
		const entry = { ts: m.ts_ms, seq: logSeq++, kind: 'decision', decision: d,
				cls: m.target === null ? 'nohost' : 'decision', cmdId: d.cmdId };
		if (d.cmdId)
			reaction(d.cmdId).decision = d;
		model.log.push(entry);
		model.logDirty = true;
	}

	function onEngine(id, m) {
		check(m.status === 'online' || m.status === 'offline', 'status');
		const was = model.engines.get(id);
		model.engines.set(id, { status: m.status, name: isText(m.name) ? m.name : '' });
		if (!was || was.status !== m.status)
			addLog(Date.now(), 'engine', 'policy ' + id + ': ' + m.status +
			       (isText(m.name) ? ' (' + m.name + ')' : ''), m.status === 'offline' ? 'bad' : '');
	}

	const decoder = new TextDecoder('utf-8', { fatal: true });

	function onMessage(topic, payload, retained) {
		model.counters.messages++;
		try {
			check(payload.length <= MAX_PAYLOAD, 'payload over 64 KiB');
			const parts = topic.split('/');
			check(parts[0] === 'onvm', 'not under onvm');
			const text = payload.length ? decoder.decode(payload) : '';
			if (parts[1] === 'hosts' && parts.length === 4) {
				check(isName(parts[2]), 'host name');
				if (parts[3] === 'services' && text === '') // a cleared map
					return onServices(hostGet(parts[2]), null);
				const m = JSON.parse(text);
				check(m && typeof m === 'object' && m.v === 1, 'v: expected 1');
				const host = hostGet(parts[2]);
				switch (parts[3]) {
				case 'state': return onState(host, m);
				case 'services': return onServices(host, m);
				case 'stats': return onStats(host, m, performance.now());
				case 'alarms': return retained ? undefined : onAlarm(host, m);
				case 'events': return onEvent(host, m);
				case 'cmd': return onCmd(host, m);
				}
				return;
			}
			if (text === '')
				return;
			const m = JSON.parse(text);
			check(m && typeof m === 'object' && m.v === 1, 'v: expected 1');
			if (parts[1] === 'policy' && parts[2] === 'decisions' && parts.length === 3)
				return onDecision(m);
			if (parts[1] === 'policy' && parts[2] === 'engines' && parts.length === 4 && isName(parts[3]))
				return onEngine(parts[3], m);
		} catch (err) {
			model.counters.rejected++;
			model.counters.lastReject = topic + ': ' + err.message;
		}
	}

	// ---- the timeline: sample-and-hold of every live host's latest rates ----

	function sample() {
		const now = performance.now();
		const per = new Map();
		let genTx = 0, hasGen = false;
		const get = (svc) => {
			let a = per.get(svc);
			if (!a)
				per.set(svc, (a = [0, 0, 0, 0]));
			return a;
		};
		for (const host of model.hosts.values()) {
			if (host.status !== 'online')
				continue;
			for (const [svc, insts] of host.services) {
				if (svc === GEN_SERVICE)
					continue;
				const a = get(svc);
				for (const i of insts)
					if (i.state !== 'stopping')
						a[3]++;
			}
			if (!host.stats || hostStale(host, now))
				continue;
			for (const [svc, s] of host.sums) {
				if (svc === GEN_SERVICE) {
					genTx += s.tx;
					hasGen = true;
					continue;
				}
				const a = get(svc);
				a[0] += s.rx + s.drop + s.unserved;
				a[1] += s.tx;
				a[2] += s.drop + s.unserved;
			}
		}
		model.samples.push({ t: Date.now() / 1000, per, genTx, hasGen });
		const keep = (TIMELINE_S * 1000) / SAMPLE_MS;
		if (model.samples.length > keep * 1.1)
			model.samples.splice(0, model.samples.length - keep);
		chartDirty = true;
	}

	// ---- reaction times (onset -> decision -> spawned -> first packet) ----

	// The onset a decision answered: on its origin, the latest alarm (else the
	// latest start of an overloaded run) after the previous decision for the
	// same service and origin, and not after this one.
	function onsetOf(d) {
		if (!d.origin)
			return null;
		const host = model.hosts.get(d.origin);
		const list = host && host.onsets.get(d.service);
		if (!list)
			return null;
		let floor = -1;
		for (const e of model.log)
			if (e.kind === 'decision' && e.decision !== d && e.decision.service === d.service &&
			    e.decision.origin === d.origin && e.decision.ts < d.ts && e.decision.ts > floor)
				floor = e.decision.ts;
		let alarm = null, run = null;
		for (const o of list) {
			if (o.ms <= floor || o.ms > d.ts)
				continue;
			if (o.how === 'alarm' && (!alarm || o.ms > alarm.ms))
				alarm = o;
			if (o.how === 'stats' && (!run || o.ms > run.ms))
				run = o;
		}
		return alarm || run;
	}

	function reactionTimes(d) {
		const r = d.cmdId ? model.reactions.get(d.cmdId) : null;
		const onset = onsetOf(d);
		const out = { onset, toDecision: '', toSpawned: '', toFirst: '', failed: '' };
		const rel = (ms) => (onset ? '+' + (ms - onset.ms) + ' ms' : 'at ' + clock(ms));
		out.toDecision = onset ? d.ts - onset.ms + ' ms' : 'onset not seen';
		if (!r)
			return out;
		out.failed = r.failed;
		if (r.spawned) {
			out.toSpawned = rel(r.spawned.ts);
			const host = model.hosts.get(r.spawned.host);
			const first = host && host.firstRx.get(r.spawned.instance);
			if (first)
				out.toFirst = (first.approx ? '~' : '') + rel(first.ms);
			else
				out.toFirst = 'waiting';
		} else if (!r.failed && r.op !== 'stop') {
			out.toSpawned = 'waiting';
		}
		return out;
	}

	// ---- drawing ----

	const $ = (id) => document.getElementById(id);
	const el = (tag, cls, text) => {
		const e = document.createElement(tag);
		if (cls)
			e.className = cls;
		if (text !== undefined)
			e.textContent = text;
		return e;
	};
	const setText = (e, text) => {
		if (e.textContent !== text)
			e.textContent = text;
	};
	const fmtRate = (x) => (x >= 1e6 ? (x / 1e6).toFixed(2) + 'M' : x >= 1e4 ? (x / 1e3).toFixed(1) + 'k' : String(Math.round(x)));
	const pad = (n, w) => String(n).padStart(w, '0');
	function clock(ms) {
		const t = new Date(ms);
		return pad(t.getHours(), 2) + ':' + pad(t.getMinutes(), 2) + ':' + pad(t.getSeconds(), 2) +
		       '.' + pad(t.getMilliseconds(), 3);
	}
	const natural = new Intl.Collator(undefined, { numeric: true });

	let chart = null;
	let chartDirty = false;

	function chosenService() {
		const pick = $('service-pick').value;
		if (pick === 'all')
			return 0;
		if (pick === 'auto')
			return model.latestDecisionService;
		return +pick;
	}

	function markerPlugin() {
		return {
			hooks: {
				draw: (u) => {
					const svc = chosenService();
					const [x0, x1] = [u.scales.x.min, u.scales.x.max];
					const ctx = u.ctx;
					ctx.save();
					ctx.lineWidth = 2 * devicePixelRatio;
					for (const e of model.log) {
						if (e.kind !== 'decision' || (svc && e.decision.service !== svc))
							continue;
						const t = e.decision.ts / 1000;
						if (t < x0 || t > x1)
							continue;
						const r = e.cmdId ? model.reactions.get(e.cmdId) : null;
						ctx.strokeStyle = e.decision.target === null ? '#c53030'
							: r && r.op === 'stop' ? '#718096' : '#2f855a';
						const x = Math.round(u.valToPos(t, 'x', true));
						ctx.beginPath();
						ctx.moveTo(x, u.bbox.top);
						ctx.lineTo(x, u.bbox.top + u.bbox.height);
						ctx.stroke();
					}
					ctx.restore();
				},
			},
		};
	}

	function makeChart() {
		const box = $('chart');
		const opts = {
			width: Math.max(300, box.clientWidth),
			height: 220,
			plugins: [markerPlugin()],
			scales: { x: { time: true }, pps: { auto: true }, n: { range: (u, lo, hi) => [0, Math.max(2, hi + 1)] } },
			series: [
				{},
				{ label: 'offered pps', scale: 'pps', stroke: '#3182ce', width: 1.5, points: { show: false } },
				{ label: 'delivered pps', scale: 'pps', stroke: '#2f855a', width: 1.5, points: { show: false } },
				{ label: 'dropped pps', scale: 'pps', stroke: '#c53030', width: 1.5, points: { show: false } },
				{ label: 'instances', scale: 'n', stroke: '#805ad5', width: 2, points: { show: false },
				  paths: uPlot.paths.stepped({ align: 1 }) },
			],
			axes: [
				{},
				{ scale: 'pps', values: (u, vals) => vals.map(fmtRate), size: 60 },
				{ scale: 'n', side: 1, grid: { show: false }, size: 40 },
			],
		};
		chart = new uPlot(opts, [[], [], [], [], []], box);
		window.addEventListener('resize', () => chart.setSize({ width: Math.max(300, box.clientWidth), height: 220 }));
	}

	function drawChart() {
		const svc = chosenService();
		const n = model.samples.length;
		const t = new Array(n), off = new Array(n), del = new Array(n), drop = new Array(n), inst = new Array(n);
		for (let k = 0; k < n; k++) {
			const s = model.samples[k];
			t[k] = s.t;
			let a;
			if (svc) {
				a = s.per.get(svc) || [0, 0, 0, 0];
			} else {
				a = [0, 0, 0, 0];
				for (const v of s.per.values())
					for (let j = 0; j < 4; j++)
						a[j] += v[j];
			}
			off[k] = s.hasGen ? s.genTx : a[0];
			del[k] = a[1];
			drop[k] = a[2];
			inst[k] = a[3];
		}
		chart.setData([t, off, del, drop, inst]);
	}

	function syncServicePick() {
		const pick = $('service-pick');
		const have = new Set([...pick.options].map((o) => o.value));
		for (const svc of [...model.services].sort((a, b) => a - b)) {
			if (have.has(String(svc)))
				continue;
			const o = el('option', '', 'service ' + svc);
			o.value = String(svc);
			pick.appendChild(o);
		}
	}

	function hostView(host) {
		const card = el('div', 'host');
		card.dataset.host = host.name;
		const head = el('div', 'host-head');
		const v = {
			card,
			name: el('span', 'host-name', host.name),
			status: el('span', 'status'),
			cores: el('span', 'cores'),
			version: el('span', 'note'),
			age: el('span', 'note'),
			body: el('tbody'),
			rows: new Map(),
		};
		head.append(v.name, v.status, v.cores, v.version, v.age);
		const table = el('table', 'insts');
		const hr = el('tr');
		for (const [h, l] of [['svc', 1], ['inst', 1], ['core', 0], ['state', 1], ['rx pps', 0],
				      ['tx pps', 0], ['drop pps', 0], ['ring', 0]])
			hr.appendChild(el('th', l ? 'l' : '', h));
		table.append(el('thead'), v.body);
		table.tHead.appendChild(hr);
		card.append(head, table);
		return v;
	}

	function instRow() {
		const tr = el('tr');
		const cells = [];
		for (const l of [1, 1, 0, 1, 0, 0, 0, 0]) {
			const td = el('td', l ? 'l' : '');
			tr.appendChild(td);
			cells.push(td);
		}
		const fill = el('span', 'fill');
		const bar = el('i');
		fill.appendChild(bar);
		cells[7].append(fill, el('span', '', ''));
		return { tr, cells, fill, bar, key: '' };
	}

	function drawHost(host, now) {
		const v = host.view;
		const status = hostStatus(host, now);
		if (v.card.dataset.status !== status) {
			v.card.dataset.status = status;
			v.status.className = 'status status-' + status;
		}
		setText(v.status, status);
		setText(v.cores, host.cores ? host.cores.free + '/' + host.cores.total + ' cores free' : '');
		setText(v.version, host.version ? 'v' + host.version : '');
		setText(v.age, host.stats ? 'stats ' + ((now - host.statsAt) / 1000).toFixed(1) + ' s ago' : 'no stats');
		if (!host.dirty)
			return;
		host.dirty = false;
		// The rows: the service map's instances, and any the stats show first.
		const list = [];
		const seen = new Set();
		for (const [svc, insts] of host.services)
			for (const i of insts) {
				list.push({ svc, instance: i.instance, core: i.core, state: i.state });
				seen.add(i.instance);
			}
		if (host.stats)
			for (const [instance, s] of host.stats.insts)
				if (!seen.has(instance))
					list.push({ svc: s.service, instance, core: s.core, state: '' });
		list.sort((a, b) => a.svc - b.svc || a.instance - b.instance);
		const keep = new Set();
		let prev = null;
		for (const i of list) {
			keep.add(i.instance);
			let row = v.rows.get(i.instance);
			if (!row) {
				row = instRow();
				row.tr.dataset.instance = String(i.instance);
				v.rows.set(i.instance, row);
			}
			row.tr.dataset.service = String(i.svc);
			const expected = prev ? prev.tr.nextSibling : v.body.firstChild;
			if (expected !== row.tr)
				v.body.insertBefore(row.tr, expected);
			prev = row;
			const s = host.stats && host.stats.insts.get(i.instance);
			const c = row.cells;
			setText(c[0], String(i.svc));
			setText(c[1], String(i.instance));
			setText(c[2], String(i.core));
			// An offline host's instances are gone, whatever its last map said.
			setText(c[3], host.status === 'offline' ? 'gone' : i.state || 'in stats');
			setText(c[4], s ? fmtRate(s.rx) : '');
			setText(c[5], s ? fmtRate(s.tx) : '');
			setText(c[6], s ? fmtRate(s.drop) : '');
			c[6].className = s && s.drop > 0 ? 'drops' : '';
			const fill = s ? s.fill : 0;
			const width = Math.round(fill * 100) + '%';
			if (row.bar.style.width !== width)
				row.bar.style.width = width;
			row.fill.className = fill >= 0.8 ? 'fill hot' : 'fill';
			setText(row.cells[7].lastChild, s ? ' ' + fill.toFixed(2) : '');
		}
		for (const [instance, row] of v.rows)
			if (!keep.has(instance)) {
				row.tr.remove();
				v.rows.delete(instance);
			}
	}

	// Only the cards in (or near) view are drawn: at 200 hosts most are
	// scrolled away, and updating them would cost layout for nothing.  A card
	// coming into view is drawn from the model at the next render.
	const onScreen = new Set();
	let cardObserver = null;

	function hostStatus(host, now) {
		return hostStale(host, now) ? 'stale' : host.status;
	}

	function drawHosts(now) {
		const box = $('hosts');
		if (!cardObserver)
			cardObserver = new IntersectionObserver((entries) => {
				for (const e of entries) {
					const host = model.hosts.get(e.target.dataset.host);
					if (!host)
						continue;
					if (e.isIntersecting) {
						onScreen.add(host);
						host.dirty = true;
					} else {
						onScreen.delete(host);
					}
				}
				tick();
			}, { root: box, rootMargin: '300px' });
		if (hostsOrderDirty) {
			hostsOrderDirty = false;
			const names = [...model.hosts.keys()].sort(natural.compare);
			let prev = null;
			for (const name of names) {
				const host = model.hosts.get(name);
				if (!host.view) {
					host.view = hostView(host);
					cardObserver.observe(host.view.card);
				}
				const expected = prev ? prev.nextSibling : box.firstChild;
				if (expected !== host.view.card)
					box.insertBefore(host.view.card, expected);
				prev = host.view.card;
			}
		}
		let online = 0, stale = 0, offline = 0, insts = 0;
		for (const host of model.hosts.values()) {
			if (onScreen.has(host))
				drawHost(host, now);
			const st = hostStatus(host, now);
			if (st === 'online')
				online++;
			else if (st === 'stale')
				stale++;
			else if (st === 'offline')
				offline++;
			if (host.status === 'online')
				for (const list of host.services.values())
					insts += list.length;
		}
		setText($('hosts-summary'), online + ' online, ' + stale + ' stale, ' + offline + ' offline; ' +
			insts + ' instances');
	}

	function drawLog() {
		if (!model.logDirty)
			return;
		model.logDirty = false;
		model.log.sort((a, b) => a.ts - b.ts || a.seq - b.seq);
		const body = $('log');
		const frag = document.createDocumentFragment();
		for (let k = model.log.length - 1; k >= 0 && model.log.length - k <= LOG_SHOWN; k--) {
			const e = model.log[k];
			const tr = el('tr', e.cls);
			tr.dataset.kind = e.kind;
			if (e.cmdId)
				tr.dataset.cmd = e.cmdId;
			tr.appendChild(el('td', 't', clock(e.ts)));
			if (e.kind !== 'decision') {
				const td = el('td', '', e.text);
				td.colSpan = 4;
				tr.appendChild(td);
				frag.appendChild(tr);
				continue;
			}
			const d = e.decision;
			const r = d.cmdId ? model.reactions.get(d.cmdId) : null;
			let what;
			if (r && r.op === 'stop')
				what = 'stop service ' + d.service + ' instance ' + r.instance + ' on ' + d.target;
			else if (d.target === null)
				what = 'no host for service ' + d.service + (d.origin ? ' overloaded on ' + d.origin : '');
			else if (d.origin === null)
				what = 'repair: spawn service ' + d.service + ' on ' + d.target;
			else
				what = 'spawn service ' + d.service + ' on ' + d.target +
				       (d.origin === d.target ? ' (local)' : ' (remote, for ' + d.origin + ')');
			const td = el('td');
			td.append(el('b', '', 'decision ' + d.engine + ': ' + what), el('br'),
				  el('span', 'note', d.reason + (d.cmdId ? ' [' + d.cmdId + ']' : '')));
			tr.appendChild(td);
			const rt = reactionTimes(d);
			if (rt.failed) {
				tr.classList.add('bad');
				td.appendChild(el('div', '', rt.failed));
			}
			const stop = r && r.op === 'stop';
			tr.appendChild(el('td', 'ms', stop ? '' : rt.toDecision));
			const spawned = el('td', 'ms', rt.toSpawned);
			spawned.dataset.field = 'spawned';
			const first = el('td', 'ms', rt.toFirst);
			first.dataset.field = 'first';
			tr.append(spawned, first);
			frag.appendChild(tr);
		}
		body.replaceChildren(frag);
	}

	let connState = { state: 'idle', text: 'not connected' };

	function drawConn() {
		const c = $('conn');
		if (c.dataset.state !== connState.state) {
			c.dataset.state = connState.state;
			c.className = 'conn conn-' + connState.state;
			document.body.classList.toggle('stale', connState.state !== 'up');
		}
		setText(c, connState.text);
		setText($('counters'), model.hosts.size + ' hosts, ' + model.counters.messages + ' messages, ' +
			model.counters.rejected + ' rejected' +
			(model.counters.lastReject ? ' (last: ' + model.counters.lastReject.slice(0, 120) + ')' : ''));
	}

	let renderQueued = false;

	function render() {
		const now = performance.now();
		drawAll(now);
		const took = performance.now() - now;
		model.counters.renderMs += took;
		model.counters.renderMaxMs = Math.max(model.counters.renderMaxMs, took);
	}

	function drawAll(now) {
		renderQueued = false;
		model.counters.renders++;
		drawConn();
		if (!chart)
			return;
		syncServicePick();
		drawHosts(now);
		drawLog();
		if (chartDirty) {
			chartDirty = false;
			drawChart();
		}
	}

	function tick() {
		if (!renderQueued) {
			renderQueued = true;
			requestAnimationFrame(render);
		}
	}

	// ---- the connection ----

	let client = null;

	function setConn(state, text) {
		connState = { state, text };
		tick();
	}

	function connect(user, password) {
		if (client)
			client.end(true);
		if (!/^wss?:$/.test(location.protocol.replace('http', 'ws'))) {
			setConn('refused', 'open this page from the broker (http://127.0.0.1:WS_PORT/)');
			return;
		}
		const url = location.protocol.replace('http', 'ws') + '//' + location.host + '/mqtt';
		const suffix = Array.from(crypto.getRandomValues(new Uint8Array(4)), (b) => pad(b.toString(16), 2)).join('');
		let everUp = false;
		let downSince = 0;
		setConn('connecting', 'connecting to ' + location.host + ' as ' + user + ' ...');
		// The identity plugin binds client ids to the identity: "NAME/...".
		client = mqtt.connect(url, {
			username: user, password, clientId: user + '/dashboard-' + suffix, protocolVersion: 4,
			clean: true, keepalive: 10, reconnectPeriod: 2000, connectTimeout: 5000,
		});
		const me = client;
		client.on('connect', () => {
			everUp = true;
			downSince = 0;
			setConn('up', 'connected to ' + location.host + ' as ' + user);
			me.subscribe('onvm/#', { qos: 1 }, (err, granted) => {
				if (err || !granted || granted.some((g) => g.qos === 128))
					setConn('refused', 'subscription to onvm/# refused: is "' + user + '" a monitor identity?');
			});
			$('login').hidden = true;
			$('main').hidden = false;
			if (!chart)
				makeChart();
		});
		client.on('message', (topic, payload, packet) => {
			const start = performance.now();
			onMessage(topic, payload, packet.retain);
			model.counters.messageMs += performance.now() - start;
		});
		client.on('error', (err) => {
			// CONNACK 4 (bad user name or password) and 5 (not authorized).
			if (err && (err.code === 4 || err.code === 5)) {
				me.end(true);
				setConn('refused', 'identity "' + user + '" refused by the broker: ' + err.message);
				$('login').hidden = false;
				return;
			}
			if (connState.state !== 'refused')
				setConn('down', 'broker unreachable: ' + (err && err.message ? err.message : 'error'));
		});
		const lost = () => {
			if (me !== client || connState.state === 'refused')
				return;
			if (!downSince)
				downSince = Date.now();
			setConn('down', 'broker unreachable since ' + clock(downSince) +
				(everUp ? ' (data shown is from before)' : '') + '; retrying');
		};
		client.on('close', lost);
		client.on('offline', lost);
	}

	document.addEventListener('DOMContentLoaded', () => {
		$('login').addEventListener('submit', (ev) => {
			ev.preventDefault();
			const user = $('login-user').value.trim();
			const pass = $('login-pass').value;
			$('login-pass').value = '';
			connect(user, pass);
		});
		$('service-pick').addEventListener('change', () => {
			chartDirty = true;
			tick();
		});
		setInterval(sample, SAMPLE_MS);
		setInterval(tick, RENDER_MS);
		drawConn();
	});

	// For tests and benches: the model and its counters, read-only by agreement.
	window.onvmDashboard = { model, counters: model.counters, conn: () => connState };
})();
