import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderBarChart, renderHeadlineChart } from '../src/chart.ts';

const widths = (svg: string): number[] =>
  [...svg.matchAll(/<rect x="\d+" y="\d+" width="([\d.]+)" height="16"/g)].map((match) => Number(match[1]));

test('bars are proportional to their values within a panel, each panel to its own scale', () => {
  const svg = renderBarChart(
    'title',
    ['note'],
    [
      {
        title: 'a',
        bars: [
          { label: 'x', value: 100, highlight: false },
          { label: 'y', value: 50, highlight: true },
        ],
      },
      { title: 'b', bars: [{ label: 'z', value: 7, highlight: false }] },
    ],
  );
  const [x, y, z] = widths(svg);
  assert.ok(x !== undefined && y !== undefined && z !== undefined);
  assert.equal(y / x, 0.5);
  assert.equal(z, x, 'the largest bar of every panel spans the full width');
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(svg, /<\/svg>\n$/);
  assert.match(svg, />50<\/text>/, 'the value is printed beside its bar');
});

test('labels and titles are escaped for XML', () => {
  const svg = renderBarChart(
    'a < b & "c"',
    [],
    [{ title: '<t>', bars: [{ label: 'x & y', value: 1, highlight: false }] }],
  );
  assert.match(svg, /a &lt; b &amp; &quot;c&quot;/);
  assert.match(svg, /&lt;t&gt;/);
  assert.match(svg, /x &amp; y/);
  assert.doesNotMatch(svg, /x & y/);
});

test('no chart without a full verify or me result', () => {
  assert.equal(renderHeadlineChart(undefined, undefined), undefined);
});

test('the headline chart has a panel per algorithm and one for GET /auth/me, cached rows left out', () => {
  const summary = (median: number) => ({ median, min: median, max: median, spread: 0, runs: [median] });
  const row = (alg: string, name: string, median: number, cache = false) => ({
    alg,
    name,
    cache,
    opsPerSecond: summary(median),
    cores: 1,
    toRaw: undefined,
  });
  const load = (median: number) => ({
    requestsPerSecond: summary(median),
    p50: 1,
    p99: 2,
    p99Runs: [2],
    failures: 0,
  });
  const svg = renderHeadlineChart(
    {
      startedAt: 'run-1',
      result: {
        tokens: 1,
        runMs: 1,
        runs: 1,
        inFlight: 64,
        serial: [
          row('RS256', 'raw node:crypto (sync)', 100),
          row('RS256', 'tessera verifier (sync)', 80),
          row('RS256', 'fast-jwt (cache on)', 1000, true),
          row('HS256', 'raw node:crypto (sync)', 300),
        ],
        concurrent: [],
      },
    },
    {
      startedAt: 'run-2',
      result: {
        alg: 'RS256',
        connections: 50,
        duration: 1,
        runs: 1,
        rows: [
          { name: 'tessera', what: '', load: load(5000), toRawRoute: undefined, toBare: undefined },
          { name: 'better-auth', what: '', load: load(500), toRawRoute: undefined, toBare: undefined },
        ],
      },
    },
  );
  assert.ok(svg);
  assert.match(svg, /Verify one RS256 token/);
  assert.match(svg, /Verify one HS256 token/);
  assert.match(svg, /Protected request \(RS256\)/);
  assert.doesNotMatch(svg, /cache on/);
  assert.match(svg, /run-1 and run-2/);
  assert.deepEqual(widths(svg).length, 5);
});
