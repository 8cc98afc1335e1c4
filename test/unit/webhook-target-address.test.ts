import test from 'ava';

import { classifyAddress, refuseTargetUrl, type AddressClass } from '../../src/webhooks/target-address.js';

/** The webhook target classifier (docs/webhooks.md, "Safety"): what may be sent to, with and without the setting. */

test('public, private and forbidden addresses, IPv4 and IPv6', (t) => {
  const cases: [string, AddressClass][] = [
    ['93.184.216.34', 'public'],
    ['8.8.8.8', 'public'],
    ['2606:4700::1111', 'public'],
    ['172.15.255.255', 'public'],
    ['172.32.0.1', 'public'],
    ['100.128.0.1', 'public'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.254', 'private'],
    ['192.168.1.1', 'private'],
    ['127.0.0.1', 'private'],
    ['127.8.9.10', 'private'],
    ['100.64.0.1', 'private'],
    ['::1', 'private'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['169.254.169.254', 'forbidden'],
    ['169.254.0.1', 'forbidden'],
    ['fe80::1', 'forbidden'],
    ['fe80::1%eth0', 'forbidden'],
    ['febf::1', 'forbidden'],
    ['0.0.0.0', 'forbidden'],
    ['0.1.2.3', 'forbidden'],
    ['::', 'forbidden'],
    ['224.0.0.1', 'forbidden'],
    ['255.255.255.255', 'forbidden'],
    ['ff02::1', 'forbidden'],
    // IPv4-mapped IPv6 reaches the IPv4 host: classified as that host.
    ['::ffff:169.254.169.254', 'forbidden'],
    ['::ffff:a9fe:a9fe', 'forbidden'],
    ['::ffff:127.0.0.1', 'private'],
    ['::ffff:7f00:1', 'private'],
    ['::ffff:8.8.8.8', 'public'],
    ['[::1]', 'private'],
    ['not-an-address', 'forbidden'],
  ];
  for (const [address, expected] of cases) t.is(classifyAddress(address), expected, address);
});

test('URLs: https only unless allowed; literal hosts and localhost checked; link-local never', (t) => {
  const refused = (url: string, allow = false) => refuseTargetUrl(new URL(url), allow);
  t.is(refused('https://hooks.example.com/x'), undefined);
  t.regex(refused('http://hooks.example.com/x')!, /must be https/);
  t.is(refused('http://hooks.example.com/x', true), undefined);
  t.regex(refused('ftp://hooks.example.com/x', true)!, /http or https/);
  t.regex(refused('https://user:pw@hooks.example.com/x')!, /user name/);
  t.regex(refused('https://127.0.0.1/x')!, /WEBHOOK_ALLOW_INSECURE_TARGETS/);
  t.is(refused('https://127.0.0.1/x', true), undefined);
  t.regex(refused('https://localhost:8443/x')!, /WEBHOOK_ALLOW_INSECURE_TARGETS/);
  t.regex(refused('https://api.localhost/x')!, /WEBHOOK_ALLOW_INSECURE_TARGETS/);
  t.regex(refused('https://[::1]/x')!, /WEBHOOK_ALLOW_INSECURE_TARGETS/);
  t.regex(refused('https://10.0.0.5/x')!, /WEBHOOK_ALLOW_INSECURE_TARGETS/);
  for (const url of [
    'http://169.254.169.254/latest/meta-data',
    'http://[fe80::1]/x',
    'http://0.0.0.0:3000/x',
    'http://[::]/x',
    'http://[::ffff:169.254.169.254]/x',
    // The URL parser reads these as 169.254.169.254 and 0.0.0.0.
    'http://2852039166/x',
    'http://0xa9.0xfe.0xa9.0xfe/x',
    'http://0/x',
  ]) {
    t.regex(refused(url, true)!, /never allowed/, url);
  }
});
