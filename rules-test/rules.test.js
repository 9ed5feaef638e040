'use strict';

// Offline tests of ../database.rules.json with targaryen, which evaluates
// Firebase Realtime Database rules the way the server does. Every client
// here is anonymous, as pypeer and gopeer are; the janitor authenticates
// with the database secret, which bypasses the rules.

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const targaryen = require('targaryen');

// Firebase takes comments in a rules file; they are whole lines starting
// with //, which JSON.parse does not, so they are dropped first.
const rulesSource = fs.readFileSync(path.join(__dirname, '..', 'database.rules.json'), 'utf8');
const rules = JSON.parse(rulesSource.split('\n').filter((line) => !/^\s*\/\//.test(line)).join('\n'));

const NOW = 1750000000000; // the server's clock, in ms
const MIN = 60 * 1000;

function signal(payload, timestamp) {
  return {payload, timestamp};
}

// The board before each case.
const data = {
  rooms: {
    ABC123: {offer: signal('offer-token', NOW - MIN)},
    ANS123: {offer: signal('offer-token', NOW - MIN), answer: signal('answer-token', NOW - MIN / 2)},
    OLD123: {offer: signal('old-offer', NOW - 60 * MIN)}
  },
  secret: 'not for anyone'
};

// client is an anonymous client of database d at the server time NOW
// (targaryen's operations default to the real clock).
function client(d) {
  return {
    database: d,
    read: (p, query) => d.read(p, {now: NOW, query}),
    write: (p, value) => d.write(p, value, {now: NOW}),
    update: (p, patch) => d.update(p, patch, {now: NOW})
  };
}

function db() {
  return client(targaryen.database(rules, data, NOW).as(null));
}

function allowed(result) {
  assert.ok(result.allowed, `${result.type} ${result.path} was denied:\n${result.info}`);
}

function denied(result) {
  assert.ok(!result.allowed, `${result.type} ${result.path} was allowed:\n${result.info}`);
}

test('the rules note their limit on staleness', () => {
  assert.match(rulesSource, /rules cannot know when a value was\s+\/\/\s+written/);
});

test('the rules declare the index the janitor queries', () => {
  assert.deepStrictEqual(rules.rules.rooms['.indexOn'], ['offer/timestamp']);
  targaryen.ruleset(rules); // and targaryen accepts the whole file
});

test('no one can list the rooms, or read outside them', () => {
  denied(db().read('/rooms'));
  denied(db().read('/rooms', {orderByChild: 'offer/timestamp', endAt: NOW, limitToFirst: 10}));
  denied(db().read('/rooms', {orderByKey: true, limitToFirst: 1}));
  denied(db().read('/'));
  denied(db().read('/secret'));
});

test('a room whose code is known can be read, whole or in part', () => {
  allowed(db().read('/rooms/ABC123'));
  allowed(db().read('/rooms/ABC123/offer'));
  allowed(db().read('/rooms/ANS123/answer'));
  allowed(db().read('/rooms/ZZZ999')); // not there yet: a joiner waits on it
});

test('a new offer or answer of the right shape can be written', () => {
  allowed(db().write('/rooms/NEW123/offer', signal('token', NOW)));
  allowed(db().write('/rooms/NEW123/offer', signal('t'.repeat(16384), NOW - 9 * MIN))); // a slow clock
  allowed(db().write('/rooms/NEW123/offer', signal('token', NOW + MIN))); // a fast one
  allowed(db().write('/rooms/ABC123/answer', signal('token', NOW)));
});

test('an offer or answer cannot be overwritten', () => {
  denied(db().write('/rooms/ABC123/offer', signal('another', NOW)));
  denied(db().write('/rooms/ABC123/offer', signal('offer-token', NOW))); // a new time
  denied(db().write('/rooms/ABC123/offer/payload', 'another'));
  denied(db().write('/rooms/ABC123/offer/timestamp', NOW));
  denied(db().write('/rooms/ANS123/answer', signal('another', NOW)));
});

test('an identical retry succeeds, and an offer the janitor would purge may be replaced', () => {
  // gopeer writes the same value again when an answer was lost in transit.
  allowed(db().write('/rooms/ABC123/offer', signal('offer-token', NOW - MIN)));
  // gopeer -host -room CODE reuses a code whose offer has expired.
  allowed(db().write('/rooms/OLD123/offer', signal('fresh', NOW)));
});

// The limit of Firebase rules: they cannot know when a slot was written,
// only what timestamp its writer put in it, which they bound to the last
// 10 minutes (and 2 ahead) at write time. So an offer stamped from 1970
// cannot be written at all, but one stamped 9.5 minutes back is written
// and may be replaced half a minute later. gopeer's own board judges by
// its own clock instead (TestBoardStaleByItsOwnClock).
test('staleness is judged by the writer\'s timestamp, bounded at write time', () => {
  denied(db().write('/rooms/NEW123/offer', signal('from 1970', 1)));
  const early = signal('stamped back', NOW - 9.5 * MIN);
  allowed(db().write('/rooms/NEW123/offer', early));
  const later = targaryen.database(rules, {rooms: {NEW123: {offer: early}}}, NOW).as(null);
  const result = later.write('/rooms/NEW123/offer', signal('a stranger', NOW + MIN), {now: NOW + MIN});
  assert.ok(result.allowed, `replacing an offer stamped 10.5 minutes back was denied:\n${result.info}`);
});

test('a bad shape is refused', () => {
  const bad = {
    'no timestamp': {payload: 'token'},
    'no payload': {timestamp: NOW},
    'another child': {payload: 'token', timestamp: NOW, sdp: 'v=0'},
    'payload a number': signal(42, NOW),
    'payload empty': signal('', NOW),
    'payload too long': signal('t'.repeat(16385), NOW),
    'timestamp a string': signal('token', String(NOW)),
    'timestamp too old': signal('token', NOW - 11 * MIN),
    'timestamp too far ahead': signal('token', NOW + 3 * MIN),
    'a bare string': 'token'
  };
  for (const [name, value] of Object.entries(bad)) {
    const result = db().write('/rooms/NEW123/offer', value);
    assert.ok(!result.allowed, `offer with ${name} was allowed`);
    assert.ok(!db().write('/rooms/ABC123/answer', value).allowed, `answer with ${name} was allowed`);
  }
});

test('rooms hold an offer and an answer under a pypeer room code, nothing else', () => {
  denied(db().write('/rooms/abc123/offer', signal('token', NOW)));
  denied(db().write('/rooms/ABC1234/offer', signal('token', NOW)));
  denied(db().write('/rooms/NEW123', {offer: signal('token', NOW)})); // slot by slot only
  denied(db().write('/rooms/ABC123/extra', 'x'));
  denied(db().write('/rooms/NEW456/answer', signal('token', NOW))); // no offer to answer
  denied(db().write('/elsewhere', 'x'));
  denied(db().write('/rooms', null));
});

test('a room, its offer or its answer can be deleted', () => {
  allowed(db().write('/rooms/ABC123', null));
  allowed(db().write('/rooms/ANS123/answer', null)); // a host clears a stranger's answer
  allowed(db().write('/rooms/ABC123/offer', null));
  allowed(db().update('/rooms', {ABC123: null, ANS123: null}));
  allowed(db().write('/rooms/ZZZ999', null)); // already gone: harmless
});

test("gopeer's whole flow, a stranger's answer included", () => {
  let d = db();
  const step = (result) => {
    allowed(result);
    d = client(result.newDatabase);
  };
  step(d.write('/rooms/K7P2M0/offer', signal('host-offer', NOW)));
  step(d.write('/rooms/K7P2M0/answer', signal('stranger', NOW + 1000)));
  denied(d.write('/rooms/K7P2M0/answer', signal('joiner', NOW + 2000))); // the slot is taken
  step(d.write('/rooms/K7P2M0/answer', null)); // the host clears it
  step(d.write('/rooms/K7P2M0/answer', signal('joiner', NOW + 3000)));
  step(d.write('/rooms/K7P2M0', null)); // connected: the room leaves the board
  assert.ok(!('K7P2M0' in d.database.root.rooms.$value()), 'the room is still there');
});
