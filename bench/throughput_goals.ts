/**
 * Issue 14's goals as rows of one table (bench/throughput.ts): each compares one figure of
 * ours with one reference (a peer, a bound, or another figure of ours) by the ratio
 * ours / reference, against a target that ratio must not exceed (times) or must reach
 * (rates). Rows without a target are context (`info`). Here too: which products count as
 * skinny or long-k, and the table's text and CSV forms.
 */
import { formatTable } from './harness.ts';

export interface Target {
  /** '≤': ours / reference must not exceed `value` (a time); '≥': must reach it (a rate). */
  op: '≤' | '≥';
  value: number;
}

export type Met = 'yes' | 'no' | 'missing' | 'info';

export interface GoalRow {
  goal: string;
  unit: string;
  ours: number | null;
  /** What the reference figure is: "PyTorch 2T", "roofline", "ours 1T", … */
  against: string;
  reference: number | null;
  ratio: number | null;
  target: Target | null;
  met: Met;
}

const usable = (x: number | null | undefined): x is number => typeof x === 'number' && Number.isFinite(x) && x > 0;

/** A row: its ratio is ours / reference when both were measured, and `met` follows from the target. */
export function goalRow(
  goal: string,
  unit: string,
  ours: number | null,
  against: string,
  reference: number | null,
  target: Target | null,
): GoalRow {
  const ratio = usable(ours) && usable(reference) ? ours / reference : null;
  const met: Met = target === null
    ? 'info'
    : ratio === null
    ? 'missing'
    : (target.op === '≤' ? ratio <= target.value : ratio >= target.value)
    ? 'yes'
    : 'no';
  return { goal, unit, ours: usable(ours) ? ours : null, against, reference: usable(reference) ? reference : null, ratio, target, met };
}

export interface ProductDims {
  batch: number;
  m: number;
  n: number;
  k: number;
}

/**
 * The products the issue singles out as slow: skinny (an output or inner dimension of at
 * most 16, e.g. a 10-class layer or a 6-channel convolution) or long-k (an inner dimension
 * at least 4× the output's larger side: weight gradients summed over batch × positions).
 * Square-ish products (all sides > 16, k short) are what the 1024² rate already measures.
 */
export function productClass(d: ProductDims): 'skinny' | 'long-k' | null {
  if (Math.min(d.m, d.n, d.k) <= 16) return 'skinny';
  if (d.k >= 4 * Math.max(d.m, d.n)) return 'long-k';
  return null;
}

export interface ProductTiming {
  shape: string;
  dims: ProductDims;
  msPerStep: number;
  gflops: number;
}

/**
 * The skinny and long-k products of one step and their joint rate (their FLOPs over their
 * time: the rate that sets how long they take), or null when the step has none.
 */
export function skinnyLongKRate(
  products: readonly ProductTiming[],
): { gflops: number; members: (ProductTiming & { class: string })[] } | null {
  const members = products.flatMap((p) => {
    const c = productClass(p.dims);
    return c ? [{ ...p, class: c }] : [];
  });
  const ms = members.reduce((a, p) => a + p.msPerStep, 0);
  const gflop = members.reduce((a, p) => a + (p.gflops * p.msPerStep) / 1000, 0);
  return members.length && ms > 0 ? { gflops: gflop / (ms / 1000), members } : null;
}

/** Four significant digits (whole numbers from 1000 on), or '—' for a missing figure. */
export function fig(x: number | null): string {
  if (x === null || !Number.isFinite(x)) return '—';
  return Math.abs(x) >= 1000 ? x.toFixed(0) : x.toPrecision(4);
}

const ratioText = (r: number | null): string => (r === null ? '—' : r.toFixed(3));
const targetText = (t: Target | null): string => (t ? `${t.op} ${t.value.toFixed(2)}` : '');

export const GOAL_HEADERS = ['goal', 'unit', 'ours', 'against', 'reference', 'ratio', 'target', 'met'];

function cells(r: GoalRow): string[] {
  return [r.goal, r.unit, fig(r.ours), r.against, fig(r.reference), ratioText(r.ratio), targetText(r.target), r.met];
}

/** The goals as a text table (ratio = ours / reference, from the unrounded figures). */
export function goalTable(rows: readonly GoalRow[]): string {
  return formatTable(GOAL_HEADERS, rows.map(cells));
}

/** The same rows as CSV (RFC 4180 quoting), with the unrounded figures. */
export function goalCsv(rows: readonly GoalRow[]): string {
  const quote = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const num = (x: number | null): string => (x === null ? '' : String(x));
  const lines = rows.map((r) =>
    [
      r.goal,
      r.unit,
      num(r.ours),
      r.against,
      num(r.reference),
      num(r.ratio),
      r.target ? r.target.op : '',
      r.target ? String(r.target.value) : '',
      r.met,
    ].map(quote).join(',')
  );
  return ['goal,unit,ours,against,reference,ratio,target_op,target,met', ...lines].join('\n') + '\n';
}
