/**
 * The shell every self-contained report shares: document head, inline CSS (no external
 * fonts, scripts or network), and the body.
 */
import { escapeXml } from './svg.ts';

export const REPORT_CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#222;max-width:1180px;margin:24px auto;padding:0 16px}
h1{font-size:22px;margin:0 0 8px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:3px}
p.headline{font-size:15px;background:#f4f7fb;border-left:4px solid #0072B2;padding:8px 12px}
table{border-collapse:collapse;font-size:12px;font-variant-numeric:tabular-nums}
th,td{padding:3px 7px;border-bottom:1px solid #e4e4e4;text-align:right;white-space:nowrap}
th{background:#f6f6f6;font-weight:600;vertical-align:bottom;white-space:normal;min-width:2.5em;max-width:6.5em}td.l,th.l{text-align:left}
td.ok{color:#009E73;font-weight:700;text-align:center}td.no{color:#D55E00;font-weight:700;text-align:center}
.scroll{overflow-x:auto}figure{margin:14px 0}figcaption{font-size:12px;color:#555;margin-top:2px}
.row{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}svg{max-width:100%;height:auto}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;font-size:13px}dt{color:#555}dd{margin:0}
pre{background:#f6f6f6;padding:10px;font-size:12px;overflow-x:auto}code{font-size:12px}
footer{margin-top:32px;border-top:1px solid #ddd;color:#333}`;

export function htmlDocument(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(title)}</title><style>${REPORT_CSS}</style></head><body>
${body}
</body></html>
`;
}
