/**
 * lineChart's hover targets (the explorer's charts): every finite point gets exactly one,
 * carrying its x and y as the shortest text that reads back as the same double (what
 * JSON.stringify writes, so a tooltip shows result.json's number; −0 prints as 0, as JSON
 * writes it), and a frame from which the plot position of a value can be recovered;
 * without the option the SVG is unchanged from what the self-contained reports embed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { lineChart } from '../core/report/svg.ts';
import { RUNS } from './util.ts';

const value = fc.oneof(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), fc.constantFrom(NaN, Infinity));
const series = fc.array(
  fc.record({
    name: fc.string({ maxLength: 6 }),
    points: fc.array(fc.record({ x: fc.double({ noNaN: true, min: 0, max: 1 }), y: value }), { maxLength: 12 }),
  }),
  { minLength: 1, maxLength: 4 },
);

test('lineChart hoverTargets: one target per finite point with its exact values; positions invert through the frame', () => {
  fc.assert(
    fc.property(series, (ss) => {
      const svg = lineChart(ss, { hoverTargets: true });
      const targets = [
        ...svg.matchAll(
          /<circle class="hover-point" cx="([^"]+)" cy="([^"]+)"[^>]* data-series="(\d+)"[^>]* data-x="([^"]+)" data-y="([^"]+)"\/>/g,
        ),
      ];
      const finite = ss.flatMap((s, i) => s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)).map((p) => [i, p] as const));
      assert.equal(targets.length, finite.length);
      const frame = /data-frame="([^"]+)"/.exec(svg)?.[1].split(' ').map(Number);
      assert.ok(frame && frame.length === 8);
      const [left, top, pw, ph, x0, x1, y0, y1] = frame;
      targets.forEach((m, k) => {
        const [i, p] = finite[k];
        assert.equal(Number(m[3]), i);
        assert.ok(Number(m[4]) === p.x && m[4] === JSON.stringify(p.x), `x ${m[4]} vs ${p.x}`);
        assert.ok(Number(m[5]) === p.y && m[5] === JSON.stringify(p.y), `y ${m[5]} vs ${p.y}`);
        // Coordinates are rounded to 0.01 px: the frame maps them back to within that.
        const x = x0 + ((Number(m[1]) - left) / pw) * (x1 - x0);
        const y = y0 + ((top + ph - Number(m[2])) / ph) * (y1 - y0);
        assert.ok(Math.abs(x - p.x) <= (0.006 / pw) * Math.abs(x1 - x0) + 1e-12, `x ${x} vs ${p.x}`);
        assert.ok(Math.abs(y - p.y) <= (0.006 / ph) * Math.abs(y1 - y0) + 1e-9 * Math.abs(p.y), `y ${y} vs ${p.y}`);
      });
      assert.equal(
        lineChart(ss),
        svg.replace(/ data-frame="[^"]*"/, '').replace(/<circle class="hover-point"[^>]*\/>/g, ''),
        'without hoverTargets nothing else changes',
      );
    }),
    { numRuns: RUNS.kernel },
  );
});
