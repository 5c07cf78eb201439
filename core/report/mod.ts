/** Report writers: CSV tables, SVG plotting primitives and the self-contained HTML report. */
export { cellsCsv, curvesCsv, csvField, toCsv, CELL_COLUMNS, CURVE_COLUMNS } from './csv.ts';
export { forkReportHtml } from './html.ts';
export { sweepReportHtml } from './sweep_html.ts';
export { exampleForkResult, exampleErrorBarrier, type ExampleOptions } from './example.ts';
export * from './svg.ts';
