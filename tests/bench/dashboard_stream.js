// SPDX-License-Identifier: BSD-3-Clause
// dashboard_stream.js - a generated bus for tests/bench/dashboard.sh: HOSTS
// hosts of INSTS instances each, as docs/bus.md describes them (retained
// state and services, stats every PERIOD ms, a decision with its command,
// spawned event and first packet now and then), published as an identity
// that may write onvm/# (the bridge role).
//
//   node dashboard_stream.js URL USER PASS_FILE HOSTS INSTS PERIOD_MS
// Needs the mqtt package (NODE_PATH or a node_modules above).  Runs until
// killed; prints "streaming" once every host's retained messages are out.
'use strict';
const fs = require('fs');
const mqtt = require('mqtt');

const [url, user, passFile, hostsArg, instsArg, periodArg] = process.argv.slice(2);
const HOSTS = +hostsArg, INSTS = +instsArg, PERIOD = +periodArg;
if (!url || !user || !passFile || !(HOSTS > 0) || !(INSTS > 0) || !(PERIOD >= 10)) {
	console.error('usage: node dashboard_stream.js URL USER PASS_FILE HOSTS INSTS PERIOD_MS');
	process.exit(2);
}
const SERVICES = 4;
const client = mqtt.connect(url, {
	username: user, password: fs.readFileSync(passFile, 'utf8').trim(),
	clientId: user + '/stream-' + process.pid, protocolVersion: 4, clean: true,
});
client.on('error', (err) => { console.error('stream: ' + err.message); process.exit(1); });

const epoch = Date.now();
const hosts = [];
let nextInstance = 1;
for (let h = 1; h <= HOSTS; h++) {
	const insts = [];
	for (let k = 0; k < INSTS; k++)
		insts.push({ instance: nextInstance++, service: 1 + (k % SERVICES), core: 2 + k, first: 0 });
	hosts.push({ name: 'h' + h, insts, seq: 0, extra: [] });
}
const pub = (topic, msg, opts) => client.publish(topic, JSON.stringify(msg), opts || { qos: 0 });

function servicesOf(host) {
	const services = {};
	for (const i of host.insts.concat(host.extra)) {
		(services[i.service] = services[i.service] || []).push({ instance: i.instance, core: i.core, state: 'running' });
	}
	return services;
}

function announce(host) {
	const now = Date.now();
	pub('onvm/hosts/' + host.name + '/state', {
		v: 1, host: host.name, status: 'online', epoch, ts_ms: now,
		cores: { total: INSTS + 2, free: 2 - host.extra.length }, version: '0.9.0',
	}, { qos: 1, retain: true });
	pub('onvm/hosts/' + host.name + '/services', { v: 1, host: host.name, ts_ms: now, services: servicesOf(host) },
	    { qos: 1, retain: true });
}

function stats(host, index) {
	const now = Date.now();
	const t = now / 1000;
	const instances = host.insts.concat(host.extra).map((i) => {
		const rx = Math.round(50000 + 40000 * Math.sin(t / 7 + index + i.instance));
		const drop = rx > 85000 ? rx - 85000 : 0;
		if (!i.first)
			i.first = now;
		return {
			instance: i.instance, service: i.service, core: i.core, rx_pps: rx, tx_pps: rx,
			drop_pps: drop, ring_fill: Math.min(1, rx / 90000), busy: 1, first_rx_ms: i.first,
		};
	});
	published++;
	pub('onvm/hosts/' + host.name + '/stats', {
		v: 1, host: host.name, ts_ms: now, seq: host.seq++, period_ms: PERIOD,
		ports: [{ port: 0, rx_pps: 0, tx_pps: 0, drop_pps: 0 }], instances, unserved: [],
	});
}

let published = 0;
let since = Date.now();

// A scale-out every 5 s on a random host, answered out of order now and then.
let decisions = 0;
function scaleOut() {
	const host = hosts[Math.floor(Math.random() * hosts.length)];
	if (host.extra.length >= 2)
		host.extra.shift();
	const now = Date.now();
	const id = 'gen-' + now + '-' + ++decisions;
	const inst = { instance: nextInstance++, service: 1, core: 1, first: 0 };
	const decision = () => pub('onvm/policy/decisions', {
		v: 1, engine: 'gen', ts_ms: now, service: 1, origin: host.name, target: host.name, cmd_id: id,
		reason: 'service 1 overloaded on ' + host.name + ' (generated)', shadow: false,
	}, { qos: 1 });
	const spawned = () => pub('onvm/hosts/' + host.name + '/events', {
		v: 1, host: host.name, ts_ms: now + 40, cmd_id: id, event: 'spawned', service: 1,
		instance: inst.instance, core: 1,
	}, { qos: 1 });
	if (decisions % 2) { decision(); spawned(); } else { spawned(); decision(); }
	host.extra.push(inst);
	announce(host);
}

client.on('connect', () => {
	hosts.forEach(announce);
	console.log('streaming ' + HOSTS + ' hosts x ' + INSTS + ' instances every ' + PERIOD + ' ms');
	// Spread the hosts over the period, as independent managers are.
	hosts.forEach((host, index) => {
		setTimeout(() => setInterval(() => stats(host, index), PERIOD), (index * PERIOD) / HOSTS);
	});
	setInterval(scaleOut, 5000);
	setInterval(() => {
		const now = Date.now();
		console.log('published ' + ((published * 1000) / (now - since)).toFixed(1) + ' stats/s');
		published = 0;
		since = now;
	}, 10000);
});
